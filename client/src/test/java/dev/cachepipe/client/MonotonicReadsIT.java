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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 2, with a simulated writer: readers hammer hot keys on two clients while a writer updates them (Redis
 * first, with the pipeline's own upsert script, then the invalidation — inline or not). No read may return a version
 * older than one its client already returned for that key to a call that had completed before it started; after
 * the writer stops, every client's L1 equals Redis. Readers also drop their L1 copy now and then, so that many reads
 * go to Redis and race the writer's invalidations.
 */
class MonotonicReadsIT {
    private static final int KEYS = 5;
    private static final int READERS_PER_CLIENT = 2;
    private static final Duration RUN = Duration.ofSeconds(4);
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private final RedisServer redis = TestInfra.redis();
    private SimulatedWriter writer;
    private final List<CacheClient> clients = new ArrayList<>();
    private final List<EntityCache<Item>> caches = new ArrayList<>();

    @BeforeEach
    void setUp() {
        String topic = TestInfra.topic(kafka, "monotonic");
        String prefix = TestInfra.unique("monotonic");
        writer = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
        for (int c = 0; c < 2; c++) {
            CacheClient client = TestInfra.client(redis, kafka, topic, prefix)
                    .redisTimeout(TestInfra.PATIENT_REDIS_TIMEOUT) // a timed-out read is empty: not what is tested
                    .build();
            clients.add(client);
            caches.add(client.entity("item", Codec.json(Item.class)));
        }
    }

    @AfterEach
    void tearDown() {
        clients.forEach(CacheClient::close);
        writer.close();
    }

    private static String id(int k) {
        return "hot" + k;
    }

    @Test
    void shouldNeverGoBackInTimeAndEndEqualToRedisWhenReadersRaceAWriter() throws Exception {
        for (int k = 0; k < KEYS; k++) {
            writer.upsert("item", new Item(id(k), 1, "v1"), false);
        }
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicLong reads = new AtomicLong();
        ConcurrentLinkedQueue<String> emptyReads = new ConcurrentLinkedQueue<>();
        // Per client and key: the highest version returned by a call that has completed.
        List<AtomicLongArray> completed = List.of(new AtomicLongArray(KEYS), new AtomicLongArray(KEYS));
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            EntityCache<Item> cache = caches.get(c);
            AtomicLongArray done = completed.get(c);
            int client = c;
            for (int r = 0; r < READERS_PER_CLIENT; r++) {
                threads.add(new Thread(
                        () -> {
                            ThreadLocalRandom random = ThreadLocalRandom.current();
                            while (!stop.get()) {
                                int k = random.nextInt(KEYS);
                                long floor = done.get(k);
                                long version;
                                int dice = random.nextInt(10);
                                if (dice < 3) {
                                    cache.invalidateLocal(id(k)); // force reads through Redis, racing the writer
                                }
                                if (dice == 9) {
                                    Map<String, Item> all = cache.getAll(List.of(id(k)));
                                    version = all.containsKey(id(k))
                                            ? all.get(id(k)).version()
                                            : -1;
                                } else {
                                    Optional<Item> item = cache.get(id(k));
                                    version = item.map(Item::version).orElse(-1L);
                                }
                                reads.incrementAndGet();
                                if (version < 0) {
                                    // Every key exists: an empty read is a failure of its own, not a time travel.
                                    emptyReads.add("client " + client + " read " + id(k) + " as empty");
                                    continue;
                                }
                                if (version < floor) {
                                    violations.add("client " + client + " returned " + id(k) + " v" + version
                                            + " after a completed read of v" + floor);
                                }
                                done.accumulateAndGet(k, version, Math::max);
                                if (dice == 0) {
                                    Thread.yield(); // leave the writer and the listeners some of the two cores
                                }
                            }
                        },
                        "reader-" + c + "-" + r));
            }
        }
        threads.forEach(Thread::start);

        long[] versions = new long[KEYS];
        java.util.Arrays.fill(versions, 1);
        long writes = 0;
        long deadline = System.nanoTime() + RUN.toNanos();
        while (System.nanoTime() < deadline) {
            int k = (int) (writes % KEYS);
            long v = ++versions[k];
            Item item = new Item(id(k), v, "v" + v);
            byte[] payload = SimulatedWriter.json(item);
            assertThat(writer.writeUpsert("item", id(k), v, payload, "application/json"))
                    .isEqualTo(1);
            writer.publishAsync(
                    writer.invalidation("item", id(k), v, InvalidationOp.UPSERT, v % 2 == 0 ? payload : null));
            writes++;
            if (writes % 20 == 0) {
                TimeUnit.MILLISECONDS.sleep(5);
            }
        }
        writer.flush();
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }

        assertThat(violations).as("reads that went back in time").isEmpty();
        assertThat(emptyReads)
                .as(
                        "reads of an existing key that returned nothing; stats of client 0: %s, client 1: %s",
                        caches.get(0).stats(), caches.get(1).stats())
                .isEmpty();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            for (EntityCache<Item> cache : caches) {
                for (int k = 0; k < KEYS; k++) {
                    L1Entry local = ((DefaultEntityCache<Item>) cache).peekLocal(id(k));
                    long stored = writer.storedVersion("item", id(k));
                    assertThat(local == null || local.version() == stored)
                            .as("L1 %s vs Redis v%d", local, stored)
                            .isTrue();
                }
            }
        });
        for (EntityCache<Item> cache : caches) {
            for (int k = 0; k < KEYS; k++) {
                assertThat(cache.get(id(k)).orElseThrow().version()).isEqualTo(versions[k]);
            }
        }
        CacheStats a = caches.get(0).stats();
        CacheStats b = caches.get(1).stats();
        System.out.printf(
                "monotonic: %d writes, %d reads, L1 hit rate %.3f / %.3f, invalidations applied %d / %d, stale %d /"
                        + " %d, stale reads refused %d / %d, resyncs %d / %d%n",
                writes,
                reads.get(),
                a.l1HitRate(),
                b.l1HitRate(),
                a.invalidationsApplied(),
                b.invalidationsApplied(),
                a.invalidationsStale(),
                b.invalidationsStale(),
                a.staleFillsDropped(),
                b.staleFillsDropped(),
                a.resyncs(),
                b.resyncs());
        assertThat(a.resyncs() + b.resyncs())
                .as(
                        "resyncs (L1 cleared: lag, lost contact, offsets reset) while nothing disturbed the listeners;"
                                + " listener lag %d / %d; stats of client 0: %s, client 1: %s",
                        a.listenerLag(), b.listenerLag(), a, b)
                .isZero();
    }
}
