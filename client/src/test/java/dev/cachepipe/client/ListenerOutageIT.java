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
                .listenerMaxDisconnect(Duration.ofSeconds(1))
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

    private boolean l1On() {
        return ((DefaultCacheClient) client).l1Enabled();
    }

    @Test
    void shouldResyncWhenTheBrokerIsGoneLongerThanTheBoundAndBeFreshAfterItReturns() {
        writer.upsert("item", new Item("1", 1, "v1"), false);
        assertThat(items.get("1")).contains(new Item("1", 1, "v1"));
        assertThat(local("1")).isNotNull();

        kafka.stop();

        await().atMost(WAIT).until(() -> client.stats().resyncs() == 1);
        assertThat(local("1")).as("L1 cleared").isNull();
        assertThat(l1On()).isFalse();
        assertThat(registry.get("cachepipe.client.resyncs")
                        .tag("reason", "disconnected")
                        .functionCounter()
                        .count())
                .isEqualTo(1.0);
        assertThat(registry.get("cachepipe.client.listener.connected").gauge().value())
                .isZero();

        // Invalidations cannot arrive now, so nothing is cached: every read goes to Redis and sees its changes.
        writer.writeUpsert("item", "1", 2, SimulatedWriter.json(new Item("1", 2, "v2")), "application/json");
        assertThat(items.get("1")).contains(new Item("1", 2, "v2"));
        assertThat(local("1")).isNull();
        writer.writeUpsert("item", "1", 3, SimulatedWriter.json(new Item("1", 3, "v3")), "application/json");
        assertThat(items.get("1")).contains(new Item("1", 3, "v3"));

        kafka.start();

        await().atMost(WAIT).until(this::l1On);
        assertThat(client.stats().resyncs()).as("counted once per outage").isEqualTo(1);
        assertThat(items.get("1")).contains(new Item("1", 3, "v3"));
        assertThat(local("1")).as("L1 in use again").isNotNull();
        writer.upsert("item", new Item("1", 4, "v4"), true);
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(local("1")).isEqualTo(L1Entry.value(4, new Item("1", 4, "v4"))));
        writer.upsert("item", new Item("1", 5, "v5"), false);
        await().atMost(WAIT).untilAsserted(() -> assertThat(items.get("1")).contains(new Item("1", 5, "v5")));
    }
}
