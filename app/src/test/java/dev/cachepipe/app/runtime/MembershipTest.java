package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.config.CachepipeConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Pipeline#membership}: static member ids and session timeouts for Kafka Streams and the writer. */
class MembershipTest {
    private static final String ENTITIES = "entities:\n  user:\n    topics: [users.events]\n";

    @Test
    void shouldGiveStreamsTheInstanceIdAndTheWriterASuffixedOneWhenAnInstanceIdIsSet() {
        CachepipeConfig config = CachepipeConfig.parse("kafka:\n  instanceId: pod-0\n" + ENTITIES, Map.of());
        assertThat(Pipeline.membership(config.kafka(), ""))
                .containsEntry("group.instance.id", "pod-0")
                .containsEntry("session.timeout.ms", "10000")
                .containsEntry("heartbeat.interval.ms", "3000");
        assertThat(Pipeline.writerConfig(config, "localhost:9092").kafkaProperties())
                .containsEntry("group.instance.id", "pod-0-writer")
                .containsEntry("session.timeout.ms", "10000");
    }

    @Test
    void shouldStayDynamicAndLetKafkaPropertiesWinWhenNoInstanceIdIsSet() {
        CachepipeConfig config = CachepipeConfig.parse(
                "kafka:\n  sessionTimeout: 6s\n  properties: {heartbeat.interval.ms: '500'}\n" + ENTITIES, Map.of());
        assertThat(Pipeline.membership(config.kafka(), ""))
                .doesNotContainKey("group.instance.id")
                .doesNotContainKey("heartbeat.interval.ms")
                .containsEntry("session.timeout.ms", "6000");
        assertThat(Pipeline.writerConfig(config, "localhost:9092").kafkaProperties())
                .containsEntry("heartbeat.interval.ms", "500")
                .doesNotContainKey("group.instance.id");
    }
}
