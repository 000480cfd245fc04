package dev.cachepipe.app.demo;

import dev.cachepipe.app.cli.EventEncoder;
import dev.cachepipe.app.cli.PlainProgressLines;
import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.config.Durations;
import dev.cachepipe.app.ops.JmxConnector;
import dev.cachepipe.app.ops.Metrics;
import dev.cachepipe.app.ops.OperatorEndpoints;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.embedded.StubSchemaRegistry;
import dev.cachepipe.schemas.SchemaRegistryClient;
import dev.cachepipe.schemas.WireFormat;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.topology.TopologyMeters;
import dev.cachepipe.writer.WriteOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cachepipe demo}: starts an embedded Kafka broker and a local redis-server (the bundled configuration), the
 * pipeline, and a generator that publishes events with duplicates, out-of-order versions, deletes and some poison,
 * while two cache clients read the entities ({@link DemoReaders}); shows live progress, then waits for the pipeline to catch up and checks every entity in Redis against what was
 * published. Exit code 0 when Redis is consistent, 1 otherwise.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Run the whole pipeline against an embedded Kafka broker and a local redis-server, publish generated"
                    + " events (duplicates, out-of-order versions, deletes, a little poison) while two cache clients"
                    + " read them, and check that Redis ends up consistent with them.",
            "Exit code 0 when every entity is consistent, 1 otherwise."
        })
public final class DemoCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(DemoCommand.class);
    private static final int MISMATCHES_SHOWN = 10;

    @Option(
            names = "--duration",
            defaultValue = "30s",
            converter = DurationConverter.class,
            paramLabel = "DURATION",
            description = "How long to publish events, e.g. 30s or 2m (default: ${DEFAULT-VALUE})")
    Duration duration;

    @Option(
            names = "--rate",
            defaultValue = "1000",
            paramLabel = "N",
            description = "Events per second (default: ${DEFAULT-VALUE})")
    int rate;

    @Option(
            names = "--entities",
            defaultValue = "1000",
            paramLabel = "N",
            description = "Entities per entity type (default: ${DEFAULT-VALUE})")
    int entities;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed, to repeat a run (default: random)")
    Long seed;

    @Option(
            names = "--poison-ratio",
            defaultValue = "0.002",
            paramLabel = "R",
            description =
                    "Fraction of records that are bad input for the dead-letter topic (default: ${DEFAULT-VALUE})")
    double poisonRatio;

    @Option(
            names = "--catch-up-timeout",
            defaultValue = "90s",
            converter = DurationConverter.class,
            paramLabel = "DURATION",
            description = "How long to wait for the pipeline to catch up at the end (default: ${DEFAULT-VALUE})")
    Duration catchUpTimeout;

    @Option(
            names = "--redis-cluster",
            defaultValue = "0",
            paramLabel = "MASTERS",
            description = "Run Redis as a local Redis Cluster of this many masters (3 to 9), each with a replica,"
                    + " instead of one redis-server (default: one server)")
    int redisCluster;

    @Option(
            names = "--client-reads",
            defaultValue = "2000",
            paramLabel = "N",
            description = "Reads per second through two cache clients while events flow, 0 for none (default:"
                    + " ${DEFAULT-VALUE})")
    int clientReads;

    @Option(
            names = "--format",
            defaultValue = "single-object",
            paramLabel = "FORMAT",
            description = "How the generator frames events: single-object (Avro single-object encoding) or confluent"
                    + " (the Confluent wire format, schema registered under <topic>-value in an in-process stub of the"
                    + " Schema Registry REST API) (default: ${DEFAULT-VALUE})")
    String format;

    @Mixin
    OperatorEndpoints endpoints;

    @Spec
    CommandSpec spec;

    private volatile boolean stopping;
    private volatile Thread mainThread;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final List<AutoCloseable> resources = new ArrayList<>();
    private PrintStream out;

    @Override
    public Integer call() throws Exception {
        validate();
        out = System.out;
        mainThread = Thread.currentThread();
        long seedValue = seed != null ? seed : System.nanoTime();
        quietExpectedWarnings();
        Thread hook = new Thread(this::interrupted, "cachepipe-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return runDemo(seedValue);
        } catch (InterruptedException e) {
            out.println("Interrupted; stopping.");
            return 130;
        } finally {
            closeAll();
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
        }
    }

    private int runDemo(long seedValue) throws Exception {
        long t0 = System.nanoTime();
        // the bundled configuration: embedded Kafka (whose data dir also holds the Streams state) and Redis
        CachepipeConfig cfg = CachepipeConfig.defaults();
        List<EntityPolicy> types = List.copyOf(cfg.entities().values());
        EventEncoder encoder = EventEncoder.singleObject();
        if (wireFormat() == WireFormat.CONFLUENT) {
            StubSchemaRegistry schemaRegistry = StubSchemaRegistry.start();
            resources.add(schemaRegistry);
            cfg = cfg.withSchemaRegistry(schemaRegistry.url());
            encoder = EventEncoder.confluent(
                    SchemaRegistryClient.create(cfg.decoding().registry()));
            out.println("Events in the Confluent wire format; schema registry: an in-process stub of its REST API at "
                    + schemaRegistry.url() + " (no registry server is needed for the demo)");
        }

        out.println("cachepipe demo: " + types.size() + " entity types x " + entities + " entities, " + rate
                + " events/s for " + Durations.format(duration) + ", seed " + seedValue);
        out.println("Starting " + (cfg.kafka().embedded() ? "an embedded Kafka broker" : "Kafka clients") + " and "
                + (!cfg.redis().embedded()
                        ? "the Redis client"
                        : redisCluster > 0
                                ? "a local Redis Cluster (" + redisCluster + " masters, a replica each)"
                                : "a local redis-server")
                + "...");
        JmxConnector jmx = endpoints.openJmx();
        if (jmx != null) {
            resources.add(jmx);
        }
        Infrastructure infra = Infrastructure.start(cfg, redisCluster);
        resources.add(infra);
        Metrics metrics = Metrics.start(endpoints.wantsPrometheus());
        resources.add(metrics);
        MeterRegistry registry = metrics.registry();
        Pipeline pipeline = Pipeline.start(cfg, infra, registry);
        resources.add(pipeline);
        resources.add(endpoints.open(pipeline, metrics, null));
        awaitRunning(pipeline);
        if (stopping) {
            return 130;
        }
        out.println("Pipeline running: Kafka " + infra.bootstrapServers() + ", Redis " + infra.redisDescription()
                + ", key prefix '" + cfg.redis().keyPrefix() + "'");
        out.println("Entity types: "
                + types.stream()
                        .map(p -> p.entityType() + " (" + p.mode().configName() + ", ttl " + Durations.format(p.ttl())
                                + ")")
                        .collect(Collectors.joining(", ")));

        DeadLetterCounter deadLetters = new DeadLetterCounter(
                infra.kafkaClientProperties(), cfg.topics().deadLetter());
        resources.add(deadLetters);
        deadLetters.start();

        Oracle oracle = new Oracle(cfg.redis().keyPrefix(), types, false);
        // ids unique to this run, so that a demo against long-lived servers never meets an earlier run's entities
        String idPrefix = Long.toString(Math.abs(seedValue % 46_656), 36) + "-";
        EventGenerator.Settings settings = EventGenerator.Settings.of(types, entities, seedValue)
                .withIdPrefix(idPrefix)
                .withPoisonRatio(poisonRatio);
        EventGenerator generator = new EventGenerator(infra.kafkaClientProperties(), settings, oracle, encoder);
        resources.add(generator);
        ConsistencyCheck check = new ConsistencyCheck(infra.redisTarget(), oracle);
        resources.add(check);
        WriterStats stats = new WriterStats(registry);
        DemoReaders readers = DemoReaders.start(
                cfg,
                infra,
                registry,
                types.stream().map(EntityPolicy::entityType).toList(),
                idPrefix,
                entities,
                clientReads);
        resources.add(readers);
        out.println(readers.describe());

        long publishStart = System.nanoTime();
        publishWithProgress(generator, stats, deadLetters, readers);
        if (stopping) {
            return 130;
        }
        out.printf(
                Locale.ROOT,
                "Published %,d records (%,d poison) in %.1f s; waiting for the pipeline to catch up...%n",
                generator.acknowledged(),
                generator.poisonSent(),
                (System.nanoTime() - publishStart) / 1e9);
        long[] lastPrint = {System.nanoTime()};
        ConsistencyCheck.Result result = check.awaitConsistent(catchUpTimeout, r -> {
            if (!r.isConsistent() && System.nanoTime() - lastPrint[0] > TimeUnit.SECONDS.toNanos(2)) {
                lastPrint[0] = System.nanoTime();
                out.printf(
                        Locale.ROOT,
                        "  catching up: %,d/%,d consistent, applied %,d%n",
                        r.consistent(),
                        r.total(),
                        stats.writes(WriteOutcome.APPLIED));
            }
        });
        if (stopping) {
            return 130;
        }
        readers.stop();
        awaitDeadLetters(deadLetters, oracle.poison().size());
        printSummary(generator, stats, deadLetters, oracle, t0);
        out.println("  decoded      " + decodedSummary(registry));
        readers.summary().forEach(out::println);
        out.println(result.summary());
        if (!result.isConsistent()) {
            out.println("First inconsistent entities:");
            result.mismatches().stream().limit(MISMATCHES_SHOWN).forEach(m -> out.println("  " + m));
            if (result.inconsistent() > MISMATCHES_SHOWN) {
                out.println("  ... and " + (result.inconsistent() - MISMATCHES_SHOWN) + " more");
            }
            out.println("Pipeline health: " + pipeline.healthReason());
            return 1;
        }
        return 0;
    }

    private void publishWithProgress(
            EventGenerator generator, WriterStats stats, DeadLetterCounter deadLetters, DemoReaders readers)
            throws InterruptedException {
        long planned = (long) rate * Math.max(1, duration.toSeconds());
        Thread publisher = new Thread(() -> generator.publishFor(duration, rate), "cachepipe-demo-generator");
        publisher.setUncaughtExceptionHandler((t, e) -> log.error("The event generator failed", e));
        ProgressBarBuilder builder = new ProgressBarBuilder()
                .setTaskName("events")
                .setInitialMax(planned)
                .setUpdateIntervalMillis(1000)
                .hideEta();
        if (System.console() != null) {
            builder.setConsumer(new ConsoleProgressBarConsumer(out)).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK);
        } else {
            // not a terminal: one plain line per update
            builder.setConsumer(new DelegatingProgressBarConsumer(new PlainProgressLines(out::println), 200))
                    .setStyle(ProgressBarStyle.ASCII); // 200: room for the readers' hit rates and lag
        }
        publisher.start();
        try (ProgressBar bar = builder.build()) {
            long lastSent = 0;
            long lastNanos = System.nanoTime();
            while (publisher.isAlive() && !stopping) {
                publisher.join(1000);
                long now = System.nanoTime();
                long sent = generator.sent();
                double perSecond = (sent - lastSent) * 1e9 / Math.max(1, now - lastNanos);
                lastSent = sent;
                lastNanos = now;
                bar.maxHint(Math.max(planned, sent));
                bar.stepTo(sent);
                bar.setExtraMessage(progressMessage(perSecond, stats, deadLetters) + readers.progress());
            }
            bar.stepTo(generator.sent());
            bar.maxHint(generator.sent());
        } finally {
            // on Ctrl-C (or any failure) the generator must stop before its producer is closed
            generator.stop();
            boolean interrupted = Thread.interrupted();
            publisher.join(TimeUnit.SECONDS.toMillis(30));
            if (interrupted) {
                throw new InterruptedException("stopped while publishing");
            }
        }
    }

    private static String progressMessage(double perSecond, WriterStats stats, DeadLetterCounter deadLetters) {
        return String.format(
                Locale.ROOT,
                "%,5.0f ev/s | applied %,d | stale skipped %,d | DLQ %,d | fresh %s | dup %,d",
                perSecond,
                stats.writes(WriteOutcome.APPLIED),
                stats.writes(WriteOutcome.STALE),
                deadLetters.total(),
                freshness(stats),
                stats.writes(WriteOutcome.DUPLICATE));
    }

    private static String freshness(WriterStats stats) {
        double p50 = stats.freshnessMillis(0.5);
        double p99 = stats.freshnessMillis(0.99);
        if (p50 < 0 || p99 < 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "p50 %.0f ms p99 %.0f ms", p50, p99);
    }

    private void printSummary(
            EventGenerator generator, WriterStats stats, DeadLetterCounter deadLetters, Oracle oracle, long t0) {
        out.printf(Locale.ROOT, "Finished in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        out.printf(
                Locale.ROOT,
                "  published    %,d events for %,d entities (%,d older than a version already sent, %,d exact"
                        + " duplicates) + %,d poison records; %,d refused by Kafka%n",
                oracle.eventCount(),
                oracle.entityCount(),
                generator.outOfOrderSent(),
                generator.duplicatesSent(),
                oracle.poison().size(),
                generator.failed());
        out.printf(
                Locale.ROOT,
                "  writer       applied %,d, stale skipped %,d, duplicates %,d, invalidations %,d%n",
                stats.writes(WriteOutcome.APPLIED),
                stats.writes(WriteOutcome.STALE),
                stats.writes(WriteOutcome.DUPLICATE),
                stats.invalidations());
        out.println("  freshness    " + freshness(stats) + " (event occurredAt to Redis acknowledgement)");
        Map<String, Long> reasons = deadLetters.byReason();
        out.printf(
                Locale.ROOT,
                "  dead letters %,d%s%n",
                deadLetters.total(),
                reasons.isEmpty()
                        ? ""
                        : reasons.entrySet().stream()
                                .map(e -> e.getKey() + " " + e.getValue())
                                .collect(Collectors.joining(", ", " (", ")")));
    }

    /** "confluent 19,958 (schema id 1)": the records the topology decoded, by format and writer schema. */
    static String decodedSummary(MeterRegistry registry) {
        Map<String, Map<String, Double>> byFormat = new java.util.TreeMap<>();
        for (Counter c : registry.find(TopologyMeters.EVENTS_DECODED).counters()) {
            byFormat.computeIfAbsent(c.getId().getTag(TopologyMeters.FORMAT), f -> new java.util.TreeMap<>())
                    .merge(c.getId().getTag(TopologyMeters.SCHEMA_ID), c.count(), Double::sum);
        }
        if (byFormat.isEmpty()) {
            return "none";
        }
        return byFormat.entrySet().stream()
                .map(f -> String.format(
                        Locale.ROOT,
                        "%s %,d (schema %s)",
                        f.getKey(),
                        (long) f.getValue().values().stream()
                                .mapToDouble(Double::doubleValue)
                                .sum(),
                        f.getValue().entrySet().stream()
                                .map(e -> (f.getKey().equals("confluent") ? "id " : "")
                                        + e.getKey()
                                        + (f.getValue().size() > 1
                                                ? String.format(
                                                        Locale.ROOT,
                                                        ": %,d",
                                                        e.getValue().longValue())
                                                : ""))
                                .collect(Collectors.joining(", "))))
                .collect(Collectors.joining("; "));
    }

    private WireFormat wireFormat() {
        WireFormat f;
        try {
            f = WireFormat.parse(format);
        } catch (IllegalArgumentException e) {
            f = WireFormat.AUTO;
        }
        if (f == WireFormat.AUTO) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--format must be single-object or confluent but was '" + format + "'");
        }
        return f;
    }

    private void awaitRunning(Pipeline pipeline) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (pipeline.streams().state() != KafkaStreams.State.RUNNING && !stopping) {
            if (System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException("Kafka Streams did not reach RUNNING within 60 s (state "
                        + pipeline.streams().state() + ")");
            }
            Thread.sleep(100);
        }
    }

    private void awaitDeadLetters(DeadLetterCounter deadLetters, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (deadLetters.total() < expected && System.nanoTime() - deadline < 0 && !stopping) {
            Thread.sleep(100);
        }
    }

    private void validate() {
        endpoints.validate(spec.commandLine());
        wireFormat();
        if (duration.isZero() || duration.isNegative()) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--duration must be positive but was " + duration);
        }
        if (rate < 1 || rate > 1_000_000) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--rate must be between 1 and 1000000 but was " + rate);
        }
        if (entities < 1 || entities > 10_000_000) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--entities must be between 1 and 10000000 but was " + entities);
        }
        if (clientReads < 0 || clientReads > 100_000) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--client-reads must be between 0 and 100000 but was " + clientReads);
        }
        if (redisCluster != 0 && (redisCluster < 3 || redisCluster > 9)) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--redis-cluster must be between 3 and 9 masters but was " + redisCluster);
        }
        if (!(poisonRatio >= 0 && poisonRatio < 1)) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--poison-ratio must be >= 0 and < 1 but was " + poisonRatio);
        }
    }

    /** Ctrl-C / SIGTERM: stop publishing and let the main thread clean up; clean up here if it does not. */
    private void interrupted() {
        stopping = true;
        Thread main = mainThread;
        if (main != null) {
            main.interrupt();
        }
        try {
            if (!finished.await(30, TimeUnit.SECONDS)) {
                closeAll();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes what the demo started, newest first. Idempotent. */
    private synchronized void closeAll() {
        boolean wasInterrupted = Thread.interrupted(); // let the clients close normally
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                log.warn("Error while stopping the demo: {}", e.toString());
            }
        }
        resources.clear();
        if (wasInterrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Every dead letter is reported by the demo itself; Kafka Streams' per-record WARN lines from its
     * log-and-continue handlers would only scroll the progress bar away.
     */
    private static void quietExpectedWarnings() {
        for (String name : List.of(
                "org.apache.kafka.streams.errors", "org.apache.kafka.streams.processor.internals.RecordDeserializer")) {
            if (LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger l) {
                l.setLevel(ch.qos.logback.classic.Level.ERROR);
            }
        }
    }

    /** Parses {@code 30s}, {@code 2m}, {@code 500ms}. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Duration d = Durations.parse(value);
            if (d == null) {
                throw new picocli.CommandLine.TypeConversionException(
                        "'" + value + "' is not a duration; use e.g. 500ms, 30s, 2m");
            }
            return d;
        }
    }
}
