package dev.cachepipe.writer.internal.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.writer.WriterConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaClientsTest {
    private final WriterConfig config = WriterConfig.defaults("b:9092", "m", "i")
            .withGroupId("g")
            .withMaxBatchSize(77)
            .withKafkaProperties(Map.of(
                    "security.protocol", "SASL_SSL",
                    "max.poll.interval.ms", "5000",
                    "linger.ms", "20",
                    "auto.offset.reset", "latest",
                    "my.interceptor.setting", "x"));

    @Test
    void shouldForceCommitAndIsolationSettingsWhenBuildingConsumerConfig() {
        Map<String, Object> c = KafkaClients.liveConsumer(config);
        assertThat(c)
                .containsEntry("group.id", "g")
                .containsEntry("enable.auto.commit", false)
                .containsEntry("isolation.level", "read_committed")
                .containsEntry("max.poll.records", 77)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("max.poll.interval.ms", "5000")
                .containsEntry("auto.offset.reset", "latest")
                .containsEntry("my.interceptor.setting", "x")
                .doesNotContainKey("linger.ms");
    }

    @Test
    void shouldForceAcksAllAndIdempotenceWhenBuildingProducerConfig() {
        Map<String, Object> p = KafkaClients.producer(config);
        assertThat(p)
                .containsEntry("acks", "all")
                .containsEntry("enable.idempotence", true)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("linger.ms", "20")
                .containsEntry("my.interceptor.setting", "x")
                .doesNotContainKeys("max.poll.interval.ms", "auto.offset.reset");
    }

    @Test
    void shouldUseNoGroupAndForceReadCommittedWhenBuildingReplayConsumerConfig() {
        Map<String, Object> c = KafkaClients.replayConsumer(
                config.withKafkaProperties(Map.of("group.instance.id", "w-1", "security.protocol", "SSL")));
        assertThat(c)
                .doesNotContainKeys("group.id", "group.instance.id")
                .containsEntry("enable.auto.commit", false)
                .containsEntry("isolation.level", "read_committed")
                .containsEntry("auto.offset.reset", "earliest")
                .containsEntry("max.poll.records", 500)
                .containsEntry("security.protocol", "SSL");
        assertThat((String) c.get("client.id")).startsWith("cachepipe-rebuild-");
    }

    @Test
    void shouldPassOnlyAdminAndUnknownKeysWhenBuildingAdminConfig() {
        Map<String, Object> a = KafkaClients.admin(config);
        assertThat(a)
                .containsEntry("bootstrap.servers", "b:9092")
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("my.interceptor.setting", "x")
                .doesNotContainKeys("linger.ms", "max.poll.interval.ms", "auto.offset.reset");
    }
}
