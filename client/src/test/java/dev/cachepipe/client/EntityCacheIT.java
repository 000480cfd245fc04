package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.client.internal.DefaultEntityCache;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Reads through L1 and L2 against a real redis-server and broker: values, tombstones, fences, getAll, meters. */
class EntityCacheIT {
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private final RedisServer redis = TestInfra.redis();
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private String topic;
    private String prefix;
    private SimulatedWriter writer;
    private CacheClient client;
    private EntityCache<Item> items;

    @BeforeEach
    void setUp() {
        topic = TestInfra.topic(kafka, "reads");
        prefix = TestInfra.unique("reads");
        writer = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
        client = TestInfra.client(redis, kafka, topic, prefix)
                .name("reads")
                .meterRegistry(registry)
                .build();
        items = client.entity("item", Codec.json(Item.class));
    }

    @AfterEach
    void tearDown() {
        client.close();
        writer.close();
    }

    @Test
    void shouldReadFromRedisOnceAndThenServeFromL1() {
        writer.upsert("item", new Item("1", 3, "three"), false);

        assertThat(items.get("1")).contains(new Item("1", 3, "three"));
        assertThat(items.get("1")).contains(new Item("1", 3, "three"));

        CacheStats s = items.stats();
        assertThat(s.l1Hits()).isEqualTo(1);
        assertThat(s.l1Misses()).isEqualTo(1);
        assertThat(s.l2Hits()).isEqualTo(1);
        assertThat(s.l1Size()).isEqualTo(1);
        assertThat(registry.get("cachepipe.client.gets")
                        .tags("client", "reads", "entity", "item", "level", "l1", "result", "hit")
                        .functionCounter()
                        .count())
                .isEqualTo(1.0);
        assertThat(registry.get("cachepipe.client.l2.latency")
                        .tags("op", "read")
                        .timer()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void shouldAnswerNotFoundFromL1WhenEntityWasDeleted() {
        writer.delete("item", "gone", 4);

        assertThat(items.get("gone")).isEmpty();
        assertThat(items.get("gone")).isEmpty();
        assertThat(items.get("gone", id -> Loaded.of(new Item(id, 1, "resurrected"))))
                .isNull();

        CacheStats s = items.stats();
        assertThat(s.l2Hits()).as("a tombstone is a definite answer").isEqualTo(1);
        assertThat(s.l1Hits()).isEqualTo(2);
        assertThat(s.loadCount()).isZero();
        assertThat(((DefaultEntityCache<Item>) items).peekLocal("gone").found()).isFalse();
    }

    @Test
    void shouldTreatFenceAndAbsentKeyAsMissesAndCacheNothing() {
        writer.fence("item", "fenced", 2);

        assertThat(items.get("fenced")).isEmpty();
        assertThat(items.get("never")).isEmpty();

        CacheStats s = items.stats();
        assertThat(s.l2Misses()).isEqualTo(2);
        assertThat(s.l1Size()).isZero();
    }

    @Test
    void shouldReadL1FirstThenTheRestInOnePipelinedRoundTrip() {
        writer.upsert("item", new Item("a", 1, "a"), false);
        writer.upsert("item", new Item("b", 1, "b"), false);
        writer.upsert("item", new Item("c", 1, "c"), false);
        writer.delete("item", "d", 1);
        items.get("a"); // now in L1

        Map<String, Item> all = items.getAll(List.of("a", "b", "c", "d", "e", "b"));

        assertThat(all).containsOnlyKeys("a", "b", "c");
        assertThat(all.get("c")).isEqualTo(new Item("c", 1, "c"));
        assertThat(registry.get("cachepipe.client.l2.latency")
                        .tags("op", "read_all")
                        .timer()
                        .count())
                .as("one round trip for b, c, d, e")
                .isEqualTo(1);
        CacheStats s = items.stats();
        assertThat(s.l1Hits()).isEqualTo(1);
        assertThat(s.l2Hits()).isEqualTo(1 + 3); // a's first read, then b, c and d's tombstone
        assertThat(s.l2Misses()).isEqualTo(1); // e
        assertThat(items.getAll(List.of("b", "c", "d"))).containsOnlyKeys("b", "c");
        assertThat(items.stats().l1Hits()).isEqualTo(4);
    }

    @Test
    void shouldCountAMissWhenRedisHoldsAnotherContentType() {
        writer.writeUpsert("item", "bin", 1, new byte[] {1, 2}, "application/avro");

        assertThat(items.get("bin")).isEmpty();
        assertThat(registry.get("cachepipe.client.decode.errors")
                        .functionCounter()
                        .count())
                .isEqualTo(1.0);
        assertThat(items.stats().l2Misses()).isEqualTo(1);
    }

    @Test
    void shouldReadRawBytesWhateverTheContentType() {
        writer.writeUpsert("blob", "x", 1, "raw".getBytes(StandardCharsets.UTF_8), "text/plain");

        Optional<byte[]> value = client.entity("blob", Codec.bytes()).get("x");

        assertThat(value)
                .hasValueSatisfying(
                        b -> assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("raw"));
    }

    @Test
    void shouldDropOnlyTheLocalCopyWhenInvalidatedLocally() {
        writer.upsert("item", new Item("1", 1, "one"), false);
        items.get("1");

        items.invalidateLocal("1");

        assertThat(items.stats().l1Size()).isZero();
        assertThat(writer.storedVersion("item", "1")).isEqualTo(1);
        assertThat(items.get("1")).contains(new Item("1", 1, "one"));
        assertThat(items.stats().l2Hits()).isEqualTo(2);
    }

    @Test
    void shouldRegisterAnEntityTypeOnceAndRejectAnotherCodec() {
        assertThat(client.entity("item", Codec.json(Item.class))).isSameAs(items);
        assertThatThrownBy(() -> client.entity("item", Codec.bytes()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already registered with Codec.json(dev.cachepipe.client.Item)");
        assertThatThrownBy(() -> client.entity("Bad Type", Codec.bytes()))
                .hasMessage("entityType must match [a-z0-9_-]{1,64} but was 'Bad Type'");
        assertThatThrownBy(() -> items.get("")).hasMessage("id must not be empty");
    }

    @Test
    void shouldRemoveItsMetersWhenClosed() {
        assertThat(registry.find("cachepipe.client.gets").meters()).isNotEmpty();

        client.close();

        assertThat(registry.getMeters()).noneMatch(m -> m.getId().getName().startsWith("cachepipe.client."));
        assertThatThrownBy(() -> client.entity("other", Codec.bytes())).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldAuthenticateWhenRedisRequiresAPassword() {
        try (RedisServer secured = RedisServer.start(List.of("--requirepass", "s3cret"));
                SimulatedWriter w = new SimulatedWriter(
                        "redis://:s3cret@127.0.0.1:" + secured.port(), kafka.bootstrapServers(), topic, prefix)) {
            w.upsert("item", new Item("p", 1, "secret"), false);
            try (CacheClient viaUri = TestInfra.client(secured, kafka, topic, prefix)
                            .redisUri("redis://:s3cret@127.0.0.1:" + secured.port())
                            .build();
                    CacheClient viaCredentials = TestInfra.client(secured, kafka, topic, prefix)
                            .redisCredentials(null, "s3cret".toCharArray())
                            .build()) {
                assertThat(viaUri.entity("item", Codec.json(Item.class)).get("p"))
                        .contains(new Item("p", 1, "secret"));
                assertThat(viaCredentials.entity("item", Codec.json(Item.class)).get("p"))
                        .contains(new Item("p", 1, "secret"));
            }
        }
    }
}
