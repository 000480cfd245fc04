package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.client.internal.DefaultEntityCache;
import dev.cachepipe.client.internal.L1Entry;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 8, item 7: a loader returning an older version (its source is a replica that lags, or a cache of its own)
 * never makes a read go back. A loaded value older than a version the client already returned, or than the fence
 * Redis holds, is neither stored nor returned; the loader runs again, and the call fails if it stays behind. When a
 * fill is dropped because Redis holds something newer, that is what the call returns.
 */
class OlderLoadIT {
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private final RedisServer redis = TestInfra.redis();
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private SimulatedWriter writer;
    private CacheClient client;
    private EntityCache<Item> cache;

    @BeforeEach
    void setUp() {
        String topic = TestInfra.topic(kafka, "older-load");
        String prefix = TestInfra.unique("older-load");
        writer = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
        client = TestInfra.client(redis, kafka, topic, prefix)
                .redisTimeout(TestInfra.PATIENT_REDIS_TIMEOUT)
                .build();
        cache = client.entity("item", Codec.json(Item.class));
    }

    @AfterEach
    void tearDown() {
        callers.shutdownNow();
        client.close();
        writer.close();
    }

    /** A versioned loader that answers the given versions in turn (the last one from then on) and records its calls. */
    private static final class LaggingSource implements Loader<Item> {
        final List<Long> answers;
        final List<Long> answered = new CopyOnWriteArrayList<>();

        LaggingSource(Long... answers) {
            this.answers = List.of(answers);
        }

        @Override
        public Loaded<Item> load(String id) {
            long v = answers.get(Math.min(answered.size(), answers.size() - 1));
            answered.add(v);
            return Loaded.of(new Item(id, v, "db v" + v), v);
        }
    }

    private L1Entry local(String id) {
        return ((DefaultEntityCache<Item>) cache).peekLocal(id);
    }

    @Test
    void shouldNeitherFillNorReturnAnOlderVersionWhenTheClientAlreadyReturnedANewerOne() {
        writer.upsert("item", new Item("1", 5, "v5"), false);
        assertThat(cache.get("1")).contains(new Item("1", 5, "v5"));
        cache.invalidateLocal("1"); // L1 lets go of it (size, expiry, or the application)
        writer.redis().del(SimulatedWriter.bytes(writer.key("item", "1"))); // and its Redis TTL runs out
        LaggingSource source = new LaggingSource(4L, 5L); // a replica that is behind, then catches up

        Item returned = cache.get("1", source);

        assertThat(returned).as("never older than the v5 already returned").isEqualTo(new Item("1", 5, "db v5"));
        assertThat(source.answered).containsExactly(4L, 5L);
        assertThat(writer.hash("item", "1")).containsEntry("v", "5");
        assertThat(local("1")).isIn(null, L1Entry.value(5, new Item("1", 5, "db v5")));
        assertThat(cache.stats().staleFillsDropped()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void shouldLoadAgainWhenTheFillIsDroppedBecauseRedisHoldsANewerFence() {
        writer.writeFence("item", "1", 6); // invalidate mode: the value of v6 was dropped, readers load it

        Item returned = cache.get("1", new LaggingSource(4L, 6L));

        assertThat(returned).as("not v4, which is older than the fence").isEqualTo(new Item("1", 6, "db v6"));
        assertThat(writer.hash("item", "1")).containsEntry("v", "6").doesNotContainKey("inv");
    }

    @Test
    void shouldFailWithoutReturningOrCachingWhenTheLoaderStaysBehindTheFence() {
        writer.writeFence("item", "1", 6);
        LaggingSource source = new LaggingSource(4L);

        assertThatThrownBy(() -> cache.get("1", source))
                .isInstanceOf(CacheLoadException.class)
                .hasMessageContaining("returned version 4 of '1' 3 times")
                .hasMessageContaining("already saw version 6");
        assertThat(source.answered).hasSize(3);
        assertThat(writer.hash("item", "1")).containsEntry("v", "6").containsEntry("inv", "1");
        assertThat(local("1")).isNull();
        assertThat(cache.get("1")).isEmpty();
    }

    @Test
    void shouldReturnNotFoundWhenANewerTombstoneOvertookTheLoad() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Item> call = CompletableFuture.supplyAsync(
                () -> cache.get("1", id -> {
                    started.countDown();
                    if (!release.await(10, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("never released");
                    }
                    return Loaded.of(new Item(id, 4, "db v4"), 4);
                }),
                callers);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        writer.writeTombstone("item", "1", 6); // deleted while the loader ran
        release.countDown();

        assertThat(call.get(20, TimeUnit.SECONDS))
                .as("deleted: not found, never v4")
                .isNull();
        assertThat(writer.hash("item", "1")).containsEntry("v", "6").containsEntry("del", "1");
    }
}
