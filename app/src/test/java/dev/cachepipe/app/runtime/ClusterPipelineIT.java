package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.RegressionWatcher;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisMode;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.WriterMeters;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 9, acceptance 1: the pipeline against a real Redis Cluster of three masters with a replica each
 * ({@code redis-server} processes started here): it converges to the oracle while a master fails over ({@code CLUSTER
 * FAILOVER} on its replica) and while a slot range migrates, and no entry ever goes back; a master that loses its
 * data ({@code FLUSHALL}) is restored alone, from the mutations topic, within 30 s.
 */
class ClusterPipelineIT {
    private static final Logger log = LoggerFactory.getLogger(ClusterPipelineIT.class);
    private static RedisCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisCluster.start(3, 1);
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @Test
    void shouldConvergeWhileAMasterFailsOverAndASlotRangeMigratesAndNeverGoBack() throws Exception {
        try (TestPipeline p = TestPipeline.configure("cluster", cluster.seeds(), "cluster", 3)) {
            p.startPipeline();
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 300, 31L).withWindow(1000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle);
                    RegressionWatcher watcher = new RegressionWatcher(target(), oracle)) {
                CompletableFuture<Long> publishing =
                        CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofMinutes(5), 300));
                await("events are written to every master")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> check.check().consistent() > 200);
                watcher.start();

                RedisServer master = cluster.masters().get(0);
                long t0 = System.nanoTime();
                cluster.failover(master);
                log.info("ClusterPipelineIT: failover done in {} ms", (System.nanoTime() - t0) / 1_000_000);
                awaitMoreWrites(p);

                RedisServer from = cluster.masters().get(1);
                RedisServer to = cluster.masters().get(2);
                int first = cluster.slotsOf(from).get(0)[0];
                t0 = System.nanoTime();
                cluster.migrateSlots(first, first + 199, to);
                log.info(
                        "ClusterPipelineIT: slots {}-{} migrated in {} ms",
                        first,
                        first + 199,
                        (System.nanoTime() - t0) / 1_000_000);
                awaitMoreWrites(p);

                generator.stop();
                assertThat(publishing.get()).isPositive();
                assertThat(generator.failed()).as("%s", generator.failures()).isZero();
                t0 = System.nanoTime();
                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(120));
                log.info(
                        "ClusterPipelineIT: consistent {} ms after the last event was published: {}",
                        (System.nanoTime() - t0) / 1_000_000,
                        result.summary());
                assertThat(result.mismatches()).isEmpty();
                assertThat(result.total()).isEqualTo(oracle.entityCount());
                long rounds = watcher.rounds();
                await().atMost(Duration.ofSeconds(30)).until(() -> watcher.rounds() > rounds + 3);
                watcher.stop();
                assertThat(watcher.wentBack())
                        .as("entries that went back or disappeared")
                        .isEmpty();
                log.info(
                        "ClusterPipelineIT: {} entities consistent after a failover and a migration; {} watcher rounds",
                        result.consistent(),
                        watcher.rounds());
            }
        }
    }

    @Test
    void shouldRestoreOnlyTheMasterThatLostItsDataWithinThirtySeconds() throws Exception {
        try (TestPipeline p = TestPipeline.configure("clusterflush", cluster.seeds(), "cluster", 3)) {
            p.startPipeline();
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 600, 37L).withWindow(1000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publishFor(Duration.ofSeconds(6), 500);
                assertThat(check.awaitConsistent(Duration.ofSeconds(90)).mismatches())
                        .isEmpty();
                await("every shard's marker is written")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> markers(p.config.redis().keyPrefix())
                                == cluster.masters().size());

                RedisServer victim = cluster.masters().get(1);
                long victimKeys = oracle.expectations().stream()
                        .filter(e -> cluster.masterOf(SlotHash.getSlot(e.key())).equals(victim))
                        .count();
                double completedBefore = rebuilds(p);
                double sentBefore = rebuildRecordsSent(p);
                long t0 = System.nanoTime();
                cluster.flushShard(victim);
                assertThat(check.check().isConsistent())
                        .as("the flushed shard lost its entries")
                        .isFalse();

                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(30));
                double seconds = (System.nanoTime() - t0) / 1e9;

                assertThat(result.mismatches()).isEmpty();
                await().atMost(Duration.ofSeconds(10)).until(() -> rebuilds(p) > completedBefore);
                double sent = rebuildRecordsSent(p) - sentBefore;
                log.info(
                        "ClusterPipelineIT: the flushed master ({} of {} entities) was restored in {} s; the rebuild"
                                + " wrote {} records",
                        victimKeys,
                        oracle.entityCount(),
                        String.format("%.1f", seconds),
                        (long) sent);
                assertThat(sent)
                        .as("records the rebuild wrote: the flushed shard's keys, not the others'")
                        .isGreaterThanOrEqualTo(victimKeys)
                        .isLessThan(victimKeys * 1.5 + 50);
            }
        }
    }

    @Test
    void shouldRebuildEveryShardWithTheRebuildCommandAndInspectAKeyOnAnyMaster() throws Exception {
        try (TestPipeline p = TestPipeline.configure("clusterrebuild", cluster.seeds(), "cluster", 3)) {
            p.startPipeline();
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 300, 41L).withWindow(1000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publish(2000, 0);
                assertThat(check.awaitConsistent(Duration.ofSeconds(90)).mismatches())
                        .isEmpty();
                // the pipeline is stopped, so only the command can bring the entries back
                p.stopPipeline();
                for (RedisServer m : cluster.masters()) {
                    cluster.flushShard(m);
                }
                assertThat(check.check().consistent())
                        .as("entries left after FLUSHALL")
                        .isZero();

                TestPipeline.CliRun run =
                        TestPipeline.cli("rebuild", "--config", p.configFile().toString());

                assertThat(run.exitCode()).as(run.toString()).isZero();
                ConsistencyCheck.Result result = check.check();
                assertThat(result.mismatches()).as(run.toString()).isEmpty();
                assertThat(result.consistent()).isEqualTo(oracle.entityCount());
                assertThat(markers(p.config.redis().keyPrefix()))
                        .as("every shard's marker written")
                        .isEqualTo(cluster.masters().size());

                for (RedisServer m : cluster.masters()) {
                    Oracle.Expectation some = oracle.expectations().stream()
                            .filter(e -> cluster.masterOf(e.key()).equals(m))
                            .findFirst()
                            .orElseThrow();
                    RedisLayout.EntryKey entry = RedisLayout.parse(
                                    p.config.redis().keyPrefix(), some.key())
                            .orElseThrow();
                    TestPipeline.CliRun inspect = TestPipeline.cli(
                            "inspect",
                            entry.entityType(),
                            entry.entityId(),
                            "--config",
                            p.configFile().toString());
                    assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
                    assertThat(inspect.out())
                            .as(inspect.toString())
                            .contains(some.key())
                            .contains("version");
                }
            }
        }
    }

    private static void awaitMoreWrites(TestPipeline p) {
        long applied = p.writes(WriteOutcome.APPLIED);
        await("writes go on")
                .atMost(Duration.ofSeconds(60))
                .until(() -> p.writes(WriteOutcome.APPLIED) > applied + 100);
    }

    private static RedisTarget target() {
        return RedisTarget.parse(cluster.seeds(), RedisMode.CLUSTER, null, null, null);
    }

    /** Masters that hold their shard's marker under {@code prefix}. */
    private static long markers(String prefix) {
        return cluster.masters().stream()
                .filter(m -> m.command("SCAN", "0", "MATCH", prefix + ":@cachepipe:{*", "COUNT", "100000")
                        .contains("@cachepipe"))
                .count();
    }

    private static double rebuilds(TestPipeline p) {
        return p.registry
                .get(WriterMeters.REBUILD_FINISHED)
                .tag(WriterMeters.OUTCOME, WriterMeters.rebuildOutcomeTag(CacheRebuild.Outcome.COMPLETED))
                .counter()
                .count();
    }

    /** Records a rebuild sent to Redis, whatever Redis did with them. */
    private static double rebuildRecordsSent(TestPipeline p) {
        double n = 0;
        for (WriteOutcome o : List.of(WriteOutcome.APPLIED, WriteOutcome.STALE, WriteOutcome.DUPLICATE)) {
            n += p.registry
                    .get(WriterMeters.REBUILD_RECORDS)
                    .tag(WriterMeters.OUTCOME, o.tag())
                    .counter()
                    .count();
        }
        return n;
    }
}
