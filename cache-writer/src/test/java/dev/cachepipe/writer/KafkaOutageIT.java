package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An idle writer notices a Kafka outage (poll() alone would not tell) and reports it, then recovers. */
class KafkaOutageIT {

    @Test
    void shouldReportUnhealthyWhenBrokerIsGoneWhileIdleAndRecoverWhenItReturns() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
                RedisServer redis = RedisServer.start()) {
            kafka.createTopic("outage.mutations", 1, Map.of("cleanup.policy", "compact"));
            kafka.createTopic("outage.invalidations", 1, Map.of());
            WriterConfig config = WriterConfig.defaults(
                            kafka.bootstrapServers(), "outage.mutations", "outage.invalidations")
                    .withGroupId("outage-writer")
                    .withRedisTimeout(Duration.ofMillis(300))
                    .withRetryBackoff(Duration.ofMillis(50), Duration.ofMillis(500));
            try (CacheWriter writer =
                    new CacheWriter(config, RedisURI.create(redis.uri()), new SimpleMeterRegistry())) {
                Thread runner = new Thread(writer::run, "kafka-outage-it-writer");
                runner.start();
                await().atMost(Duration.ofSeconds(30)).until(writer::healthy);

                kafka.stop();
                await().atMost(Duration.ofSeconds(30)).until(() -> !writer.healthy());
                assertThat(writer.healthReason()).contains("Kafka");

                kafka.start();
                await().atMost(Duration.ofSeconds(60)).until(writer::healthy);
                assertThat(runner.isAlive()).isTrue();
            }
        }
    }
}
