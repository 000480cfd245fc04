package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.CacheStats;
import dev.cachepipe.client.ClientMeters;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.writer.WriterMeters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The thin client against the real pipeline (shared broker, a redis-server, the real {@link Pipeline} in this JVM)
 * with two client instances, as two application instances would run: domain events reach both L1s (in place when the
 * payload rides in the invalidation, by eviction and a Redis read when it is too large), and reads never go back in
 * time while the pipeline applies shuffled and duplicated versions.
 *
 * <p>Payloads are JSON documents {@code {"v":N,"id":...,"pad":...}} that carry their version, so a reader can tell
 * which version a read returned. Entity type {@code user}: write-through, {@code inlineInvalidationMaxBytes} 1024,
 * {@code maxPayloadBytes} 2048.
 */
class ClientPipelineIT {
    private static final String TYPE = "user";
    private static final int SMALL = 200; // rides inline in the invalidation (<= 1024 bytes)
    private static final int LARGE = 1500; // too large to ride inline (> 1024), still valid (<= 2048)

    private static RedisServer redis;
    private static TestPipeline pipeline;
    private static RedisProbe probe;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<CacheClient> clients = new ArrayList<>();
    private final List<EntityCache<Doc>> caches = new ArrayList<>();
    private Oracle oracle;
    private EventGenerator publisher;

    /** The entity as its service publishes it: the version travels in the payload. */
    record Doc(long v, String id, String pad) {}

    @BeforeAll
    static void startPipeline() {
        redis = RedisServer.start();
        pipeline = TestPipeline.start("client-pipeline", redis, 3);
        probe = new RedisProbe(redis);
    }

    @AfterAll
    static void stopPipeline() {
        if (probe != null) {
            probe.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void startClients() {
        oracle = pipeline.oracle();
        Map<String, Object> producer = pipeline.kafkaProperties();
        producer.put("linger.ms", 0); // measure the pipeline, not the producer's batching
        publisher =
                new EventGenerator(producer, EventGenerator.Settings.of(List.of(pipeline.policy(TYPE)), 1, 1L), oracle);
        for (String name : List.of("app-a", "app-b")) {
            CacheClient client = CacheClient.builder()
                    .name(name)
                    .redisUri(redis.uri())
                    .bootstrapServers(EmbeddedKafka.shared().bootstrapServers())
                    .keyPrefix(pipeline.config.redis().keyPrefix())
                    .invalidationsTopic(pipeline.config.topics().invalidations())
                    .redisTimeout(Duration.ofSeconds(5))
                    .kafkaTimeout(Duration.ofSeconds(10))
                    .meterRegistry(registry)
                    .build();
            clients.add(client);
            caches.add(client.entity(TYPE, Codec.json(Doc.class)));
        }
    }

    @AfterEach
    void stopClients() {
        clients.forEach(CacheClient::close);
        publisher.close();
        registry.close();
    }

    // ------------------------------------------------------------------------------------- acceptance 1: propagation

    @Test
    void shouldUpdateBothClientsL1InPlaceWithoutReadingRedisWhenSmallUpdatesArePublished() throws Exception {
        int keys = 10;
        int updates = 200;
        String[] ids = ids("inline", keys);
        seedAndFill(ids);
        long[] l2Before =
                caches.stream().mapToLong(c -> c.stats().l2RequestCount()).toArray();
        long[] updatedBefore = {
            invalidations("app-a", ClientMeters.RESULT_UPDATED), invalidations("app-b", ClientMeters.RESULT_UPDATED)
        };
        long[] evictedBefore = {
            invalidations("app-a", ClientMeters.RESULT_EVICTED), invalidations("app-b", ClientMeters.RESULT_EVICTED)
        };
        long publishedBefore = pipeline.invalidationsPublished();

        // update i is version 2 + i / keys of key i % keys; readers note when their L1 first shows each version
        long[] publishedAt = new long[updates];
        long[][] seenAt = new long[2][updates];
        AtomicLong regressions = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> readers = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            EntityCache<Doc> cache = caches.get(c);
            long[] seen = seenAt[c];
            readers.add(new Thread(
                    () -> {
                        long[] last = new long[keys];
                        Arrays.fill(last, 1);
                        while (!stop.get()) {
                            for (int k = 0; k < keys; k++) {
                                long v = cache.get(ids[k]).map(Doc::v).orElse(-1L);
                                if (v > last[k]) {
                                    long now = System.nanoTime();
                                    int update = (int) (v - 2) * keys + k;
                                    if (update < updates) {
                                        seen[update] = now;
                                    }
                                    last[k] = v;
                                } else if (v < last[k]) {
                                    regressions.incrementAndGet();
                                }
                            }
                            LockSupport.parkNanos(200_000); // poll every ~0.25 ms, leave the pipeline its cores
                        }
                    },
                    "l1-poller-" + c));
        }
        readers.forEach(Thread::start);
        try {
            for (int i = 0; i < updates; i++) {
                int k = i % keys;
                long v = 2 + i / keys;
                DomainEvent event = event(ids[k], v, SMALL);
                publishedAt[i] = System.nanoTime();
                publisher.publish(event);
                TimeUnit.MILLISECONDS.sleep(10); // each key changes every ~100 ms
            }
            publisher.flush();
            long last = 2 + (updates - 1) / keys;
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                for (EntityCache<Doc> cache : caches) {
                    for (String id : ids) {
                        assertThat(cache.get(id).map(Doc::v)).as("%s in L1", id).contains(last);
                    }
                }
            });
        } finally {
            stop.set(true);
            for (Thread t : readers) {
                t.join();
            }
        }

        // the writer counts an invalidation once Kafka acknowledged it, which may be just after a client applied it
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            long published = pipeline.invalidationsPublished() - publishedBefore;
            assertThat(published).as("invalidations the writer published").isBetween((long) keys, (long) updates);
            for (int c = 0; c < 2; c++) {
                String name = c == 0 ? "app-a" : "app-b";
                assertThat(invalidations(name, ClientMeters.RESULT_UPDATED) - updatedBefore[c])
                        .as("invalidations of %s that updated L1 in place", name)
                        .isEqualTo(published);
            }
        });
        for (int c = 0; c < 2; c++) {
            String name = c == 0 ? "app-a" : "app-b";
            assertThat(caches.get(c).stats().l2RequestCount())
                    .as("Redis reads of %s: every update applied in place, none read Redis", name)
                    .isEqualTo(l2Before[c]);
            assertThat(invalidations(name, ClientMeters.RESULT_EVICTED) - evictedBefore[c])
                    .as("invalidations of %s that evicted instead of updating in place", name)
                    .isZero();
        }
        assertThat(regressions.get()).as("L1 reads that went back").isZero();

        List<Double> a = latencies(publishedAt, seenAt[0]);
        List<Double> b = latencies(publishedAt, seenAt[1]);
        List<Double> both = new ArrayList<>(a);
        both.addAll(b);
        // a busy machine coalesces versions of a key (writer batches) or a poller misses one: the figures below are
        // information, the assertion is only that each client's poller saw every key change in its L1
        for (int c = 0; c < 2; c++) {
            for (int k = 0; k < keys; k++) {
                boolean seen = false;
                for (int i = k; i < updates; i += keys) {
                    seen |= seenAt[c][i] != 0;
                }
                assertThat(seen)
                        .as("client %s saw a new version of %s in L1", c == 0 ? "a" : "b", ids[k])
                        .isTrue();
            }
        }
        System.out.printf(
                Locale.ROOT,
                "event->L1 latency (publish to first L1 read of the new version, in place), %d updates:%n"
                        + "  client a: %d samples, p50 %.1f ms, p99 %.1f ms, max %.1f ms%n"
                        + "  client b: %d samples, p50 %.1f ms, p99 %.1f ms, max %.1f ms%n"
                        + "  both:     p50 %.1f ms, p99 %.1f ms%n"
                        + "  client invalidation.delay (writtenAt to L1): a p50 %.1f p99 %.1f ms, b p50 %.1f p99 %.1f"
                        + " ms%n"
                        + "  pipeline freshness (occurredAt to Redis ack, since the pipeline started): p50 %.1f ms, p99 %.1f"
                        + " ms%n",
                updates,
                a.size(),
                percentile(a, 0.5),
                percentile(a, 0.99),
                percentile(a, 1.0),
                b.size(),
                percentile(b, 0.5),
                percentile(b, 0.99),
                percentile(b, 1.0),
                percentile(both, 0.5),
                percentile(both, 0.99),
                timerMillis(delayTimer("app-a"), 0.5),
                timerMillis(delayTimer("app-a"), 0.99),
                timerMillis(delayTimer("app-b"), 0.5),
                timerMillis(delayTimer("app-b"), 0.99),
                timerMillis(pipeline.registry.find(WriterMeters.FRESHNESS).timer(), 0.5),
                timerMillis(pipeline.registry.find(WriterMeters.FRESHNESS).timer(), 0.99));
    }

    @Test
    void shouldEvictAndReloadFromRedisWhenAnUpdateIsLargerThanInlineInvalidationMaxBytes() throws Exception {
        String[] ids = ids("evict", 1);
        String id = ids[0];
        seedAndFill(ids);
        long[] evictedBefore = {
            invalidations("app-a", ClientMeters.RESULT_EVICTED), invalidations("app-b", ClientMeters.RESULT_EVICTED)
        };
        long[] updatedBefore = {
            invalidations("app-a", ClientMeters.RESULT_UPDATED), invalidations("app-b", ClientMeters.RESULT_UPDATED)
        };

        publisher.publish(event(id, 2, LARGE));
        publisher.flush();
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(new long[] {
                            invalidations("app-a", ClientMeters.RESULT_EVICTED) - evictedBefore[0],
                            invalidations("app-b", ClientMeters.RESULT_EVICTED) - evictedBefore[1]
                        })
                        .as("L1 copies evicted by the v2 invalidation")
                        .containsExactly(1, 1));
        assertThat(invalidations("app-a", ClientMeters.RESULT_UPDATED)).isEqualTo(updatedBefore[0]);
        assertThat(invalidations("app-b", ClientMeters.RESULT_UPDATED)).isEqualTo(updatedBefore[1]);

        for (EntityCache<Doc> cache : caches) {
            CacheStats before = cache.stats();
            Optional<Doc> reloaded = cache.get(id);
            CacheStats after = cache.stats();
            assertThat(reloaded).map(Doc::v).contains(2L);
            assertThat(reloaded.get().pad()).hasSizeGreaterThan(1024);
            assertThat(after.l1Misses() - before.l1Misses())
                    .as("the evicted copy is gone")
                    .isEqualTo(1);
            assertThat(after.l2Hits() - before.l2Hits())
                    .as("v2 read from Redis")
                    .isEqualTo(1);
            // and cached again: the next read is an L1 hit
            assertThat(cache.get(id)).map(Doc::v).contains(2L);
            assertThat(cache.stats().l1Hits() - after.l1Hits()).isEqualTo(1);
            assertThat(cache.stats().l2RequestCount()).isEqualTo(after.l2RequestCount());
        }
        // what the pipeline announced: v1 with its payload inline, v2 without (too large)
        String key = oracle.key(TYPE, id);
        List<CacheInvalidation> announced = Invalidations.readAll(pipeline).stream()
                .filter(i -> i.getKey().equals(key))
                .toList();
        assertThat(announced).extracting(CacheInvalidation::getVersion).containsExactly(1L, 2L);
        assertThat(announced.get(0).getPayload()).isNotNull();
        assertThat(announced.get(1).getPayload()).isNull();
    }

    // ----------------------------------------------------------------------------- acceptance 2: monotonic reads

    @Test
    void shouldNeverReturnAnOlderVersionAndEndWithL1EqualToRedisWhenReadersRaceThePipeline() throws Exception {
        int keys = 20;
        int readersPerClient = 2;
        Duration run = Duration.ofSeconds(6);
        String[] ids = ids("hot", keys);
        seedAndFill(ids);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        AtomicLong empties = new AtomicLong();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        // per client and key: the highest version returned by a read that has completed
        List<AtomicLongArray> completed = List.of(new AtomicLongArray(keys), new AtomicLongArray(keys));
        List<Thread> readers = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            EntityCache<Doc> cache = caches.get(c);
            AtomicLongArray done = completed.get(c);
            String client = c == 0 ? "a" : "b";
            for (int r = 0; r < readersPerClient; r++) {
                readers.add(new Thread(
                        () -> {
                            ThreadLocalRandom random = ThreadLocalRandom.current();
                            long n = 0;
                            while (!stop.get()) {
                                int k = random.nextInt(keys);
                                long floor = done.get(k); // read before the call starts
                                int dice = random.nextInt(10);
                                if (dice < 2) {
                                    cache.invalidateLocal(ids[k]); // send reads to Redis, racing the invalidations
                                }
                                long v;
                                if (dice == 9) {
                                    Doc d = cache.getAll(List.of(ids[k])).get(ids[k]);
                                    v = d == null ? -1 : d.v();
                                } else {
                                    v = cache.get(ids[k]).map(Doc::v).orElse(-1L);
                                }
                                reads.incrementAndGet();
                                if (v < 0) {
                                    empties.incrementAndGet();
                                } else {
                                    if (v < floor) {
                                        violations.add("client " + client + " returned " + ids[k] + " v" + v
                                                + " after a completed read of v" + floor);
                                    }
                                    done.accumulateAndGet(k, v, Math::max);
                                }
                                if (++n % 8 == 0) {
                                    LockSupport.parkNanos(50_000); // leave the pipeline some of the two cores
                                }
                            }
                        },
                        "reader-" + client + "-" + r));
            }
        }
        readers.forEach(Thread::start);

        // the producer: per key, blocks of 3 versions sent shuffled (out of order), plus exact duplicates
        Random random = new Random(42);
        long[] highest = new long[keys];
        Arrays.fill(highest, 1);
        List<DomainEvent> recent = new ArrayList<>();
        long events = 0;
        long outOfOrder = 0;
        long duplicates = 0;
        long large = 0;
        long deadline = System.nanoTime() + run.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                int k = random.nextInt(keys);
                List<Long> block = new ArrayList<>(List.of(highest[k] + 1, highest[k] + 2, highest[k] + 3));
                java.util.Collections.shuffle(block, random);
                long sentMax = highest[k];
                for (long v : block) {
                    boolean isLarge = random.nextInt(10) == 0;
                    DomainEvent e = event(ids[k], v, isLarge ? LARGE : SMALL);
                    publisher.publish(e);
                    events++;
                    large += isLarge ? 1 : 0;
                    outOfOrder += v < sentMax ? 1 : 0;
                    sentMax = Math.max(sentMax, v);
                    recent.add(e);
                }
                highest[k] += 3;
                if (random.nextInt(20) == 0) {
                    publisher.publish(recent.get(random.nextInt(recent.size())));
                    events++;
                    duplicates++;
                }
                if (recent.size() > 100) {
                    recent.subList(0, 50).clear();
                }
                TimeUnit.MILLISECONDS.sleep(5); // about 500 events/s
            }
            publisher.flush();
        } finally {
            stop.set(true);
            for (Thread t : readers) {
                t.join();
            }
        }

        // the pipeline drained: Redis holds every key's highest version
        try (ConsistencyCheck check = pipeline.check(oracle)) {
            ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(90));
            assertThat(result.isConsistent()).as(result.toString()).isTrue();
        }
        for (int k = 0; k < keys; k++) {
            assertThat(probe.read(oracle.key(TYPE, ids[k])).map(CacheEntry::version))
                    .contains(highest[k]);
        }
        CacheStats[] before = {caches.get(0).stats(), caches.get(1).stats()};
        // and every client's L1 equals Redis (invalidations trail the writes a little)
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            for (EntityCache<Doc> cache : caches) {
                for (int k = 0; k < keys; k++) {
                    long stored =
                            probe.read(oracle.key(TYPE, ids[k])).orElseThrow().version();
                    assertThat(cache.get(ids[k]).map(Doc::v))
                            .as("%s: client vs Redis", ids[k])
                            .contains(stored);
                }
            }
        });
        CacheStats a = caches.get(0).stats();
        CacheStats b = caches.get(1).stats();
        System.out.printf(
                Locale.ROOT,
                "monotonic reads against the pipeline: %d writes (%d out of order, %d duplicates, %d too large to"
                        + " ride inline) on %d keys, %d reads on 2 clients, %d violations, %d empty reads;%n"
                        + "  L1 hit rate a %.3f / b %.3f, invalidations applied %d / %d, stale %d / %d, stale reads"
                        + " refused %d / %d, resyncs %d / %d;%n"
                        + "  final check (%d keys per client): L1 hits a %d / b %d, Redis reads a %d / b %d%n",
                events,
                outOfOrder,
                duplicates,
                large,
                keys,
                reads.get(),
                violations.size(),
                empties.get(),
                a.l1HitRate(),
                b.l1HitRate(),
                a.invalidationsApplied(),
                b.invalidationsApplied(),
                a.invalidationsStale(),
                b.invalidationsStale(),
                a.staleFillsDropped(),
                b.staleFillsDropped(),
                a.resyncs(),
                b.resyncs(),
                keys,
                a.l1Hits() - before[0].l1Hits(),
                b.l1Hits() - before[1].l1Hits(),
                a.l2RequestCount() - before[0].l2RequestCount(),
                b.l2RequestCount() - before[1].l2RequestCount());
        assertThat(violations).as("reads that went back in time").isEmpty();
        assertThat(empties.get())
                .as("reads that found nothing (every key exists)")
                .isZero();
        assertThat(reads.get()).isGreaterThan(1000);
        assertThat(outOfOrder).isPositive();
        assertThat(a.invalidationsApplied()).isPositive();
        assertThat(b.invalidationsApplied()).isPositive();
        assertThat(a.resyncs() + b.resyncs())
                .as("L1 resyncs (client a: %s, client b: %s)", a, b)
                .isZero();
    }

    // ----------------------------------------------------------------------------------------------------- helpers

    private static String[] ids(String base, int n) {
        String run = UUID.randomUUID().toString().substring(0, 6);
        String[] ids = new String[n];
        for (int i = 0; i < n; i++) {
            ids[i] = base + "-" + run + "-" + i;
        }
        return ids;
    }

    /**
     * Publishes v1 (small) of each id, waits until Redis has it and both clients have seen its invalidation (so that
     * none is still in flight when a test counts), then reads it through both clients into their L1.
     */
    private void seedAndFill(String[] ids) {
        long publishedBefore = pipeline.invalidationsPublished();
        long[] seenBefore = {invalidations("app-a", null), invalidations("app-b", null)};
        for (String id : ids) {
            publisher.publish(event(id, 1, SMALL));
        }
        publisher.flush();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (String id : ids) {
                assertThat(probe.read(oracle.key(TYPE, id)).map(CacheEntry::version))
                        .as("%s in Redis", id)
                        .contains(1L);
            }
            assertThat(pipeline.invalidationsPublished() - publishedBefore).isEqualTo(ids.length);
            assertThat(invalidations("app-a", null) - seenBefore[0]).isEqualTo(ids.length);
            assertThat(invalidations("app-b", null) - seenBefore[1]).isEqualTo(ids.length);
        });
        for (EntityCache<Doc> cache : caches) {
            for (String id : ids) {
                assertThat(cache.get(id).map(Doc::v)).contains(1L);
                assertThat(cache.get(id).map(Doc::v)).contains(1L); // now from L1
            }
            assertThat(cache.stats().l1Hits()).isGreaterThanOrEqualTo(ids.length);
        }
    }

    /** An UPSERT whose JSON payload {@code {"v":N,"id":...,"pad":"xxx"}} is {@code bytes} long. */
    private static DomainEvent event(String id, long version, int bytes) {
        String head = "{\"v\":" + version + ",\"id\":\"" + id + "\",\"pad\":\"";
        String json = head + "x".repeat(Math.max(0, bytes - head.length() - 2)) + "\"}";
        return DomainEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setEntityType(TYPE)
                .setEntityId(id)
                .setVersion(version)
                .setOp(Operation.UPSERT)
                .setOccurredAt(Instant.ofEpochMilli(System.currentTimeMillis()))
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)))
                .setAttributes(Map.of("source", "ClientPipelineIT"))
                .build();
    }

    /** {@link ClientMeters#INVALIDATIONS}{@code {client, entity=user, result}}; every result when {@code null}. */
    private long invalidations(String client, String result) {
        return (long) registry
                .find(ClientMeters.INVALIDATIONS)
                .tags(ClientMeters.CLIENT, client, ClientMeters.ENTITY, TYPE)
                .tags(result == null ? new String[0] : new String[] {ClientMeters.RESULT, result})
                .functionCounters()
                .stream()
                .mapToDouble(FunctionCounter::count)
                .sum();
    }

    private Timer delayTimer(String client) {
        return registry.find(ClientMeters.INVALIDATION_DELAY)
                .tag(ClientMeters.CLIENT, client)
                .timer();
    }

    private static double timerMillis(Timer timer, double p) {
        if (timer == null) {
            return -1;
        }
        for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
            if (Math.abs(v.percentile() - p) < 1e-9) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return p >= 1.0 ? timer.max(TimeUnit.MILLISECONDS) : -1;
    }

    /** Milliseconds from publishing each update to its first sighting in L1, for the updates that were seen. */
    private static List<Double> latencies(long[] publishedAt, long[] seenAt) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < publishedAt.length; i++) {
            if (seenAt[i] != 0) {
                out.add((seenAt[i] - publishedAt[i]) / 1e6);
            }
        }
        return out;
    }

    private static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int index = (int) Math.ceil(p * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}
