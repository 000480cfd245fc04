package dev.cachepipe.bench;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.EntryScripts;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.ScriptRunner;
import dev.cachepipe.writer.CachePurge;
import dev.cachepipe.writer.WriterConfig;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The purge benchmark: fills Redis (a local redis-server, or a local cluster) with {@code --entries} product entries and
 * as many user entries, then purges the product type as {@code cachepipe purge --wait 0} does ({@link CachePurge}: scan,
 * read versions, fence, announce), runs it once more (everything is a fence already), and once as a dry run; then
 * {@code redis-benchmark} pipelined {@code EVALSHA} on the same Redis for scale. The last line holds the figures as
 * {@code key=value} tokens.
 *
 * <pre>bench/purge-run [--entries 1000000] [--redis-cluster 3]</pre>
 */
@Command(
        name = "purge-run",
        mixinStandardHelpOptions = true,
        description = "Entries/s of cachepipe purge over a Redis holding --entries entries of the purged type.")
public final class PurgeRun implements Callable<Integer> {
    @Option(
            names = "--entries",
            defaultValue = "1000000",
            description = "entries of the purged type (as many of another type beside them; default ${DEFAULT-VALUE})")
    int entries;

    @Option(
            names = "--redis-cluster",
            defaultValue = "0",
            description = "masters of a local Redis Cluster instead of one redis-server (default ${DEFAULT-VALUE})")
    int clusterMasters;

    @Option(
            names = "--benchmark-requests",
            defaultValue = "200000",
            description = "redis-benchmark requests (default ${DEFAULT-VALUE})")
    int benchmarkRequests;

    @Mixin
    RunOptions runOptions = new RunOptions();

    public static void main(String[] args) {
        System.exit(new CommandLine(new PurgeRun()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path work = Files.createTempDirectory("cachepipe-purge-run");
        try (BrokerMain.Broker broker = BrokerMain.startIn(work)) {
            return run(broker.bootstrap(), work);
        } finally {
            LoadRun.deleteRecursively(work);
        }
    }

    private int run(String bootstrap, Path work) throws Exception {
        String kafka = runOptions.kafkaYaml(bootstrap, "cachepipe-purge-run", work.resolve("state"));
        CachepipeConfig config = CachepipeConfig.parse(
                kafka + "redis: {uri: embedded, keyPrefix: pg}\n"
                        + "topics: {partitions: 3, mutations: purge.mutations, invalidations: purge.invalidations,"
                        + " deadLetter: purge.dlq}\n"
                        + "entities:\n"
                        + "  user:    {topics: [purge.users],    mode: write-through, ttl: 1h, tombstoneTtl: 1h}\n"
                        + "  product: {topics: [purge.products], mode: write-through, ttl: 1h, tombstoneTtl: 1h}\n",
                Map.of());
        try (Infrastructure infra = Infrastructure.start(config, clusterMasters)) {
            Pipeline.createTopics(config, infra);
            WriterConfig writerConfig = Pipeline.writerConfig(config, infra.bootstrapServers());
            long t0 = System.nanoTime();
            fill(infra, "product", entries);
            fill(infra, "user", entries);
            System.out.printf(
                    Locale.ROOT,
                    "filled Redis %s with %,d product and %,d user entries in %.1f s%n",
                    infra.redisDescription(),
                    entries,
                    entries,
                    (System.nanoTime() - t0) / 1e9);
            int port = URI.create(infra.redisUris().split(",")[0]).getPort();
            redisPid = clusterMasters == 0 ? ProcStat.pidOf("redis-server", ":" + port) : -1;
            CachePurge.Request purge = CachePurge.Request.now("product", "", Duration.ofHours(1));
            CachePurge.Progress first = purge(writerConfig, infra, purge, "purge");
            CachePurge.Progress again = purge(writerConfig, infra, purge, "purge again (all fences)");
            CachePurge.Progress dry = purge(writerConfig, infra, purge.asDryRun(), "dry run");
            double pipelined = 0;
            if (clusterMasters == 0) {
                try (RedisConnector connector = RedisConnector.create(
                                infra.redisTarget(),
                                Duration.ofSeconds(5),
                                Duration.ofMillis(100),
                                Duration.ofSeconds(1));
                        StatefulConnection<byte[], byte[]> connection = connector.connect()) {
                    new ScriptRunner(connection).load(Duration.ofSeconds(5), EntryScripts.all());
                }
                pipelined = RedisBenchmark.both(port, false, benchmarkRequests).pipelined();
                System.out.printf(
                        Locale.ROOT,
                        "redis-benchmark EVALSHA upsert_entry.lua on the same Redis: %,.0f calls/s (4 clients, pipeline"
                                + " 64)%n",
                        pipelined);
            }
            System.out.printf(
                    Locale.ROOT,
                    "entries=%d entries_per_s=%.0f fenced=%d unchanged=%d gone=%d again_entries_per_s=%.0f"
                            + " dry_run_entries_per_s=%.0f evalsha_pipelined_per_s=%.0f%n",
                    first.matched(),
                    first.ratePerSecond(),
                    first.fenced(),
                    first.unchanged(),
                    first.gone(),
                    again.ratePerSecond(),
                    dry.ratePerSecond(),
                    pipelined);
            return first.fenced() == entries && again.unchanged() == entries ? 0 : 1;
        }
    }

    private long redisPid = -1;

    private CachePurge.Progress purge(
            WriterConfig config, Infrastructure infra, CachePurge.Request request, String what) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        double redisBefore = redisPid < 0 ? 0 : ProcStat.processCpuSeconds(redisPid);
        CachePurge.Result r = CachePurge.run(config, infra.redisTarget(), request, registry, p -> {}, () -> false);
        double redisCpu = redisPid < 0 ? 0 : ProcStat.processCpuSeconds(redisPid) - redisBefore;
        registry.close();
        CachePurge.Progress p = r.progress();
        System.out.printf(
                Locale.ROOT,
                "%s: %,d entries in %.2f s = %,.0f entries/s: %,d fenced, %,d fences already, %,d gone (%s)%s%n",
                what,
                p.matched(),
                p.elapsed().toNanos() / 1e9,
                p.ratePerSecond(),
                p.fenced(),
                p.unchanged(),
                p.gone(),
                r.outcome(),
                redisPid < 0
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                "; redis-server %.1f µs/entry (%.0f %% of a core)",
                                redisCpu * 1e6 / Math.max(1, p.matched()),
                                100 * redisCpu / Math.max(1e-9, p.elapsed().toNanos() / 1e9)));
        return p;
    }

    /** {@code count} entries of {@code type} as the writer stores them, pipelined. */
    private static void fill(Infrastructure infra, String type, int count) throws Exception {
        try (RedisConnector connector = RedisConnector.create(
                        infra.redisTarget(), Duration.ofSeconds(30), Duration.ofMillis(100), Duration.ofSeconds(1));
                StatefulConnection<byte[], byte[]> connection = connector.connect()) {
            RedisClusterAsyncCommands<byte[], byte[]> redis = RedisConnector.async(connection);
            byte[] payload = ("{\"name\":\"" + "x".repeat(80) + "\"}").getBytes(StandardCharsets.UTF_8);
            List<RedisFuture<?>> batch = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] key = RedisLayout.key("pg", type, Integer.toString(i)).getBytes(StandardCharsets.UTF_8);
                batch.add(redis.hset(
                        key,
                        Map.of(
                                bytes("v"), bytes(Integer.toString(1 + i % 1000)),
                                bytes("d"), payload,
                                bytes("ct"), bytes("application/json"),
                                bytes("ts"), bytes("1764800000000"))));
                batch.add(redis.pexpire(key, 3_600_000));
                if (batch.size() >= 2_000) {
                    LettuceFutures.awaitAll(30, TimeUnit.SECONDS, batch.toArray(new RedisFuture<?>[0]));
                    batch.clear();
                }
            }
            LettuceFutures.awaitAll(30, TimeUnit.SECONDS, batch.toArray(new RedisFuture<?>[0]));
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
