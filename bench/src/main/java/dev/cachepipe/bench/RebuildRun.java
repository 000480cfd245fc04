package dev.cachepipe.bench;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriterConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The rebuild benchmark: fills the mutations topic by running {@code cachepipe run} (in its own process, the broker in
 * another) over a backlog of domain events, stops it, empties Redis ({@code FLUSHALL}) and rebuilds it from the
 * mutations topic as {@code cachepipe rebuild} does ({@link CacheRebuild}, both passes), then checks Redis against the
 * oracle and runs {@code redis-benchmark} pipelined and plain {@code EVALSHA} of the upsert script on the same Redis.
 * The last line holds the figures as {@code key=value} tokens.
 *
 * <pre>bench/rebuild-run [--events 300000] [--entities 100000] [--rounds 2]</pre>
 */
@Command(
        name = "rebuild-run",
        mixinStandardHelpOptions = true,
        description =
                "Records/s of a full rebuild from the mutations topic vs redis-benchmark EVALSHA on the same Redis.")
public final class RebuildRun implements Callable<Integer> {
    @Option(
            names = "--events",
            defaultValue = "300000",
            description = "domain events published, hence mutation records to replay (default ${DEFAULT-VALUE})")
    long events;

    @Option(
            names = "--entities",
            defaultValue = "100000",
            description = "entities per entity type (two types; default ${DEFAULT-VALUE})")
    int entities;

    @Option(
            names = "--rounds",
            defaultValue = "2",
            description = "rebuilds in a row, each after a FLUSHALL (the first one warms the JIT; the best is"
                    + " reported; default ${DEFAULT-VALUE})")
    int rounds;

    @Option(
            names = "--benchmark-requests",
            defaultValue = "200000",
            description = "redis-benchmark requests per variant (default ${DEFAULT-VALUE})")
    int benchmarkRequests;

    @Mixin
    RunOptions runOptions = new RunOptions();

    public static void main(String[] args) {
        System.exit(new CommandLine(new RebuildRun()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path work = Files.createTempDirectory("cachepipe-rebuild-run");
        try (BrokerMain.Broker broker = BrokerMain.startIn(work)) {
            brokerPid = broker.jvm().pid();
            return run(broker.bootstrap(), work);
        } finally {
            LoadRun.deleteRecursively(work);
        }
    }

    private long brokerPid = -1;

    private int run(String bootstrap, Path work) throws Exception {
        String entityTypes = """
                entities:
                  user:    {topics: [rebuild.users],    mode: write-through, ttl: 1h, tombstoneTtl: 1h}
                  product: {topics: [rebuild.products], mode: write-through, ttl: 1h, tombstoneTtl: 1h}
                """;
        String topics = "topics: {partitions: 3, mutations: rebuild.mutations, invalidations: rebuild.invalidations,"
                + " deadLetter: rebuild.dlq}\n";
        String kafka = runOptions.kafkaYaml(bootstrap, "cachepipe-rebuild-run", work.resolve("state"));
        CachepipeConfig config = CachepipeConfig.parse(
                kafka + "redis: {uri: embedded, keyPrefix: rb}\n" + topics + entityTypes, Map.of());
        try (Infrastructure infra = Infrastructure.start(config, 0)) {
            Pipeline.createTopics(config, infra);
            Oracle oracle =
                    new Oracle(config.redis().keyPrefix(), config.entities().values(), false);
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(List.copyOf(config.entities().values()), entities, 7L);
            try (EventGenerator generator = new EventGenerator(infra.kafkaClientProperties(), settings, oracle)) {
                generator.publish(events, 0);
            }
            String runConfig =
                    kafka + "redis: {uri: '" + infra.redisUris() + "', keyPrefix: rb}\n" + topics + entityTypes;
            try (PipelineProcess pipeline = PipelineProcess.start(
                    runConfig, runOptions.jvmOptions(), Files.createDirectories(work.resolve("run")))) {
                LoadRun.awaitDrained(config, infra, Duration.ofMinutes(10), pipeline);
            }
            int port = URI.create(infra.redisUris()).getPort();
            WriterConfig writerConfig = Pipeline.writerConfig(config, infra.bootstrapServers());
            long records = 0;
            double best = 0;
            ConsistencyCheck.Result result = null;
            long redisPid = ProcStat.pidOf("redis-server", ":" + port);
            long self = ProcessHandle.current().pid();
            for (int round = 1; round <= rounds; round++) {
                redisCli(port, "FLUSHALL");
                double[] cpuBefore = {
                    ProcStat.processCpuSeconds(redisPid),
                    ProcStat.processCpuSeconds(brokerPid),
                    ProcStat.processCpuSeconds(self)
                };
                SimpleMeterRegistry registry = new SimpleMeterRegistry();
                CacheRebuild.Result r =
                        CacheRebuild.run(writerConfig, infra.redisTarget(), null, registry, p -> {}, () -> false);
                registry.close();
                if (r.outcome() != CacheRebuild.Outcome.COMPLETED) {
                    throw new IllegalStateException("the rebuild did not complete: " + r.outcome());
                }
                CacheRebuild.Progress p = r.progress();
                double seconds = p.elapsed().toNanos() / 1e9;
                double[] cpu = {
                    ProcStat.processCpuSeconds(redisPid) - cpuBefore[0],
                    ProcStat.processCpuSeconds(brokerPid) - cpuBefore[1],
                    ProcStat.processCpuSeconds(self) - cpuBefore[2]
                };
                records = p.read();
                best = Math.max(best, p.ratePerSecond());
                try (ConsistencyCheck check = new ConsistencyCheck(infra.redisTarget(), oracle)) {
                    result = check.check();
                }
                System.out.printf(
                        Locale.ROOT,
                        "rebuild %d: %,d records (%,d applied, %,d already current) in %.2f s = %,.0f records/s;"
                                + " Redis vs oracle: %s%n",
                        round,
                        p.read(),
                        p.applied(),
                        p.stale() + p.duplicate(),
                        seconds,
                        p.ratePerSecond(),
                        result.summary());
                System.out.printf(
                        Locale.ROOT,
                        "  cpu per record: redis-server %.1f µs (%.0f %% of a core), the broker %.1f µs (%.0f %%), the"
                                + " rebuild's process %.1f µs (%.0f %%)%n",
                        cpu[0] * 1e6 / Math.max(1, p.read()),
                        100 * cpu[0] / seconds,
                        cpu[1] * 1e6 / Math.max(1, p.read()),
                        100 * cpu[1] / seconds,
                        cpu[2] * 1e6 / Math.max(1, p.read()),
                        100 * cpu[2] / seconds);
            }
            RedisBenchmark.Figures bench = RedisBenchmark.both(port, false, benchmarkRequests);
            System.out.printf(
                    Locale.ROOT,
                    "redis-benchmark EVALSHA upsert_entry.lua on the same Redis: %,.0f calls/s (50 clients), %,.0f"
                            + " calls/s (4 clients, pipeline 64)%n",
                    bench.plain(),
                    bench.pipelined());
            System.out.printf(
                    Locale.ROOT,
                    "records_per_s=%.0f ratio_pipelined=%.2f ratio_plain=%.2f records=%d evalsha_pipelined_per_s=%.0f"
                            + " evalsha_plain_per_s=%.0f consistent=%s%n",
                    best,
                    best / bench.pipelined(),
                    best / bench.plain(),
                    records,
                    bench.pipelined(),
                    bench.plain(),
                    result != null && result.isConsistent());
            return result != null && result.isConsistent() ? 0 : 1;
        }
    }

    private static void redisCli(int port, String... command) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0 || !out.strip().equals("OK")) {
            throw new IllegalStateException(String.join(" ", cmd) + " answered: " + out);
        }
    }
}
