package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 6 (DESIGN.md invariant 8): with Redis killed or frozen, L1 hits are served, misses go to the loader, no
 * exception reaches the caller and no call hangs; when Redis is back, L2 is used again.
 */
class RedisOutageIT {
    private static final Duration REDIS_TIMEOUT = Duration.ofMillis(300);
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
        assertThat(items.get("hot")).isPresent();
        AtomicInteger loads = new AtomicInteger();
        Loader<Item> loader = id -> {
            loads.incrementAndGet();
            return Loaded.of(new Item(id, 7, "from db"), 7);
        };

        redis.kill();

        Duration bound = REDIS_TIMEOUT.multipliedBy(3);
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
        try (SimulatedWriter w = writer()) {
            w.upsert("item", new Item("hot", 1, "cached"), false);
        }
        items.get("hot");

        redis.pause();
        try {
            long t0 = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                String id = "miss" + i;
                assertThat(within(
                                REDIS_TIMEOUT.multipliedBy(3),
                                () -> items.get(id, x -> Loaded.of(new Item(x, 1, "db")))))
                        .isEqualTo(new Item(id, 1, "db"));
                assertThat(within(Duration.ofMillis(50), () -> items.get("hot")))
                        .isPresent();
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(millis)
                    .as("after the first timeout, Redis is skipped until the retry interval passed")
                    .isLessThan(20 * REDIS_TIMEOUT.toMillis() / 2);
            assertThat(items.stats().l2Errors()).isGreaterThanOrEqualTo(20);
        } finally {
            redis.resume();
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
