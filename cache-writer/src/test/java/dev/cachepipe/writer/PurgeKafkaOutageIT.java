package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisTarget;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Kafka goes down between a purge's scan and its announcement (a broker of its own, stopped and started again): the
 * purge fails saying that Redis is purged and that it should be run again, and running it again once Kafka is back
 * changes nothing in Redis and announces the purge.
 */
class PurgeKafkaOutageIT {
    private static final int ENTRIES = 500;
    private static final String INVALIDATIONS = "po-invalidations";

    @Test
    void shouldSayRedisIsPurgedAndAnnounceWhenRunAgainAfterKafkaCameBack() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
                RedisServer redisServer = RedisServer.start()) {
            kafka.createTopic(INVALIDATIONS, 2, Map.of());
            RedisClient client = RedisClient.create(RedisURI.create(redisServer.uri()));
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                RedisCommands<String, String> redis = c.sync();
                for (int i = 0; i < ENTRIES; i++) {
                    redis.hset(RedisLayout.key("po", "product", Integer.toString(i)), Map.of("v", "3", "d", "x"));
                }
                WriterConfig config = WriterConfig.defaults(kafka.bootstrapServers(), "po-mutations", INVALIDATIONS)
                        .withGroupId("po-writer")
                        .withKeyPrefix("po")
                        .withKafkaProperties(Map.of("max.block.ms", "3000"));
                RedisTarget target = RedisTarget.of(RedisURI.create(redisServer.uri()));
                CachePurge.Request request = CachePurge.Request.now("product", "", Duration.ofMinutes(30));

                assertThatThrownBy(() -> CachePurge.run(
                                config,
                                target,
                                request,
                                new SimpleMeterRegistry(),
                                p -> {
                                    if (p.matched() == ENTRIES && kafka.isRunning()) {
                                        kafka.stop(); // the scan is over: Kafka goes before the announcement
                                    }
                                },
                                () -> false))
                        .isInstanceOf(KafkaException.class)
                        .hasMessageContaining("Redis is purged, but the purge of product could not be announced")
                        .hasMessageContaining("run the purge again");
                for (int i = 0; i < ENTRIES; i++) {
                    assertThat(redis.hgetall(RedisLayout.key("po", "product", Integer.toString(i))))
                            .isEqualTo(Map.of("v", "3", "inv", "1"));
                }

                kafka.start();
                assertThat(announcements(kafka))
                        .as("nothing announced while Kafka was down")
                        .isEmpty();
                CachePurge.Result again =
                        CachePurge.run(config, target, request, new SimpleMeterRegistry(), p -> {}, () -> false);

                assertThat(again.outcome()).isEqualTo(CachePurge.Outcome.COMPLETED);
                assertThat(again.progress().fenced()).isZero();
                assertThat(again.progress().unchanged()).isEqualTo(ENTRIES);
                assertThat(again.announcedPartitions()).isEqualTo(2);
                assertThat(announcements(kafka))
                        .hasSize(2)
                        .allSatisfy(r -> assertThat(r.headers().lastHeader(RedisLayout.PURGE_HEADER))
                                .isNotNull());
            } finally {
                client.shutdown();
            }
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> announcements(EmbeddedKafka kafka) {
        Properties p = new Properties();
        p.putAll(kafka.clientProperties());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions =
                    List.of(new TopicPartition(INVALIDATIONS, 0), new TopicPartition(INVALIDATIONS, 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long end = consumer.endOffsets(partitions).values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (out.size() < end && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
