package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.client.internal.DefaultEntityCache;
import dev.cachepipe.client.internal.L1Entry;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The listener resyncs L1 when the invalidations topic changes under it: partitions added, topic recreated. */
class ListenerResyncIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private final RedisServer redis = TestInfra.redis();
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private String topic;
    private SimulatedWriter writer;
    private CacheClient client;
    private EntityCache<Item> items;

    @BeforeEach
    void setUp() {
        topic = TestInfra.unique("resync");
        kafka.createTopic(topic, 1, Map.of());
        String prefix = TestInfra.unique("resync");
        writer = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
        client = TestInfra.client(redis, kafka, topic, prefix)
                .name("resync")
                .meterRegistry(registry)
                .kafkaProperty("metadata.max.age.ms", 300)
                // Not about lost contact: a loaded broker must not cause DISCONNECTED resyncs, nor a slow Redis
                // empty (uncached) reads.
                .listenerMaxDisconnect(Duration.ofSeconds(5))
                .redisTimeout(TestInfra.PATIENT_REDIS_TIMEOUT)
                .build();
        items = client.entity("item", Codec.json(Item.class));
        writer.upsert("item", new Item("1", 1, "v1"), false);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(items.get("1")).isPresent();
            assertThat(((DefaultEntityCache<Item>) items).peekLocal("1"))
                    .as("L1 holds 1 before the topic changes")
                    .isNotNull();
        });
    }

    @AfterEach
    void tearDown() {
        client.close();
        writer.close();
    }

    private double resyncs(String reason) {
        return registry.get("cachepipe.client.resyncs")
                .tag("reason", reason)
                .functionCounter()
                .count();
    }

    @Test
    void shouldResyncAndReadNewPartitionsWhenPartitionsAreAdded() throws Exception {
        try (Admin admin = kafka.admin()) {
            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }

        await().atMost(WAIT).until(() -> resyncs("partitions_changed") == 1);
        assertThat(((DefaultEntityCache<Item>) items).peekLocal("1")).isNull();

        // Invalidations on any of the three partitions reach L1 again.
        await().atMost(WAIT)
                .until(() -> items.get("1").isPresent() && ((DefaultEntityCache<Item>) items).peekLocal("1") != null);
        for (int i = 2; i <= 6; i++) {
            writer.upsert("item", new Item("k" + i, 1, "x"), false);
            items.get("k" + i);
        }
        for (int i = 2; i <= 6; i++) {
            writer.upsert("item", new Item("k" + i, 2, "y"), true);
        }
        await().atMost(WAIT).untilAsserted(() -> {
            for (int i = 2; i <= 6; i++) {
                assertThat(((DefaultEntityCache<Item>) items).peekLocal("k" + i))
                        .as("L1 entry of k%d", i)
                        .isNotNull()
                        .extracting(L1Entry::version)
                        .isEqualTo(2L);
            }
        });
    }

    @Test
    void shouldResyncWhenTheTopicIsRecreated() throws Exception {
        try (Admin admin = kafka.admin()) {
            admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        }
        await().atMost(WAIT).ignoreExceptions().untilAsserted(() -> {
            kafka.createTopic(topic, 1, Map.of());
            try (Admin admin = kafka.admin()) {
                assertThat(admin.listTopics().names().get()).contains(topic);
            }
        });

        await().atMost(WAIT).until(() -> client.stats().resyncs() >= 1);
        assertThat(((DefaultEntityCache<Item>) items).peekLocal("1")).isNull();
        writer.upsert("item", new Item("1", 2, "v2"), false);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(items.get("1")).contains(new Item("1", 2, "v2"));
            assertThat(((DefaultEntityCache<Item>) items).peekLocal("1")).isNotNull();
        });
        writer.upsert("item", new Item("1", 3, "v3"), true);
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(((DefaultEntityCache<Item>) items).peekLocal("1"))
                        .as("L1 entry of 1")
                        .isNotNull()
                        .extracting(L1Entry::version)
                        .isEqualTo(3L));
        System.out.println("resyncs after recreation: "
                + registry.find("cachepipe.client.resyncs").functionCounters().stream()
                        .map(c -> c.getId().getTag("reason") + "=" + c.count())
                        .toList());
    }
}
