package dev.cachepipe.topology.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.topology.CacheMode;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.topology.TopologyConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.Test;

/** Versions without a time (from the plain store of an earlier release) start their retention when first seen. */
class MutationProcessorPruneTest {
    private static final String STORE = "versions";

    @Test
    void shouldStartTheRetentionOfAVersionWithoutATimeInsteadOfForgettingIt() {
        TopologyConfig config = new TopologyConfig(
                "cache",
                "cachepipe.mutations",
                "cachepipe.dlq",
                Map.of(
                        "user",
                        new EntityPolicy(
                                "user",
                                List.of("users.events"),
                                CacheMode.WRITE_THROUGH,
                                Duration.ofMinutes(5),
                                0,
                                Duration.ofMinutes(1),
                                1024,
                                16)),
                Duration.ofHours(1));
        MockProcessorContext<String, CacheMutation> context = new MockProcessorContext<>();
        TimestampedKeyValueStore<String, Long> store = Stores.timestampedKeyValueStoreBuilder(
                        Stores.inMemoryKeyValueStore(STORE), Serdes.String(), Serdes.Long())
                .withLoggingDisabled()
                .build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        MutationProcessor processor = new MutationProcessor(config, STORE);
        processor.init(context);
        long now = 1_000_000_000L;
        store.put("cache:user:upgraded", ValueAndTimestamp.make(7L, -1L));
        store.put(
                "cache:user:old",
                ValueAndTimestamp.make(3L, now - Duration.ofHours(2).toMillis()));
        store.put(
                "cache:user:recent",
                ValueAndTimestamp.make(4L, now - Duration.ofMinutes(1).toMillis()));

        processor.prune(now);

        assertThat(store.get("cache:user:upgraded")).isEqualTo(ValueAndTimestamp.make(7L, now));
        assertThat(store.get("cache:user:old")).isNull();
        assertThat(store.get("cache:user:recent")).isNotNull();
        processor.prune(now + Duration.ofMinutes(61).toMillis());
        assertThat(store.get("cache:user:upgraded")).isNull();
    }
}
