package dev.cachepipe.bench;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.writer.RedisScripts;
import dev.cachepipe.writer.WriterMeters;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The end-to-end load run: publishes a backlog of domain events to an embedded broker, then starts the pipeline and
 * measures how fast it drains the backlog into a local Redis (events/s from the first write to the last), checks
 * Redis against the oracle, and finally runs {@code redis-benchmark} with {@code EVALSHA} of the same upsert script
 * on the same Redis, so the two rates can be compared side by side.
 *
 * <pre>bench/load-run [--events 200000] [--entities 20000] [--redis-cluster 3]</pre>
 */
@Command(
        name = "load-run",
        mixinStandardHelpOptions = true,
        description = "Pipeline events/s vs redis-benchmark EVALSHA of the upsert script on the same Redis.")
public final class LoadRun implements Callable<Integer> {

    @Option(
            names = "--events",
            defaultValue = "200000",
            description = "domain events to publish (default ${DEFAULT-VALUE})")
    long events;

    @Option(
            names = "--entities",
            defaultValue = "20000",
            description = "entities per entity type (two types; default ${DEFAULT-VALUE})")
    int entities;

    @Option(
            names = "--benchmark-requests",
            defaultValue = "200000",
            description = "redis-benchmark requests per variant (default ${DEFAULT-VALUE})")
    int benchmarkRequests;

    @Option(
            names = "--redis-cluster",
            defaultValue = "0",
            paramLabel = "MASTERS",
            description = "Also run on a local Redis Cluster of this many masters (3 to 9, no replicas) and print its"
                    + " figures next to the standalone ones (default: standalone only)")
    int redisCluster;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoadRun()).execute(args));
    }

    /** What one run measured. */
    private record Figures(String redis, double eventsPerSecond, double plain, double pipelined, boolean consistent) {}

    @Override
    public Integer call() throws Exception {
        if (redisCluster != 0 && (redisCluster < 3 || redisCluster > 9)) {
            throw new CommandLine.ParameterException(
                    new CommandLine(this), "--redis-cluster must be between 3 and 9 but was " + redisCluster);
        }
        List<Figures> runs = new ArrayList<>();
        runs.add(run(0));
        if (redisCluster > 0) {
            runs.add(run(redisCluster));
        }
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "%-24s %14s %20s %20s %12s %12s%n",
                "redis",
                "events/s",
                "EVALSHA/s 50 cl.",
                "EVALSHA/s -P 64",
                "ratio plain",
                "ratio pipe");
        for (Figures f : runs) {
            System.out.printf(
                    Locale.ROOT,
                    "%-24s %,14.0f %,20.0f %,20.0f %12.2f %12.2f%n",
                    f.redis(),
                    f.eventsPerSecond(),
                    f.plain(),
                    f.pipelined(),
                    f.eventsPerSecond() / f.plain(),
                    f.eventsPerSecond() / f.pipelined());
        }
        StringBuilder summary = new StringBuilder();
        for (Figures f : runs) {
            String p = f.redis().startsWith("cluster") ? "cluster_" : "";
            summary.append(String.format(
                    Locale.ROOT,
                    "%sevents_per_s=%.0f %sratio_plain=%.2f %sratio_pipelined=%.2f %sconsistent=%s ",
                    p,
                    f.eventsPerSecond(),
                    p,
                    f.eventsPerSecond() / f.plain(),
                    p,
                    f.eventsPerSecond() / f.pipelined(),
                    p,
                    f.consistent()));
        }
        System.out.println(summary.toString().strip());
        return runs.stream().allMatch(Figures::consistent) ? 0 : 1;
    }

    private Figures run(int clusterMasters) throws Exception {
        CachepipeConfig config = CachepipeConfig.parse("""
                kafka: {bootstrapServers: embedded, applicationId: cachepipe-load}
                redis: {uri: embedded, keyPrefix: load}
                topics: {partitions: 3}
                entities:
                  user:    {topics: [users.events],    mode: write-through, ttl: 1h, tombstoneTtl: 1h}
                  product: {topics: [products.events], mode: write-through, ttl: 1h, tombstoneTtl: 1h}
                """, Map.of());
        String redis = clusterMasters > 0 ? "cluster (" + clusterMasters + " masters)" : "standalone";
        System.out.println("== " + redis);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Infrastructure infra = Infrastructure.start(config, clusterMasters)) {
            Pipeline.createTopics(config, infra);
            Oracle oracle =
                    new Oracle(config.redis().keyPrefix(), config.entities().values(), false);
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(List.copyOf(config.entities().values()), entities, 42L);
            long t0 = System.nanoTime();
            try (EventGenerator generator = new EventGenerator(infra.kafkaClientProperties(), settings, oracle)) {
                generator.publish(events, 0);
            }
            System.out.printf(
                    Locale.ROOT,
                    "published %,d events for %,d entities in %.1f s%n",
                    events,
                    oracle.entityCount(),
                    seconds(System.nanoTime() - t0));

            Drain drain;
            double writes;
            try (Pipeline pipeline = Pipeline.start(config, infra, registry)) {
                drain = awaitDrained(config, infra, Duration.ofMinutes(10));
                writes = registry.find(WriterMeters.WRITES).counters().stream()
                        .mapToDouble(c -> c.count())
                        .sum();
            }
            ConsistencyCheck.Result result;
            try (ConsistencyCheck check = new ConsistencyCheck(infra.redisTarget(), oracle)) {
                result = check.check();
            }
            double pipelineRate = events / drain.seconds();
            System.out.printf(
                    Locale.ROOT,
                    "pipeline: %,d events drained in %.1f s = %,.0f events/s (startup excluded; %,.0f Redis script"
                            + " calls after coalescing); Redis vs oracle: %s%n",
                    events,
                    drain.seconds(),
                    pipelineRate,
                    writes,
                    result.summary());

            java.net.URI first = java.net.URI.create(infra.redisUris().split(",")[0]);
            boolean cluster = clusterMasters > 0;
            double plain = redisBenchmark(first.getPort(), cluster, benchmarkRequests, 50, 1);
            double pipelined = redisBenchmark(first.getPort(), cluster, benchmarkRequests, 4, 64);
            System.out.printf(
                    Locale.ROOT,
                    "redis-benchmark%s EVALSHA upsert_entry.lua on the same Redis: %,.0f calls/s (50 clients),"
                            + " %,.0f calls/s (4 clients, pipeline 64)%n",
                    cluster ? " --cluster" : "",
                    plain,
                    pipelined);
            System.out.printf(
                    Locale.ROOT,
                    "ratio: pipeline events/s / redis-benchmark EVALSHA/s = %.2f (vs 50 clients), %.2f (vs"
                            + " pipelined)%n",
                    pipelineRate / plain,
                    pipelineRate / pipelined);
            return new Figures(redis, pipelineRate, plain, pipelined, result.isConsistent());
        }
    }

    private record Drain(double seconds) {}

    /**
     * Waits until the topology's and the writer's consumer groups have committed every offset, and measures from the
     * first committed progress of the topology to that moment.
     */
    private static Drain awaitDrained(CachepipeConfig config, Infrastructure infra, Duration timeout) throws Exception {
        String streamsGroup = config.kafka().applicationId();
        String writerGroup = config.kafka().applicationId() + "-writer";
        long start = System.nanoTime();
        long firstProgress = -1;
        try (Admin admin = Admin.create(infra.kafkaClientProperties())) {
            while (System.nanoTime() - start < timeout.toNanos()) {
                long sourceLag = lag(admin, streamsGroup, Set.copyOf(config.sourceTopics()));
                long mutationLag =
                        lag(admin, writerGroup, Set.of(config.topics().mutations()));
                long now = System.nanoTime();
                if (firstProgress < 0 && sourceLag >= 0 && sourceLag < Long.MAX_VALUE) {
                    firstProgress = now;
                }
                if (sourceLag == 0 && mutationLag == 0) {
                    return new Drain(seconds(now - (firstProgress < 0 ? start : firstProgress)));
                }
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("the pipeline did not drain the backlog within " + timeout);
    }

    /** Total lag of {@code group} on {@code topics}; MAX_VALUE when the group has committed nothing yet. */
    private static long lag(Admin admin, String group, Set<String> topics) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> request = new java.util.HashMap<>();
        for (var d : admin.describeTopics(topics)
                .allTopicNames()
                .get(10, TimeUnit.SECONDS)
                .values()) {
            d.partitions().forEach(p -> request.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest()));
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
                admin.listOffsets(request).all().get(10, TimeUnit.SECONDS);
        long lag = 0;
        boolean any = false;
        for (var e : ends.entrySet()) {
            OffsetAndMetadata c = committed.get(e.getKey());
            long end = e.getValue().offset();
            if (c != null) {
                any = true;
            }
            lag += end - (c == null ? 0 : c.offset());
        }
        return any ? lag : (lag == 0 ? 0 : Long.MAX_VALUE);
    }

    /** Runs redis-benchmark with EVALSHA of the upsert script and returns its requests per second. */
    private static double redisBenchmark(int port, boolean cluster, int requests, int clients, int pipeline)
            throws IOException, InterruptedException {
        String sha = RedisScripts.upsertSha();
        List<String> cmd = new ArrayList<>(List.of(
                "redis-benchmark",
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(port),
                "-n",
                Integer.toString(requests),
                "-c",
                Integer.toString(clients),
                "-P",
                Integer.toString(pipeline),
                cluster ? "--cluster" : "-e",
                "-r",
                // far more keys than requests: nearly every call stores a new entry (the apply path), as the
                // pipeline's writes do, instead of answering "same version" from the second call on
                "1000000000",
                "--csv",
                "EVALSHA",
                sha,
                "1",
                // in cluster mode redis-benchmark replaces {tag} with a tag of each master in turn
                cluster ? "bench:{tag}:__rand_int__" : "bench:__rand_int__",
                "7",
                // ~120 bytes like the generator's JSON; no commas or quotes, which would confuse the CSV output.
                "payload-__rand_int__-of-a-benchmark-entity-about-as-large-as-the-json-documents-that-the-event-generator-writes",
                "application/json",
                "1700000000000",
                "3600000"));
        java.nio.file.Path output = java.nio.file.Files.createTempFile("redis-benchmark", ".csv");
        try {
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-benchmark did not finish within 5 minutes");
            }
            String out = java.nio.file.Files.readString(output);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("redis-benchmark failed: " + out);
            }
            return parseRequestsPerSecond(out);
        } finally {
            java.nio.file.Files.deleteIfExists(output);
        }
    }

    private static double parseRequestsPerSecond(String out) {
        // --csv: a header line, then "EVALSHA ...","<rps>",...
        List<String> lines = out.lines().filter(l -> l.startsWith("\"EVALSHA")).collect(Collectors.toList());
        if (lines.isEmpty()) {
            throw new IllegalStateException("unexpected redis-benchmark output: " + out);
        }
        String[] cols = lines.get(lines.size() - 1).split("\",\"");
        return Double.parseDouble(cols[1].replace("\"", ""));
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
