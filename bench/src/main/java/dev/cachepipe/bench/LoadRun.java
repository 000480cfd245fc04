package dev.cachepipe.bench;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The end-to-end load run: starts a Kafka broker in a process of its own and a local Redis, publishes a backlog of
 * domain events, then starts {@code cachepipe run} in a process of its own and measures how fast it drains the backlog
 * into Redis (events/s from the first committed progress to the last), what CPU its threads spent per event (from its
 * {@code ThreadMXBean}, over JMX, by thread group) and its resident set size; checks Redis against the oracle; finally
 * runs {@code redis-benchmark} with {@code EVALSHA} of the same upsert script on the same Redis, plain and pipelined,
 * so that the rates can be compared side by side. The last line holds the figures as {@code key=value} tokens.
 *
 * <pre>bench/load-run [--events 200000] [--entities 20000] [--redis-cluster 3] [--jvm-options "-XX:StartFlightRecording=..."]</pre>
 */
@Command(
        name = "load-run",
        mixinStandardHelpOptions = true,
        description = "Pipeline events/s, CPU per event and RSS vs redis-benchmark EVALSHA of the upsert script on the"
                + " same Redis.")
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

    @Mixin
    RunOptions runOptions = new RunOptions();

    @Option(
            names = "--keep",
            description = "Keep the work directory (run.log, broker.log, the config) instead of deleting it")
    boolean keep;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoadRun()).execute(args));
    }

    /** What one run measured. */
    private record Figures(
            String redis,
            double eventsPerSecond,
            double cpuMicrosPerEvent,
            double processCpuMicrosPerEvent,
            double rssMb,
            double plain,
            double pipelined,
            boolean consistent) {}

    @Override
    public Integer call() throws Exception {
        if (redisCluster != 0 && (redisCluster < 3 || redisCluster > 9)) {
            throw new CommandLine.ParameterException(
                    new CommandLine(this), "--redis-cluster must be between 3 and 9 but was " + redisCluster);
        }
        Path work = Files.createTempDirectory("cachepipe-load-run");
        List<Figures> runs = new ArrayList<>();
        try (BrokerMain.Broker broker = BrokerMain.startIn(work)) {
            String bootstrap = broker.bootstrap();
            System.out.println("broker in its own process (pid " + broker.jvm().pid() + "): " + bootstrap);
            runs.add(run(bootstrap, broker.jvm().pid(), work, 0));
            if (redisCluster > 0) {
                runs.add(run(bootstrap, broker.jvm().pid(), work, redisCluster));
            }
        } finally {
            if (keep) {
                System.out.println("work directory kept: " + work);
            } else {
                deleteRecursively(work);
            }
        }
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "%-24s %10s %10s %8s %14s %14s %8s %8s%n",
                "redis",
                "events/s",
                "cpu µs/ev",
                "rss MB",
                "EVALSHA/s 50c",
                "EVALSHA/s -P64",
                "r plain",
                "r pipe");
        for (Figures f : runs) {
            System.out.printf(
                    Locale.ROOT,
                    "%-24s %,10.0f %10.1f %8.0f %,14.0f %,14.0f %8.2f %8.2f%n",
                    f.redis(),
                    f.eventsPerSecond(),
                    f.cpuMicrosPerEvent(),
                    f.rssMb(),
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
                    "%sevents_per_s=%.0f %scpu_us_per_event=%.1f %sprocess_cpu_us_per_event=%.1f %srss_mb=%.0f"
                            + " %sratio_plain=%.2f %sratio_pipelined=%.2f %sconsistent=%s ",
                    p,
                    f.eventsPerSecond(),
                    p,
                    f.cpuMicrosPerEvent(),
                    p,
                    f.processCpuMicrosPerEvent(),
                    p,
                    f.rssMb(),
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

    private Figures run(String bootstrap, long brokerPid, Path work, int clusterMasters) throws Exception {
        String redis = clusterMasters > 0 ? "cluster (" + clusterMasters + " masters)" : "standalone";
        String appId = clusterMasters > 0 ? "cachepipe-load-cluster" : "cachepipe-load";
        String entityTypes = """
                entities:
                  user:    {topics: [users.events],    mode: write-through, ttl: 1h, tombstoneTtl: 1h}
                  product: {topics: [products.events], mode: write-through, ttl: 1h, tombstoneTtl: 1h}
                """;
        // a topic per run: the cluster run starts from an empty backlog too
        String topics = "topics: {partitions: 3, mutations: " + appId + ".mutations, invalidations: " + appId
                + ".invalidations, deadLetter: " + appId + ".dlq}\n";
        String sourceTopics =
                entityTypes.replace("users.events", appId + ".users").replace("products.events", appId + ".products");
        CachepipeConfig config = CachepipeConfig.parse(
                new RunOptions().kafkaYaml(bootstrap, appId, work.resolve(appId + "-state"))
                        + "redis: {uri: embedded, keyPrefix: load}\n"
                        + topics
                        + sourceTopics,
                Map.of());
        System.out.println("== " + redis);
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

            String runConfig = runOptions.kafkaYaml(bootstrap, appId, work.resolve(appId + "-state"))
                    + "redis: {uri: '" + infra.redisUris() + "', mode: "
                    + (clusterMasters > 0 ? "cluster" : "standalone")
                    + ", keyPrefix: load}\n"
                    + topics
                    + sourceTopics;
            Drain drain;
            PipelineProcess.Cpu cpu;
            PipelineProcess.Cpu steadyCpu = null;
            long steadyEvents = 0;
            double steadyBrokerCpu = -1;
            double steadyRedisCpu = -1;
            double brokerCpu;
            double redisCpu;
            double machineBusy;
            double rss;
            Path runDir = Files.createDirectories(work.resolve(appId));
            try (PipelineProcess pipeline = PipelineProcess.start(runConfig, runOptions.jvmOptions(), runDir)) {
                System.out.println("cachepipe run in its own process; its log: " + pipeline.log());
                PipelineProcess.Cpu before = pipeline.cpu();
                double brokerBefore = ProcStat.processCpuSeconds(brokerPid);
                long redisPid = ProcStat.pidOf(
                        "redis-server",
                        ":"
                                + java.net
                                        .URI
                                        .create(infra.redisUris().split(",")[0])
                                        .getPort());
                double redisBefore = ProcStat.processCpuSeconds(redisPid);
                long[] machineBefore = ProcStat.machineTicks();
                RssSampler sampler = new RssSampler(pipeline);
                sampler.start();
                try {
                    drain = awaitDrained(config, infra, Duration.ofMinutes(10), pipeline, brokerPid, redisPid);
                } finally {
                    sampler.interrupt();
                    sampler.join();
                }
                cpu = pipeline.cpu().minus(before);
                brokerCpu = ProcStat.processCpuSeconds(brokerPid) - brokerBefore;
                redisCpu = redisPid < 0 ? -1 : ProcStat.processCpuSeconds(redisPid) - redisBefore;
                long[] machineAfter = ProcStat.machineTicks();
                machineBusy = (double) (machineAfter[0] - machineBefore[0]) / (machineAfter[1] - machineBefore[1]);
                Sample[] steady = drain.steadyWindow(events);
                if (steady != null) {
                    steadyCpu = steady[1].cpu().minus(steady[0].cpu());
                    steadyEvents = steady[1].sourceCommitted() - steady[0].sourceCommitted();
                    steadyBrokerCpu = steady[1].otherCpuSeconds()[0] - steady[0].otherCpuSeconds()[0];
                    steadyRedisCpu = redisPid < 0
                            ? -1
                            : steady[1].otherCpuSeconds()[1] - steady[0].otherCpuSeconds()[1];
                }
                rss = Math.max(sampler.max, pipeline.rssMb());
            }
            ConsistencyCheck.Result result;
            try (ConsistencyCheck check = new ConsistencyCheck(infra.redisTarget(), oracle)) {
                result = check.check();
            }
            double pipelineRate = events / drain.seconds();
            double cpuPerEventAll = cpu.totalThreadNanos() / 1e3 / events;
            double processCpuPerEventAll = cpu.processNanos() / 1e3 / events;
            // steady state: between 20 % and 90 % of the source offsets committed (the writer drains at the same pace)
            double cpuPerEvent = steadyCpu == null ? cpuPerEventAll : steadyCpu.totalThreadNanos() / 1e3 / steadyEvents;
            double processCpuPerEvent =
                    steadyCpu == null ? processCpuPerEventAll : steadyCpu.processNanos() / 1e3 / steadyEvents;
            System.out.printf(
                    Locale.ROOT,
                    "pipeline: %,d events drained in %.1f s = %,.0f events/s (startup excluded); Redis vs oracle: %s%n",
                    events,
                    drain.seconds(),
                    pipelineRate,
                    result.summary());
            System.out.printf(
                    Locale.ROOT,
                    "cpu: %.1f µs/event in the pipeline's threads (ThreadMXBean), %.1f µs/event for the whole process"
                            + " (with GC and JIT), steady state (%,d events between 20 %% and 90 %% of the backlog);"
                            + " from `cachepipe running` to drained: %.1f and %.1f µs/event; RSS at most %.0f MB%n",
                    cpuPerEvent,
                    processCpuPerEvent,
                    steadyEvents,
                    cpuPerEventAll,
                    processCpuPerEventAll,
                    rss);
            System.out.println("steady state by thread group:");
            PipelineProcess.lines(steadyCpu == null ? cpu : steadyCpu, steadyCpu == null ? events : steadyEvents)
                    .forEach(System.out::println);
            System.out.println(drain.stages());
            System.out.printf(
                    Locale.ROOT,
                    "the machine's %d cores were %.0f %% busy meanwhile; the broker's process spent %.1f µs/event,"
                            + " redis-server %.1f µs/event (whole drain, startup included); in the steady state the"
                            + " broker %.1f µs/event, redis-server %.1f µs/event%n",
                    Runtime.getRuntime().availableProcessors(),
                    machineBusy * 100,
                    brokerCpu * 1e6 / events,
                    redisCpu * 1e6 / events,
                    steadyEvents == 0 ? -1 : steadyBrokerCpu * 1e6 / steadyEvents,
                    steadyEvents == 0 || steadyRedisCpu < 0 ? -1 : steadyRedisCpu * 1e6 / steadyEvents);

            java.net.URI first = java.net.URI.create(infra.redisUris().split(",")[0]);
            boolean cluster = clusterMasters > 0;
            RedisBenchmark.Figures bench = RedisBenchmark.both(first.getPort(), cluster, benchmarkRequests);
            System.out.printf(
                    Locale.ROOT,
                    "redis-benchmark%s EVALSHA upsert_entry.lua on the same Redis: %,.0f calls/s (50 clients),"
                            + " %,.0f calls/s (4 clients, pipeline 64)%n",
                    cluster ? " --cluster" : "",
                    bench.plain(),
                    bench.pipelined());
            System.out.printf(
                    Locale.ROOT,
                    "ratio: pipeline events/s / redis-benchmark EVALSHA/s = %.2f (vs 50 clients), %.2f (vs"
                            + " pipelined)%n",
                    pipelineRate / bench.plain(),
                    pipelineRate / bench.pipelined());
            return new Figures(
                    redis,
                    pipelineRate,
                    cpuPerEvent,
                    processCpuPerEvent,
                    rss,
                    bench.plain(),
                    bench.pipelined(),
                    result.isConsistent());
        }
    }

    /** Samples the pipeline process's RSS every 100 ms and keeps the highest. */
    private static final class RssSampler extends Thread {
        private final PipelineProcess pipeline;
        volatile double max;

        RssSampler(PipelineProcess pipeline) {
            super("rss-sampler");
            setDaemon(true);
            this.pipeline = pipeline;
        }

        @Override
        public void run() {
            while (!isInterrupted()) {
                max = Math.max(max, pipeline.rssMb());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** One sample taken while draining: when, the groups' committed offsets, the pipeline's CPU so far. */
    record Sample(
            long nanos,
            long sourceCommitted,
            long writerCommitted,
            PipelineProcess.Cpu cpu,
            double[] otherCpuSeconds) {}

    /**
     * The drain: its duration from the topology's first committed progress to both groups having committed every
     * offset, and the samples taken meanwhile.
     */
    record Drain(double seconds, List<Sample> samples) {
        /** When each stage had committed everything, from the first sample: shows which stage holds the drain back. */
        String stages() {
            Sample first = samples.get(0);
            Sample last = samples.get(samples.size() - 1);
            double topology = -1;
            for (Sample s : samples) {
                if (topology < 0 && s.sourceCommitted() >= last.sourceCommitted()) {
                    topology = (s.nanos() - first.nanos()) / 1e9;
                }
            }
            return String.format(
                    Locale.ROOT,
                    "stages: the topology had committed its input %.1f s after the first sample, the writer its input"
                            + " %.1f s after it",
                    topology,
                    (last.nanos() - first.nanos()) / 1e9);
        }

        /**
         * The samples that bound the steady part of the drain: from the first with at least 20 % of the source
         * offsets committed to the last with at most 90 % (JIT warm-up and the tail excluded); null if the drain was
         * too short to have two such samples.
         */
        Sample[] steadyWindow(long events) {
            Sample from = null;
            Sample to = null;
            for (Sample s : samples) {
                if (from == null && s.sourceCommitted() >= events / 5) {
                    from = s;
                }
                if (s.sourceCommitted() <= events * 9 / 10) {
                    to = s;
                }
            }
            return from == null || to == null || to.sourceCommitted() - from.sourceCommitted() < events / 4
                    ? null
                    : new Sample[] {from, to};
        }
    }

    /**
     * Waits until the topology's and the writer's consumer groups have committed every offset, and measures from the
     * first committed progress of the topology to that moment; samples the pipeline's CPU on the way.
     */
    static Drain awaitDrained(
            CachepipeConfig config, Infrastructure infra, Duration timeout, PipelineProcess pipeline, long... otherPids)
            throws Exception {
        String streamsGroup = config.kafka().applicationId();
        String writerGroup = config.kafka().applicationId() + "-writer";
        long start = System.nanoTime();
        long firstProgress = -1;
        List<Sample> samples = new ArrayList<>();
        try (Admin admin = Admin.create(infra.kafkaClientProperties())) {
            while (System.nanoTime() - start < timeout.toNanos()) {
                if (!pipeline.isAlive()) {
                    throw new IllegalStateException("cachepipe run exited; see " + pipeline.log());
                }
                long[] source = progress(admin, streamsGroup, Set.copyOf(config.sourceTopics()));
                long[] mutations =
                        progress(admin, writerGroup, Set.of(config.topics().mutations()));
                long now = System.nanoTime();
                double[] others = new double[otherPids.length];
                for (int i = 0; i < otherPids.length; i++) {
                    others[i] = ProcStat.processCpuSeconds(otherPids[i]);
                }
                samples.add(new Sample(now, source[0], mutations[0], pipeline.cpu(), others));
                if (firstProgress < 0 && source[0] > 0) {
                    firstProgress = now;
                }
                if (source[0] == source[1] && mutations[0] == mutations[1] && source[1] > 0) {
                    return new Drain(seconds(now - (firstProgress < 0 ? start : firstProgress)), samples);
                }
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the pipeline did not drain the backlog within " + timeout);
    }

    /** {committed, end}: the offsets {@code group} committed on {@code topics}, and their end offsets, summed. */
    private static long[] progress(Admin admin, String group, Set<String> topics) throws Exception {
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
        long done = 0;
        long end = 0;
        for (var e : ends.entrySet()) {
            OffsetAndMetadata c = committed.get(e.getKey());
            end += e.getValue().offset();
            done += c == null ? 0 : c.offset();
        }
        return new long[] {done, end};
    }

    static void deleteRecursively(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
