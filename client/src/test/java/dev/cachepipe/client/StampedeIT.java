package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import io.lettuce.core.SetArgs;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Acceptance 4: 200 concurrent get(id, loader) on a cold key across two clients run the loader once. */
class StampedeIT {
    private static final int CALLERS = 200;
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private final RedisServer redis = TestInfra.redis();
    private final ExecutorService pool = Executors.newFixedThreadPool(CALLERS);
    private final MeterRegistry registryA = new SimpleMeterRegistry();
    private final MeterRegistry registryB = new SimpleMeterRegistry();
    private SimulatedWriter writer;
    private String prefix;
    private CacheClient clientA;
    private CacheClient clientB;
    private EntityCache<Item> a;
    private EntityCache<Item> b;

    @BeforeEach
    void setUp() {
        String topic = TestInfra.topic(kafka, "stampede");
        prefix = TestInfra.unique("stampede");
        writer = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
        // A Redis timeout makes a caller load without Redis (a second load): give a loaded machine time to answer.
        clientA = TestInfra.client(redis, kafka, topic, prefix)
                .redisTimeout(TestInfra.PATIENT_REDIS_TIMEOUT)
                .leaseTime(Duration.ofSeconds(5))
                .meterRegistry(registryA)
                .build();
        clientB = TestInfra.client(redis, kafka, topic, prefix)
                .redisTimeout(TestInfra.PATIENT_REDIS_TIMEOUT)
                .leaseTime(Duration.ofSeconds(5))
                .meterRegistry(registryB)
                .build();
        a = clientA.entity("item", Codec.json(Item.class));
        b = clientB.entity("item", Codec.json(Item.class));
    }

    @AfterEach
    void tearDown() {
        pool.shutdownNow();
        clientA.close();
        clientB.close();
        writer.close();
    }

    /** What each client saw: L2 errors (Redis timed out or was skipped) and leases, which explain a second load. */
    private String why() {
        return "client A: " + seen(clientA, registryA) + "; client B: " + seen(clientB, registryB);
    }

    private static String seen(CacheClient client, MeterRegistry registry) {
        CacheStats s = client.stats();
        return "l2 errors " + s.l2Errors() + ", loads " + s.loadCount() + " (failed " + s.loadFailures() + "), fills "
                + s.fillsStored() + ", leases acquired " + leases(registry, "acquired") + ", waited "
                + leases(registry, "waited") + ", wait timeouts " + leases(registry, "wait_timeout");
    }

    private static long leases(MeterRegistry registry, String result) {
        return (long)
                Search.in(registry).name("cachepipe.client.leases").tag("result", result).functionCounters().stream()
                        .mapToDouble(c -> c.count())
                        .sum();
    }

    /** Runs CALLERS calls, half on each client, released at once; returns their results. */
    private List<Item> stampede(String id, Loader<Item> loader) throws Exception {
        CountDownLatch ready = new CountDownLatch(CALLERS);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Item>> calls = new ArrayList<>();
        for (int i = 0; i < CALLERS; i++) {
            EntityCache<Item> cache = i % 2 == 0 ? a : b;
            calls.add(pool.submit(() -> {
                ready.countDown();
                go.await();
                return cache.get(id, loader);
            }));
        }
        assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
        go.countDown();
        List<Item> results = new ArrayList<>();
        for (Future<Item> f : calls) {
            results.add(f.get(20, TimeUnit.SECONDS));
        }
        return results;
    }

    @Test
    void shouldLoadAColdKeyOnceWhen200CallersOnTwoClientsAskAtOnce() throws Exception {
        AtomicInteger loads = new AtomicInteger();
        Item value = new Item("hot", 1, "loaded once");
        Loader<Item> loader = id -> {
            loads.incrementAndGet();
            Thread.sleep(300);
            return Loaded.of(value, 1);
        };

        long t0 = System.nanoTime();
        List<Item> results = stampede("hot", loader);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(loads).as(() -> "loader runs; " + why()).hasValue(1);
        assertThat(results).hasSize(CALLERS).containsOnly(value);
        assertThat(writer.storedVersion("item", "hot")).isEqualTo(1);
        CacheStats total = clientA.stats().plus(clientB.stats());
        assertThat(total.loadCount()).as(() -> "loads counted; " + why()).isEqualTo(1);
        assertThat(total.fillsStored()).as(() -> "fills stored; " + why()).isEqualTo(1);
        System.out.printf(
                "stampede: %d callers on 2 clients, %d load(s), %d ms, L1 misses %d, L2 reads %d%n",
                CALLERS, loads.get(), millis, total.l1Misses(), total.l2RequestCount());
    }

    @Test
    void shouldShareALoadersNotFoundWithTheOtherInstance() throws Exception {
        AtomicInteger loads = new AtomicInteger();
        Loader<Item> loader = id -> {
            loads.incrementAndGet();
            Thread.sleep(300);
            return Loaded.notFound();
        };

        List<Item> results = stampede("nobody", loader);

        assertThat(loads).as(() -> "loader runs; " + why()).hasValue(1);
        assertThat(results).hasSize(CALLERS).containsOnlyNulls();
        assertThat(writer.hash("item", "nobody"))
                .as("no tombstone from a loader")
                .isEmpty();
    }

    @Test
    void shouldTakeOverWhenTheLeaseHolderVanishesWithoutFilling() {
        // Another instance took the lease and died: the caller waits until the lease expires, then loads itself.
        String lease = prefix + "::lease:item:orphan";
        long t0 = System.nanoTime(); // before the lease is set: the lease expires at least 600 ms after t0
        writer.redis()
                .set(
                        SimulatedWriter.bytes(lease),
                        SimulatedWriter.bytes("ghost"),
                        SetArgs.Builder.nx().px(600));
        AtomicInteger loads = new AtomicInteger();

        Item item = a.get("orphan", id -> {
            loads.incrementAndGet();
            return Loaded.of(new Item(id, 2, "after takeover"), 2);
        });
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(item).isEqualTo(new Item("orphan", 2, "after takeover"));
        assertThat(loads).hasValue(1);
        assertThat(millis).as("waited for the lease to expire").isGreaterThanOrEqualTo(400);
        assertThat(writer.storedVersion("item", "orphan")).isEqualTo(2);
    }
}
