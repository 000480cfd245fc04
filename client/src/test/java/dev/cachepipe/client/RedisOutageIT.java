package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.client.internal.DefaultEntityCache;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 6 (DESIGN.md invariant 8): with Redis killed or frozen, L1 hits are served, misses go to the loader, no
 * exception reaches the caller and no call hangs; when Redis is back, L2 is used again.
 */
class RedisOutageIT {
    private static final Duration REDIS_TIMEOUT = Duration.ofMillis(300);
    /**
     * Calls never hang: no call may take this long. More than 10 times the slowest expected call (one Redis timeout,
     * about 350 ms), so that a loaded machine does not fail the test; a call blocked on a dead Redis does.
     */
    private static final Duration NO_HANG = Duration.ofSeconds(5);

    private static final Pattern HMGET_CALLS = Pattern.compile("cmdstat_hmget:calls=(\\d+)");
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private RedisServer redis;
    private String topic;
    private String prefix;
    private CacheClient client;
    private EntityCache<Item> items;

    @BeforeEach
    void setUp() {
        redis = RedisServer.start();
        topic = TestInfra.topic(kafka, "redis-outage");
        prefix = TestInfra.unique("redis-outage");
        client = TestInfra.client(redis, kafka, topic, prefix)
                .redisTimeout(REDIS_TIMEOUT)
                .build();
        items = client.entity("item", Codec.json(Item.class));
    }

    @AfterEach
    void tearDown() {
        client.close();
        redis.close();
    }

    private SimulatedWriter writer() {
        return new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
    }

    /** Reads {@code id} until Redis answered and L1 holds it (one read may time out on a loaded machine). */
    private void cacheInL1(String id) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(items.get(id)).isPresent();
            assertThat(((DefaultEntityCache<Item>) items).peekLocal(id))
                    .as("L1 entry of %s", id)
                    .isNotNull();
        });
    }

    /** The HMGETs (the client's reads) this Redis has executed, as INFO commandstats counts them. */
    private static long hmgetCalls(SimulatedWriter w) {
        Matcher m = HMGET_CALLS.matcher(w.redis().info("commandstats"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** Runs {@code call} and checks it returned within {@code bound}. */
    private static <T> T within(Duration bound, Supplier<T> call) {
        long t0 = System.nanoTime();
        T result = call.get();
        long elapsed = System.nanoTime() - t0;
        assertThat(Duration.ofNanos(elapsed)).as("call duration").isLessThan(bound);
        return result;
    }

    @Test
    void shouldServeL1AndLoaderWhileRedisIsDownAndUseRedisAgainWhenItIsBack() {
        try (SimulatedWriter w = writer()) {
            w.upsert("item", new Item("hot", 1, "cached"), false);
        }
        cacheInL1("hot");
        AtomicInteger loads = new AtomicInteger();
        Loader<Item> loader = id -> {
            loads.incrementAndGet();
            return Loaded.of(new Item(id, 7, "from db"), 7);
        };

        redis.kill();

        Duration bound = NO_HANG;
        assertThat(within(bound, () -> items.get("hot"))).contains(new Item("hot", 1, "cached"));
        assertThat(within(bound, () -> items.get("cold", loader))).isEqualTo(new Item("cold", 7, "from db"));
        assertThat(within(bound, () -> items.get("cold", loader)))
                .as("kept in L1")
                .isEqualTo(new Item("cold", 7, "from db"));
        assertThat(within(bound, () -> items.get("other"))).isEmpty();
        assertThat(within(bound, () -> items.getAll(List.of("hot", "other")))).containsOnlyKeys("hot");
        assertThat(loads).hasValue(1);
        CacheStats down = items.stats();
        assertThat(down.l2Errors()).isGreaterThanOrEqualTo(2);
        assertThat(down.l1Hits()).isGreaterThanOrEqualTo(3);

        redis.restart(); // empty: killed without saving
        try (SimulatedWriter w = writer()) {
            w.upsert("item", new Item("fresh", 1, "after restart"), false);
        }

        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(items.get("fresh")).contains(new Item("fresh", 1, "after restart")));
        assertThat(items.stats().l2Hits()).isGreaterThan(down.l2Hits());
        assertThat(items.get("filled", loader)).isEqualTo(new Item("filled", 7, "from db"));
        try (SimulatedWriter w = writer()) {
            assertThat(w.storedVersion("item", "filled"))
                    .as("fills work again (scripts reloaded)")
                    .isEqualTo(7);
        }
    }

    @Test
    void shouldNeverHangWhileRedisIsFrozen() {
        int misses = 20;
        try (SimulatedWriter w = writer()) {
            w.upsert("item", new Item("hot", 1, "cached"), false);
            cacheInL1("hot");
            long hmgetsBefore = hmgetCalls(w);

            redis.pause();
            try {
                for (int i = 0; i < misses; i++) {
                    String id = "miss" + i;
                    assertThat(within(NO_HANG, () -> items.get(id, x -> Loaded.of(new Item(x, 1, "db")))))
                            .isEqualTo(new Item(id, 1, "db"));
                    CacheStats before = items.stats();
                    assertThat(within(NO_HANG, () -> items.get("hot"))).isPresent();
                    CacheStats after = items.stats();
                    assertThat(after.l1Hits()).as("answered by L1").isEqualTo(before.l1Hits() + 1);
                    assertThat(after.l2RequestCount())
                            .as("an L1 hit does not ask Redis (before: %s, after: %s)", before, after)
                            .isEqualTo(before.l2RequestCount());
                }
                assertThat(items.stats().l2Errors()).isGreaterThanOrEqualTo(misses);
            } finally {
                redis.resume();
            }

            // Redis executes what it received while frozen as soon as it runs again (one socket read, all at once).
            long[] attempts = new long[1];
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                attempts[0] = hmgetCalls(w) - hmgetsBefore;
                assertThat(attempts[0]).as("reads sent to the frozen Redis").isPositive();
            });
            assertThat(attempts[0])
                    .as(
                            "reads sent to the frozen Redis for %d misses: after a timeout, Redis is skipped until the"
                                    + " retry interval passed (one timeout per interval, not one per read); %s",
                            misses, items.stats())
                    .isLessThanOrEqualTo(misses / 4);
        }
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> {
                    long errors = items.stats().l2Errors();
                    assertThat(items.get("probe")).isEmpty();
                    assertThat(items.stats().l2Errors())
                            .as("Redis answers again")
                            .isEqualTo(errors);
                });
    }
}
