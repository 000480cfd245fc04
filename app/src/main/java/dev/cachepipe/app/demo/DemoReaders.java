package dev.cachepipe.app.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.ops.Metrics;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.CacheClientBuilder;
import dev.cachepipe.client.CacheStats;
import dev.cachepipe.client.ClientMeters;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's applications: two {@link CacheClient} instances (as two instances of one service would run), each with
 * two reader threads calling {@code get(id)} on random entities of every entity type while the events flow, at a
 * bounded total rate so that they do not take the pipeline's cores. Their L1/L2 hit rates and invalidation lag
 * ({@link ClientMeters#INVALIDATION_DELAY}: Redis write to L1) go into the demo's progress line and summary.
 *
 * <p>If the clients cannot start (e.g. a Redis URI the client does not support), the demo runs without readers and
 * says why. Thread-safe.
 */
final class DemoReaders implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DemoReaders.class);
    static final List<String> CLIENT_NAMES = List.of("demo-app-a", "demo-app-b");
    static final int THREADS_PER_CLIENT = 2;
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** The rate ramps up over this long, so that the clients' warm-up does not fall on the pipeline's. */
    private static final long RAMP_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final MeterRegistry registry;
    private final List<CacheClient> clients;
    private final String notStarted;
    private volatile int readsPerSecond;
    private final List<Thread> threads = new ArrayList<>();
    private final LongAdder reads = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private volatile boolean stopped;
    private volatile long startNanos;
    private volatile long stopNanos;

    private DemoReaders(MeterRegistry registry, List<CacheClient> clients, String notStarted) {
        this.registry = registry;
        this.clients = clients;
        this.notStarted = notStarted;
    }

    /**
     * Builds the clients against the pipeline's Redis and invalidations topic and starts the readers.
     *
     * @param entityTypes the entity types to read
     * @param idPrefix the demo run's entity id prefix
     * @param entitiesPerType ids {@code 0 .. entitiesPerType-1} of each type are read
     * @param readsPerSecond total over all readers
     */
    static DemoReaders start(
            CachepipeConfig config,
            Infrastructure infra,
            MeterRegistry registry,
            List<String> entityTypes,
            String idPrefix,
            int entitiesPerType,
            int readsPerSecond) {
        if (readsPerSecond <= 0) {
            return new DemoReaders(registry, List.of(), "--client-reads 0");
        }
        List<CacheClient> clients = new ArrayList<>();
        try {
            for (String name : CLIENT_NAMES) {
                clients.add(builder(config, infra, registry).name(name).build());
            }
        } catch (RuntimeException e) {
            clients.forEach(CacheClient::close);
            log.warn("The demo's cache clients did not start; running without readers: {}", e.toString());
            return new DemoReaders(registry, List.of(), e.getMessage());
        }
        DemoReaders readers = new DemoReaders(registry, List.copyOf(clients), null);
        readers.startThreads(entityTypes, idPrefix, entitiesPerType, readsPerSecond);
        return readers;
    }

    private static CacheClientBuilder builder(CachepipeConfig config, Infrastructure infra, MeterRegistry registry) {
        CachepipeConfig.Redis redis = config.redis();
        CacheClientBuilder b = CacheClient.builder()
                .redisUri(infra.redisUris())
                .redisMode(infra.redisMode().configName())
                .redisTls(
                        redis.tls().caFile(),
                        redis.tls().certFile(),
                        redis.tls().keyFile(),
                        redis.tls().verify().name())
                .keyPrefix(redis.keyPrefix())
                .redisTimeout(redis.timeout())
                .bootstrapServers(infra.bootstrapServers())
                .invalidationsTopic(config.topics().invalidations())
                .meterRegistry(registry);
        if (redis.password() != null && !redis.password().isEmpty()) {
            String user = redis.username();
            b.redisCredentials(
                    user == null || user.isEmpty() ? null : user,
                    redis.password().toCharArray());
        }
        // the consumer settings the client's listener owns stay out; the rest of kafka.properties is passed on
        for (Map.Entry<String, String> p : config.kafka().properties().entrySet()) {
            if (!CacheClientBuilder.FORBIDDEN_KAFKA_PROPERTIES.contains(p.getKey())) {
                b.kafkaProperty(p.getKey(), p.getValue());
            }
        }
        return b;
    }

    /** The id of entity {@code index} of a demo run, as {@code EventPlanner.entityId} makes it. */
    static String entityId(String idPrefix, int index) {
        return idPrefix + String.format(Locale.ROOT, "%05d", index);
    }

    private void startThreads(List<String> entityTypes, String idPrefix, int entitiesPerType, int readsPerSecond) {
        this.readsPerSecond = readsPerSecond;
        int total = clients.size() * THREADS_PER_CLIENT;
        // each reader does a few reads every 10 ms: readsPerSecond in total
        double perTick = (double) readsPerSecond / total * TICK_NANOS / 1e9;
        startNanos = System.nanoTime();
        for (int c = 0; c < clients.size(); c++) {
            List<EntityCache<JsonNode>> caches = new ArrayList<>();
            for (String type : entityTypes) {
                caches.add(clients.get(c).entity(type, Codec.json(JsonNode.class)));
            }
            for (int t = 0; t < THREADS_PER_CLIENT; t++) {
                Thread thread = new Thread(
                        () -> read(caches, idPrefix, entitiesPerType, perTick), CLIENT_NAMES.get(c) + "-reader-" + t);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
        }
    }

    private void read(List<EntityCache<JsonNode>> caches, String idPrefix, int entitiesPerType, double perTick) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        double budget = 0;
        long next = System.nanoTime();
        while (!stopped) {
            budget += perTick * Math.min(1.0, (double) (next - startNanos) / RAMP_NANOS);
            for (; budget >= 1; budget--) {
                EntityCache<JsonNode> cache = caches.get(random.nextInt(caches.size()));
                try {
                    // skewed towards low ids, as real traffic has hot keys: P(index < x) = sqrt(x / n)
                    double u = random.nextDouble();
                    cache.get(entityId(idPrefix, (int) (u * u * entitiesPerType)));
                } catch (RuntimeException e) {
                    if (failures.sum() == 0) {
                        log.warn("A demo read failed: {}", e.toString());
                    }
                    failures.increment();
                }
                reads.increment();
            }
            next += TICK_NANOS;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            } else if (wait < -TimeUnit.SECONDS.toNanos(1)) {
                next = System.nanoTime(); // far behind (a pause): do not burst to catch up
            }
        }
    }

    /** One line saying what reads, for the demo's header. */
    String describe() {
        if (clients.isEmpty()) {
            return "Readers: none (" + notStarted + ")";
        }
        return String.format(
                Locale.ROOT,
                "Readers: %d cache clients (%s) x %d threads, get(id) of random entities (hot ones more often)"
                        + " at up to %,d reads/s (ramping up over 5 s)",
                clients.size(),
                String.join(", ", CLIENT_NAMES),
                THREADS_PER_CLIENT,
                readsPerSecond);
    }

    /** Stops the readers (the clients stay open, so their stats can still be read). Idempotent. */
    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        stopNanos = System.nanoTime();
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Both clients' counters summed. */
    CacheStats stats() {
        return clients.stream().map(CacheClient::stats).reduce(CacheStats.empty(), CacheStats::plus);
    }

    /** To append to the progress line, e.g. {@code " | L1 94% L2 71% | L1 lag p50 3 p99 11 ms"}; empty without readers. */
    String progress() {
        if (clients.isEmpty()) {
            return "";
        }
        CacheStats s = stats();
        return String.format(
                Locale.ROOT,
                " | hit L1 %s L2 %s | L1 lag %s",
                percent(s.requestCount(), s.l1HitRate()),
                percent(s.l2RequestCount(), s.l2HitRate()),
                lag(worst(0.5), worst(0.99)));
    }

    /** Lines for the demo's summary. */
    List<String> summary() {
        if (clients.isEmpty()) {
            return List.of("  clients      not started: " + notStarted);
        }
        CacheStats s = stats();
        long elapsed = (stopped ? stopNanos : System.nanoTime()) - startNanos;
        String perClientLag = CLIENT_NAMES.stream()
                .map(n -> n + " " + lag(millis(n, 0.5), millis(n, 0.99)))
                .collect(Collectors.joining(", "));
        return List.of(
                String.format(
                        Locale.ROOT,
                        "  clients      %d instances x %d readers: %,d reads (%,.0f/s), L1 hit rate %s, L2 hit rate %s"
                                + " of %,d Redis reads, %,d failed",
                        clients.size(),
                        THREADS_PER_CLIENT,
                        reads.sum(),
                        reads.sum() * 1e9 / Math.max(1, elapsed),
                        percent(s.requestCount(), s.l1HitRate()),
                        percent(s.l2RequestCount(), s.l2HitRate()),
                        s.l2RequestCount(),
                        failures.sum() + s.l2Errors()),
                String.format(
                        Locale.ROOT,
                        "  L1 lag       %s (Redis write to L1); invalidations applied %,d, stale %,d, stale reads"
                                + " refused %,d, resyncs %,d",
                        perClientLag,
                        s.invalidationsApplied(),
                        s.invalidationsStale(),
                        s.staleFillsDropped(),
                        s.resyncs()));
    }

    private static String percent(long requests, double rate) {
        return requests == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", rate * 100);
    }

    private static String lag(double p50, double p99) {
        if (p50 < 0 || p99 < 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "p50 %.0f p99 %.0f ms", p50, p99);
    }

    /** The larger of the clients' percentiles (a percentile of two clients cannot be merged exactly). */
    private double worst(double p) {
        return CLIENT_NAMES.stream().mapToDouble(n -> millis(n, p)).max().orElse(-1);
    }

    /** {@code p} of {@link ClientMeters#INVALIDATION_DELAY} of client {@code name} in ms, -1 if not known. */
    private double millis(String name, double p) {
        return Metrics.percentileMillis(
                registry.find(ClientMeters.INVALIDATION_DELAY)
                        .tag(ClientMeters.CLIENT, name)
                        .timer(),
                p);
    }

    /** Stops the readers and closes the clients. Idempotent. */
    @Override
    public void close() {
        stop();
        clients.forEach(CacheClient::close);
    }
}
