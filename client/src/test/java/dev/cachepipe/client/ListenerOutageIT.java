package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.client.internal.DefaultCacheClient;
import dev.cachepipe.client.internal.DefaultEntityCache;
import dev.cachepipe.client.internal.L1Entry;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 5: the broker stops for longer than listenerMaxDisconnect → L1 is cleared (and off) and the resync is
 * counted; reads go to Redis meanwhile; after the broker is back, L1 is on again and follows invalidations.
 */
class ListenerOutageIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final RedisServer redis = TestInfra.redis();
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private EmbeddedKafka kafka;
    private SimulatedWriter writer;
    private CacheClient client;
    private EntityCache<Item> items;

    @BeforeEach
    void setUp() {
        kafka = EmbeddedKafka.startTemporary(); // private: this test stops it
        String topic = TestInfra.unique("listener-outage");
        kafka.createTopic(topic, 1, Map.of());
        String prefix = TestInfra.unique("listener-outage");
        writer = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
        client = TestInfra.client(redis, kafka, topic, prefix)
                .name("outage")
                .meterRegistry(registry)
                // Long enough that a slow check on a loaded machine is not an outage; stopping the broker is.
                .listenerMaxDisconnect(Duration.ofSeconds(3))
                .redisTimeout(TestInfra.PATIENT_REDIS_TIMEOUT) // reads go to Redis and must answer
                .build();
        items = client.entity("item", Codec.json(Item.class));
    }

    @AfterEach
    void tearDown() {
        client.close();
        writer.close();
        kafka.close();
    }

    private L1Entry local(String id) {
        return ((DefaultEntityCache<Item>) items).peekLocal(id);
    }

    private double resyncs(String reason) {
        return registry.get("cachepipe.client.resyncs")
                .tag("reason", reason)
                .functionCounter()
                .count();
    }

    private String resyncsByReason() {
        return registry.find("cachepipe.client.resyncs").functionCounters().stream()
                .map(c -> c.getId().getTag("reason") + "=" + (long) c.count())
                .toList()
                .toString();
    }

    private boolean l1On() {
        return ((DefaultCacheClient) client).l1Enabled();
    }

    @Test
    void shouldResyncWhenTheBrokerIsGoneLongerThanTheBoundAndBeFreshAfterItReturns() {
        writer.upsert("item", new Item("1", 1, "v1"), false);
        assertThat(items.get("1")).contains(new Item("1", 1, "v1"));
        assertThat(local("1")).isNotNull();

        double disconnectedBefore = resyncs("disconnected");
        kafka.stop();

        await().atMost(WAIT).until(() -> resyncs("disconnected") > disconnectedBefore);
        assertThat(local("1")).as("L1 cleared").isNull();
        assertThat(l1On()).isFalse();
        assertThat(registry.get("cachepipe.client.listener.connected").gauge().value())
                .isZero();

        // Invalidations cannot arrive now, so nothing is cached: every read goes to Redis and sees its changes.
        writer.writeUpsert("item", "1", 2, SimulatedWriter.json(new Item("1", 2, "v2")), "application/json");
        assertThat(items.get("1")).contains(new Item("1", 2, "v2"));
        assertThat(local("1")).isNull();
        writer.writeUpsert("item", "1", 3, SimulatedWriter.json(new Item("1", 3, "v3")), "application/json");
        assertThat(items.get("1")).contains(new Item("1", 3, "v3"));
        // The broker is still down, so contact cannot have come back: a second resync now would be one per check.
        assertThat(resyncs("disconnected"))
                .as("counted once per outage, not once per failed check; by reason: %s", resyncsByReason())
                .isEqualTo(disconnectedBefore + 1);

        kafka.start();

        await().atMost(WAIT).until(this::l1On);
        // Coming back is no resync of its own (L1 was off and empty). A second DISCONNECTED resync is harmless (a
        // freshly restarted broker on a loaded machine may be slow to answer once more): not asserted exactly.
        for (String reason : new String[] {"lag", "offsets_reset", "partitions_changed"}) {
            assertThat(resyncs(reason))
                    .as("%s resyncs after the broker came back; by reason: %s", reason, resyncsByReason())
                    .isZero();
        }
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(items.get("1")).contains(new Item("1", 3, "v3"));
            assertThat(local("1")).as("L1 in use again").isNotNull();
        });
        writer.upsert("item", new Item("1", 4, "v4"), true);
        await().atMost(WAIT).untilAsserted(() -> {
            // Reading again refills L1 should a second resync have cleared it; a missed invalidation keeps v3.
            if (local("1") == null) {
                assertThat(items.get("1")).contains(new Item("1", 4, "v4"));
            }
            assertThat(local("1"))
                    .as("L1 follows invalidations again")
                    .isEqualTo(L1Entry.value(4, new Item("1", 4, "v4")));
        });
        writer.upsert("item", new Item("1", 5, "v5"), false);
        await().atMost(WAIT).untilAsserted(() -> assertThat(items.get("1")).contains(new Item("1", 5, "v5")));
    }
}
