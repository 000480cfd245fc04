package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.avro.InvalidationOp;
import dev.cachepipe.client.internal.DefaultEntityCache;
import dev.cachepipe.client.internal.L1Entry;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The listener keeps L1 of two clients fresh: in place, by eviction, ignoring stale news, resyncing when behind. */
class InvalidationListenerIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private final RedisServer redis = TestInfra.redis();
    private String topic;
    private String prefix;
    private SimulatedWriter writer;
    private final List<CacheClient> clients = new ArrayList<>();

    @BeforeEach
    void setUp() {
        topic = TestInfra.topic(kafka, "listener");
        prefix = TestInfra.unique("listener");
        writer = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
    }

    @AfterEach
    void tearDown() {
        clients.forEach(CacheClient::close);
        writer.close();
    }

    private EntityCache<Item> items(CacheClientBuilder builder) {
        CacheClient c = builder.build();
        clients.add(c);
        return c.entity("item", Codec.json(Item.class));
    }

    private EntityCache<Item> items() {
        return items(TestInfra.client(redis, kafka, topic, prefix));
    }

    private static L1Entry local(EntityCache<Item> cache, String id) {
        return ((DefaultEntityCache<Item>) cache).peekLocal(id);
    }

    @Test
    void shouldUpdateBothClientsInPlaceWhenThePayloadIsInline() {
        EntityCache<Item> a = items();
        EntityCache<Item> b = items();
        writer.upsert("item", new Item("1", 1, "v1"), false);
        a.get("1");
        b.get("1");

        writer.upsert("item", new Item("1", 2, "v2"), true);

        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(local(a, "1")).isEqualTo(L1Entry.value(2, new Item("1", 2, "v2")));
            assertThat(local(b, "1")).isEqualTo(L1Entry.value(2, new Item("1", 2, "v2")));
        });
        assertThat(a.get("1")).contains(new Item("1", 2, "v2"));
        assertThat(a.stats().l2RequestCount())
                .as("no Redis read for the update")
                .isEqualTo(1);
        assertThat(a.stats().invalidationsApplied()).isEqualTo(1);
    }

    @Test
    void shouldEvictWhenThePayloadIsNotInlineAndReadTheNewVersionFromRedis() {
        EntityCache<Item> a = items();
        writer.upsert("item", new Item("1", 1, "v1"), false);
        a.get("1");

        writer.upsert("item", new Item("1", 2, "big"), false);

        await().atMost(WAIT).until(() -> local(a, "1") == null);
        assertThat(a.get("1")).contains(new Item("1", 2, "big"));
        assertThat(a.stats().l2Hits()).isEqualTo(2);
    }

    @Test
    void shouldIgnoreAnInvalidationNotNewerThanL1() {
        EntityCache<Item> a = items();
        writer.writeUpsert("item", "1", 5, SimulatedWriter.json(new Item("1", 5, "v5")), "application/json");
        a.get("1");

        writer.publish(writer.invalidation(
                "item", "1", 4, InvalidationOp.UPSERT, SimulatedWriter.json(new Item("1", 4, "old"))));
        writer.publish(writer.invalidation("item", "1", 5, InvalidationOp.INVALIDATE, null));

        await().atMost(WAIT).until(() -> a.stats().invalidationsStale() == 2);
        assertThat(a.get("1")).contains(new Item("1", 5, "v5"));
        assertThat(a.stats().invalidationsApplied()).isZero();
    }

    @Test
    void shouldAnswerNotFoundFromL1WhenADeleteArrives() {
        EntityCache<Item> a = items();
        writer.upsert("item", new Item("1", 1, "v1"), false);
        a.get("1");

        writer.delete("item", "1", 2);

        await().atMost(WAIT).untilAsserted(() -> assertThat(local(a, "1")).isEqualTo(L1Entry.notFound(2)));
        assertThat(a.get("1")).isEmpty();
        assertThat(a.stats().l2RequestCount()).isEqualTo(1);
    }

    @Test
    void shouldNotTouchEntriesOfAnotherKeyPrefix() {
        String single = TestInfra.unique("listener-one");
        kafka.createTopic(single, 1, java.util.Map.of()); // one partition: the marker is read after the other's
        EntityCache<Item> a = items(TestInfra.client(redis, kafka, single, prefix));
        try (SimulatedWriter ours = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), single, prefix);
                SimulatedWriter other =
                        new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), single, prefix + "x")) {
            ours.upsert("item", new Item("1", 1, "v1"), false);
            ours.upsert("item", new Item("2", 1, "v1"), false);
            a.get("1");
            a.get("2");

            other.upsert("item", new Item("1", 9, "other"), true);
            ours.upsert("item", new Item("2", 2, "marker"), true);

            await().atMost(WAIT)
                    .until(() -> local(a, "2") != null && local(a, "2").version() == 2);
        }
        assertThat(local(a, "1")).isEqualTo(L1Entry.value(1, new Item("1", 1, "v1")));
        assertThat(a.stats().invalidationsApplied()).isEqualTo(1);
    }

    @Test
    void shouldDropAnIdPrefixThenTheWholeTypeFromL1WhenPurgesAreAnnouncedOnEveryPartition() {
        EntityCache<Item> a = items();
        for (String id : List.of("10", "11", "20")) {
            writer.upsert("item", new Item(id, 1, "v1"), false);
            a.get(id);
        }

        writer.publishPurge("item", "1", true);

        await().atMost(WAIT).until(() -> local(a, "10") == null && local(a, "11") == null);
        assertThat(local(a, "20")).isEqualTo(L1Entry.value(1, new Item("20", 1, "v1")));
        assertThat(a.stats().resyncs()).as("a purge is not a resync").isZero();

        writer.publishPurge("item", "", true);

        await().atMost(WAIT).until(() -> local(a, "20") == null);
    }

    @Test
    void shouldIgnoreAPurgeAnnouncementAsAClientOfThePreviousReleaseDoes() {
        String single = TestInfra.unique("listener-purge");
        kafka.createTopic(single, 1, java.util.Map.of()); // one partition: the marker is read after the purge
        EntityCache<Item> a = items(TestInfra.client(redis, kafka, single, prefix));
        try (SimulatedWriter ours = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), single, prefix)) {
            ours.upsert("item", new Item("1", 1, "v1"), false);
            ours.upsert("item", new Item("2", 1, "v1"), false);
            a.get("1");
            a.get("2");

            // without the header, this client takes the path the previous release's listener takes for every record
            ours.publishPurge("item", "", false);
            ours.publishPurge("item", "1", false);
            ours.upsert("item", new Item("2", 2, "marker"), true);

            await().atMost(WAIT)
                    .until(() -> local(a, "2") != null && local(a, "2").version() == 2);
        }
        assertThat(local(a, "1")).isEqualTo(L1Entry.value(1, new Item("1", 1, "v1")));
        assertThat(a.stats().resyncs()).isZero();
        assertThat(a.stats().invalidationsApplied()).isEqualTo(1);
    }

    @Test
    void shouldClearL1AndCountAResyncWhenTheListenerFallsBehind() {
        EntityCache<Item> a = items(
                TestInfra.client(redis, kafka, topic, prefix).listenerMaxLag(20).kafkaProperty("max.poll.records", 1));
        writer.upsert("item", new Item("1", 1, "v1"), false);
        a.get("1");
        assertThat(a.stats().l1Size()).isEqualTo(1);

        for (int i = 0; i < 1000; i++) {
            writer.publishAsync(writer.invalidation("item", "other" + i, 1, InvalidationOp.INVALIDATE, null));
        }
        writer.flush();

        await().atMost(WAIT).until(() -> a.stats().resyncs() >= 1);
        assertThat(local(a, "1")).isNull();
        assertThat(a.get("1")).contains(new Item("1", 1, "v1"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(local(a, "1")).isNotNull());
    }
}
