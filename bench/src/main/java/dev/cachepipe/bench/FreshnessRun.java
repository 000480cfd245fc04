package dev.cachepipe.bench;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.CacheStats;
import dev.cachepipe.client.ClientMeters;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.schemas.AvroSerde;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The freshness benchmark: an open-loop generator publishes domain events at a fixed rate (each event's {@code
 * occurredAt} is its slot on the schedule, so a late send counts against the pipeline: no coordinated omission) to
 * {@code cachepipe run} in its own process (the broker in another), and after a warm-up measures, from {@code
 * occurredAt}: the producer's acknowledgement, the mutation visible on the mutations topic (topology), Redis's
 * acknowledgement (the writer's {@code writtenAt}), the invalidation visible on the invalidations topic, and the
 * invalidation applied to the L1 of a remote client ({@value ClientMeters#FRESHNESS}). That client meanwhile reads
 * Zipf(0.99)-distributed ids at ten times the event rate and the share of reads served from L1 is reported. The last
 * line holds the figures as {@code key=value} tokens.
 *
 * <pre>bench/freshness-run [--rate 1000 --rate 5000 --rate 10000] [--warmup 30] [--measure 30]</pre>
 */
@Command(
        name = "freshness-run",
        mixinStandardHelpOptions = true,
        description = "Latency from occurredAt to Redis and to a remote client's L1 at fixed event rates, by stage.")
public final class FreshnessRun implements Callable<Integer> {
    @Option(
            names = "--rate",
            paramLabel = "EVENTS_PER_S",
            description = "event rate (repeatable; default 1000, 5000 and 10000, one after another)")
    List<Integer> rates = new ArrayList<>();

    @Option(
            names = "--warmup",
            defaultValue = "30",
            description = "seconds before measuring, for the JIT and the caches (default ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--measure", defaultValue = "30", description = "seconds measured (default ${DEFAULT-VALUE})")
    int measureSeconds;

    @Option(
            names = "--entities",
            defaultValue = "10000",
            description = "entities updated and read (default ${DEFAULT-VALUE})")
    int entities;

    @Option(
            names = "--read-ratio",
            defaultValue = "10",
            description = "client reads per event (default ${DEFAULT-VALUE})")
    int readRatio;

    @Mixin
    RunOptions runOptions = new RunOptions();

    private static final String TYPE = "item";
    private static final String PREFIX = "fresh";

    public static void main(String[] args) {
        System.exit(new CommandLine(new FreshnessRun()).execute(args));
    }

    /** The percentiles of one stage, in milliseconds from occurredAt. */
    private record Stage(String name, long count, double p50, double p99, double p999) {
        String line() {
            return String.format(Locale.ROOT, "  %-44s %9d %8.1f %8.1f %8.1f", name, count, p50, p99, p999);
        }
    }

    private record Figures(int rate, double achievedRate, List<Stage> stages, double l1ReadShare, long reads) {
        Stage stage(String prefix) {
            return stages.stream()
                    .filter(s -> s.name().startsWith(prefix))
                    .findFirst()
                    .orElseThrow();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (rates.isEmpty()) {
            rates = List.of(1000, 5000, 10000);
        }
        Path work = Files.createTempDirectory("cachepipe-freshness-run");
        List<Figures> all = new ArrayList<>();
        try (BrokerMain.Broker broker = BrokerMain.startIn(work)) {
            String bootstrap = broker.bootstrap();
            String kafka = runOptions.kafkaYaml(bootstrap, "cachepipe-freshness", work.resolve("state"));
            String rest = "topics: {partitions: 3, mutations: fresh.mutations, invalidations: fresh.invalidations,"
                    + " deadLetter: fresh.dlq}\n"
                    + "entities:\n  " + TYPE + ": {topics: [fresh.items], mode: write-through, ttl: 1h,"
                    + " tombstoneTtl: 1h}\n";
            CachepipeConfig config = CachepipeConfig.parse(
                    kafka + "redis: {uri: embedded, keyPrefix: " + PREFIX + "}\n" + rest, Map.of());
            try (Infrastructure infra = Infrastructure.start(config, 0)) {
                Pipeline.createTopics(config, infra);
                String runConfig =
                        kafka + "redis: {uri: '" + infra.redisUris() + "', keyPrefix: " + PREFIX + "}\n" + rest;
                try (PipelineProcess pipeline = PipelineProcess.start(
                        runConfig, runOptions.jvmOptions(), Files.createDirectories(work.resolve("run")))) {
                    System.out.println("cachepipe run in its own process; its log: " + pipeline.log());
                    Publisher publisher = new Publisher(bootstrap, "fresh.items", entities);
                    try {
                        for (int rate : rates) {
                            Figures f = measure(
                                    rate,
                                    bootstrap,
                                    infra.redisUris(),
                                    publisher,
                                    pipeline,
                                    broker.jvm().pid());
                            all.add(f);
                        }
                    } finally {
                        publisher.close();
                    }
                }
            }
        } finally {
            LoadRun.deleteRecursively(work);
        }
        StringBuilder summary = new StringBuilder();
        for (Figures f : all) {
            String p = all.size() == 1 ? "" : "rate_" + f.rate() + "_";
            Stage redis = f.stage("Redis");
            Stage l1 = f.stage("L1");
            summary.append(String.format(
                    Locale.ROOT,
                    "%srate=%d %sredis_p50_ms=%.1f %sredis_p99_ms=%.1f %sredis_p999_ms=%.1f %sl1_p50_ms=%.1f"
                            + " %sl1_p99_ms=%.1f %sl1_p999_ms=%.1f %sl1_read_share=%.4f ",
                    p,
                    f.rate(),
                    p,
                    redis.p50(),
                    p,
                    redis.p99(),
                    p,
                    redis.p999(),
                    p,
                    l1.p50(),
                    p,
                    l1.p99(),
                    p,
                    l1.p999(),
                    p,
                    f.l1ReadShare()));
        }
        System.out.println(summary.toString().strip());
        return 0;
    }

    private Figures measure(
            int rate, String bootstrap, String redisUri, Publisher publisher, PipelineProcess pipeline, long brokerPid)
            throws Exception {
        System.out.printf(
                Locale.ROOT, "== %,d events/s: %d s warm-up, %d s measured%n", rate, warmupSeconds, measureSeconds);
        Zipf zipf = new Zipf(entities, 0.99);
        long warmupNanos = TimeUnit.SECONDS.toNanos(warmupSeconds);
        long measureNanos = TimeUnit.SECONDS.toNanos(measureSeconds);
        // One client for the whole run; its meters go to a composite registry, and the window's registry is added
        // to it only for the window: the freshness timer there holds exactly the invalidations applied meanwhile.
        CompositeMeterRegistry meters = new CompositeMeterRegistry();
        CacheClient client = client(bootstrap, redisUri, meters, "remote");
        EntityCache<String> cache = client.entity(TYPE, TEXT);
        Readers readers = new Readers(cache, zipf, (long) rate * readRatio);
        StageRecorder mutations = StageRecorder.start(bootstrap, "fresh.mutations", true);
        StageRecorder invalidations = StageRecorder.start(bootstrap, "fresh.invalidations", false);
        SimpleMeterRegistry window = new SimpleMeterRegistry();
        long start = System.nanoTime();
        publisher.startAt(rate, start);
        readers.start();
        long windowStartMs;
        long windowEndMs;
        PipelineProcess.Cpu cpuBefore;
        PipelineProcess.Cpu cpu;
        double brokerBefore;
        double brokerCpu;
        double benchBefore;
        double benchCpu;
        long[] machineBefore;
        double machineBusy;
        CacheStats before;
        CacheStats after;
        try {
            sleepUntil(start + warmupNanos);
            meters.add(window);
            cpuBefore = pipeline.cpu();
            brokerBefore = ProcStat.processCpuSeconds(brokerPid);
            benchBefore = ProcStat.processCpuSeconds(ProcessHandle.current().pid());
            machineBefore = ProcStat.machineTicks();
            windowStartMs = System.currentTimeMillis();
            before = cache.stats();
            publisher.measureFrom(windowStartMs);
            sleepUntil(start + warmupNanos + measureNanos);
            windowEndMs = System.currentTimeMillis();
            after = cache.stats();
            cpu = pipeline.cpu().minus(cpuBefore);
            brokerCpu = ProcStat.processCpuSeconds(brokerPid) - brokerBefore;
            benchCpu = ProcStat.processCpuSeconds(ProcessHandle.current().pid()) - benchBefore;
            long[] machineAfter = ProcStat.machineTicks();
            machineBusy = (double) (machineAfter[0] - machineBefore[0]) / (machineAfter[1] - machineBefore[1]);
            publisher.measureFrom(Long.MAX_VALUE);
        } finally {
            publisher.pause();
            readers.stop();
        }
        Thread.sleep(1000); // the last events of the window reach Redis and the client
        meters.remove(window);
        mutations.stop();
        invalidations.stop();
        Timer l1 = window.find(ClientMeters.FRESHNESS).timer();
        client.close();

        List<Stage> stages = new ArrayList<>();
        stages.add(publisher.lateness().stage("sent (behind its slot)"));
        stages.add(publisher.acks().stage("producer acknowledged"));
        stages.add(mutations.seen(windowStartMs, windowEndMs).stage("topology: mutation on the mutations topic"));
        stages.add(invalidations.written(windowStartMs, windowEndMs).stage("Redis acknowledged (writtenAt)"));
        stages.add(invalidations.seen(windowStartMs, windowEndMs).stage("invalidation on the invalidations topic"));
        stages.add(l1Stage(l1));
        long sent = publisher.sentInWindow();
        long reads = after.requestCount() - before.requestCount();
        double l1Share = reads == 0 ? 0 : (double) (after.l1Hits() - before.l1Hits()) / reads;
        System.out.printf(
                Locale.ROOT,
                "sent %,d events in the window (%,.0f/s, %,d behind schedule at most %.1f ms); %,d reads (%,.0f/s),"
                        + " %.2f %% from L1%n",
                sent,
                sent / (double) measureSeconds,
                publisher.late(),
                publisher.maxLateMs(),
                reads,
                reads / (double) measureSeconds,
                l1Share * 100);
        System.out.printf(
                Locale.ROOT,
                "cpu in the window: cachepipe run %.0f %% of a core (%.1f µs/event in its threads), the broker %.0f %%,"
                        + " this benchmark (generator, stage consumers, the remote client and its reader) %.0f %%; the"
                        + " machine's %d cores %.0f %% busy%n",
                cpu.processNanos() / 1e7 / measureSeconds,
                cpu.totalThreadNanos() / 1e3 / Math.max(1, sent),
                brokerCpu * 100 / measureSeconds,
                benchCpu * 100 / measureSeconds,
                Runtime.getRuntime().availableProcessors(),
                machineBusy * 100);
        PipelineProcess.lines(cpu, Math.max(1, sent)).forEach(System.out::println);
        System.out.printf(
                Locale.ROOT, "  %-44s %9s %8s %8s %8s%n", "ms from occurredAt to", "events", "p50", "p99", "p99.9");
        stages.forEach(s -> System.out.println(s.line()));
        if (!pipeline.isAlive()) {
            throw new IllegalStateException("cachepipe run exited; see " + pipeline.log());
        }
        return new Figures(rate, sent / (double) measureSeconds, stages, l1Share, reads);
    }

    private static Stage l1Stage(Timer t) {
        double p50 = 0;
        double p99 = 0;
        double p999 = 0;
        if (t != null) {
            for (ValueAtPercentile v : t.takeSnapshot().percentileValues()) {
                double ms = v.value(TimeUnit.MILLISECONDS);
                if (v.percentile() == 0.5) {
                    p50 = ms;
                } else if (v.percentile() == 0.99) {
                    p99 = ms;
                } else if (v.percentile() == 0.999) {
                    p999 = ms;
                }
            }
        }
        return new Stage("L1 of the remote client (invalidation applied)", t == null ? 0 : t.count(), p50, p99, p999);
    }

    private static CacheClient client(String bootstrap, String redisUri, MeterRegistry registry, String name) {
        return CacheClient.builder()
                .name("freshness-" + name)
                .redisUri(redisUri)
                .keyPrefix(PREFIX)
                .bootstrapServers(bootstrap)
                .invalidationsTopic("fresh.invalidations")
                .l1MaximumSize(1_000_000)
                .meterRegistry(registry)
                .build();
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            Thread.sleep(
                    Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)))));
        }
    }

    /** Payloads are the entity's id and version as text. */
    private static final Codec<String> TEXT = new Codec<>() {
        @Override
        public String contentType() {
            return "text/plain";
        }

        @Override
        public byte[] encode(String value) {
            return value.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String decode(byte[] payload) {
            return new String(payload, StandardCharsets.UTF_8);
        }
    };

    /** Latencies in milliseconds, and their percentiles. */
    private static final class Latencies {
        private long[] values = new long[1 << 16];
        private int size;

        synchronized void add(long ms) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = ms;
        }

        synchronized Stage stage(String name) {
            long[] sorted = Arrays.copyOf(values, size);
            Arrays.sort(sorted);
            return new Stage(name, size, at(sorted, 0.5), at(sorted, 0.99), at(sorted, 0.999));
        }

        private static double at(long[] sorted, double q) {
            return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
        }
    }

    /**
     * The open-loop generator: one thread sends event {@code i} at {@code start + i / rate}, stamped with that slot's
     * time as {@code occurredAt}, however late it is sent.
     */
    private static final class Publisher implements AutoCloseable {
        private final KafkaProducer<byte[], byte[]> producer;
        private final String topic;
        private final AvroSerde<DomainEvent> serde = AvroSerde.of(DomainEvent.class);
        private final long[] versions;
        private final SplittableRandom random = new SplittableRandom(11);
        private final Thread thread;
        private volatile int rate;
        private volatile long startNanos;
        private volatile long startMillis;
        private volatile long measureFromMs = Long.MAX_VALUE;
        private volatile boolean closed;
        private volatile Latencies acks = new Latencies();
        private volatile Latencies lateness = new Latencies();
        private volatile long sentInWindow;
        private volatile long late;
        private volatile double maxLateMs;

        Publisher(String bootstrap, String topic, int entities) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, 2); // a service sends its event within milliseconds
            this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
            this.topic = topic;
            this.versions = new long[entities];
            this.thread = new Thread(this::run, "open-loop-publisher");
            this.thread.setDaemon(true);
        }

        static String id(int i) {
            return "item-" + i;
        }

        void startAt(int eventsPerSecond, long nanoTime) {
            acks = new Latencies();
            lateness = new Latencies();
            sentInWindow = 0;
            late = 0;
            maxLateMs = 0;
            measureFromMs = Long.MAX_VALUE;
            startMillis = System.currentTimeMillis() + TimeUnit.NANOSECONDS.toMillis(nanoTime - System.nanoTime());
            startNanos = nanoTime;
            rate = eventsPerSecond;
            if (!thread.isAlive()) {
                thread.start();
            }
        }

        void measureFrom(long wallMillis) {
            measureFromMs = wallMillis;
        }

        void pause() {
            rate = 0;
        }

        private void run() {
            long i = 0;
            int lastRate = 0;
            long lastStart = 0;
            while (!closed) {
                int r = rate;
                long s = startNanos;
                if (r == 0) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                    continue;
                }
                if (r != lastRate || s != lastStart) {
                    i = 0;
                    lastRate = r;
                    lastStart = s;
                }
                long slot = s + i * 1_000_000_000L / r;
                long wait = slot - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                    continue;
                }
                double lateMs = -wait / 1e6;
                long occurredAt = startMillis + i * 1000L / r;
                send(occurredAt, lateMs);
                i++;
            }
        }

        private void send(long occurredAt, double lateMs) {
            int e = random.nextInt(versions.length);
            long version = ++versions[e];
            String id = id(e);
            DomainEvent event = DomainEvent.newBuilder()
                    .setEventId(UUID.randomUUID().toString())
                    .setEntityType(TYPE)
                    .setEntityId(id)
                    .setVersion(version)
                    .setOp(Operation.UPSERT)
                    .setOccurredAt(Instant.ofEpochMilli(occurredAt))
                    .setContentType("text/plain")
                    .setPayload(ByteBuffer.wrap((id + " version " + version + " of a freshness benchmark entity")
                            .getBytes(StandardCharsets.UTF_8)))
                    .setAttributes(Map.of())
                    .build();
            boolean measured = occurredAt >= measureFromMs;
            if (measured) {
                sentInWindow++;
                lateness.add(Math.round(lateMs));
                if (lateMs > 1) {
                    late++;
                }
                maxLateMs = Math.max(maxLateMs, lateMs);
            }
            Latencies a = acks;
            producer.send(
                    new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), serde.encode(event)),
                    (md, error) -> {
                        if (error == null && measured) {
                            a.add(System.currentTimeMillis() - occurredAt);
                        }
                    });
        }

        Latencies acks() {
            return acks;
        }

        Latencies lateness() {
            return lateness;
        }

        long sentInWindow() {
            return sentInWindow;
        }

        long late() {
            return late;
        }

        double maxLateMs() {
            return maxLateMs;
        }

        @Override
        public void close() throws InterruptedException {
            closed = true;
            thread.join(5000);
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** A consumer of one topic from its end, noting when each record was seen, by the record's occurredAt. */
    private static final class StageRecorder {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final boolean mutations;
        private final Thread thread;
        private volatile boolean stopped;
        private final List<long[]> seen = new ArrayList<>(); // {occurredAt, seenAt, writtenAt}

        private StageRecorder(KafkaConsumer<byte[], byte[]> consumer, boolean mutations) {
            this.consumer = consumer;
            this.mutations = mutations;
            this.thread = new Thread(this::run, "stage-" + (mutations ? "mutations" : "invalidations"));
            this.thread.setDaemon(true);
        }

        static StageRecorder start(String bootstrap, String topic, boolean mutations) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            // diagnostic consumers: light on the shared CPU (at most 5 ms later than a fetch per record)
            p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 65_536);
            p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
            KafkaConsumer<byte[], byte[]> c =
                    new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo info : c.partitionsFor(topic)) {
                parts.add(new TopicPartition(topic, info.partition()));
            }
            c.assign(parts);
            c.seekToEnd(parts);
            parts.forEach(c::position);
            StageRecorder r = new StageRecorder(c, mutations);
            r.thread.start();
            return r;
        }

        private void run() {
            AvroSerde<CacheMutation> m = AvroSerde.of(CacheMutation.class);
            AvroSerde<CacheInvalidation> inv = AvroSerde.of(CacheInvalidation.class);
            try {
                while (!stopped) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        long now = System.currentTimeMillis();
                        if (r.value() == null) {
                            continue;
                        }
                        long[] row;
                        if (mutations) {
                            row = new long[] {
                                m.decode(r.value()).getOccurredAt().toEpochMilli(), now, 0
                            };
                        } else {
                            CacheInvalidation i = inv.decode(r.value());
                            row = new long[] {
                                i.getOccurredAt().toEpochMilli(),
                                now,
                                i.getWrittenAt() == null ? 0 : i.getWrittenAt().toEpochMilli()
                            };
                        }
                        synchronized (seen) {
                            seen.add(row);
                        }
                    }
                }
            } finally {
                consumer.close(Duration.ofSeconds(5));
            }
        }

        void stop() throws InterruptedException {
            stopped = true;
            thread.join(10_000);
        }

        Latencies seen(long fromMs, long toMs) {
            return collect(fromMs, toMs, 1);
        }

        Latencies written(long fromMs, long toMs) {
            return collect(fromMs, toMs, 2);
        }

        private Latencies collect(long fromMs, long toMs, int column) {
            Latencies l = new Latencies();
            synchronized (seen) {
                for (long[] row : seen) {
                    if (row[0] >= fromMs && row[0] < toMs && row[column] != 0) {
                        l.add(row[column] - row[0]);
                    }
                }
            }
            return l;
        }
    }

    /** Ids drawn from a Zipf distribution: id {@code k} with probability proportional to {@code 1 / (k + 1)^s}. */
    private static final class Zipf {
        private final double[] cdf;

        Zipf(int n, double s) {
            cdf = new double[n];
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += 1 / Math.pow(k + 1, s);
                cdf[k] = sum;
            }
            for (int k = 0; k < n; k++) {
                cdf[k] /= sum;
            }
        }

        int next(SplittableRandom random) {
            int i = Arrays.binarySearch(cdf, random.nextDouble());
            return Math.min(cdf.length - 1, i >= 0 ? i : -i - 1);
        }
    }

    /** Reads Zipf-distributed ids at a fixed rate from one thread (open loop: behind schedule, it catches up). */
    private static final class Readers {
        private final Zipf zipf;
        private final long readsPerSecond;
        private volatile EntityCache<String> cache;
        private volatile boolean stopped;
        private final Thread thread;

        Readers(EntityCache<String> cache, Zipf zipf, long readsPerSecond) {
            this.cache = cache;
            this.zipf = zipf;
            this.readsPerSecond = readsPerSecond;
            this.thread = new Thread(this::run, "zipf-reader");
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        void switchTo(EntityCache<String> next) {
            cache = next;
        }

        void stop() throws InterruptedException {
            stopped = true;
            thread.join(10_000);
        }

        private void run() {
            SplittableRandom random = new SplittableRandom(5);
            long start = System.nanoTime();
            long done = 0;
            while (!stopped) {
                long due = (System.nanoTime() - start) * readsPerSecond / 1_000_000_000L;
                if (done >= due) {
                    LockSupport.parkNanos(1_000_000);
                    continue;
                }
                EntityCache<String> c = cache;
                while (done < due && !stopped) {
                    c.get(Publisher.id(zipf.next(random)));
                    done++;
                }
            }
        }
    }
}
