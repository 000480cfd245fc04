package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.writer.WriterMeters;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 9: one master of a Redis Cluster (three masters, no replicas, so that nothing takes its place) restarts from
 * an older RDB snapshot while events flow. Its marker survived, so no shard is rebuilt; its watermarks are behind
 * what the writer wrote there, so the lost range is replayed, writing only that master's keys, and Redis equals the
 * oracle again within 30 s. The other masters' watermarks are not behind: nothing is replayed for them.
 */
class ClusterWatermarkIT {
    private static final Logger log = LoggerFactory.getLogger(ClusterWatermarkIT.class);
    private static final Duration CATCH_UP = Duration.ofSeconds(90);

    @Test
    void shouldReplayOnlyWhatAMasterLostWhenItRestartsFromAnOlderSnapshot() throws Exception {
        try (RedisCluster cluster = RedisCluster.start(3, 0);
                TestPipeline p = TestPipeline.configure("clusterwm", cluster.seeds(), "cluster", 3)) {
            p.startPipeline();
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 300, 83L).withWindow(1000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publish(3000, 0);
                awaitCaughtUp(p, check);

                RedisServer victim = cluster.masters().get(1);
                assertThat(victim.command("SAVE")).startsWith("+OK");
                long endAtSave = TestPipeline.sum(p.mutationEndOffsets());
                generator.publish(1500, 0); // written to Redis and committed, then lost with the victim's data
                awaitCaughtUp(p, check);
                long committedBeforeLoss = TestPipeline.sum(p.committedWriterOffsets());
                double rebuildsBefore = counter(p, WriterMeters.REBUILD_STARTED);
                double gapsBefore = counter(p, WriterMeters.WATERMARK_GAPS);

                CompletableFuture<Long> publishing =
                        CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofSeconds(6), 100));
                TestPipeline.sleep(1000); // the master goes back while events flow
                long lostAt = System.nanoTime();
                victim.kill(); // SIGKILL, and back from the dump.rdb that SAVE wrote, as the same master
                victim.restart();
                cluster.awaitSettled();

                assertThat(publishing.get()).isPositive();
                assertThat(generator.failed()).as("%s", generator.failures()).isZero();
                ConsistencyCheck.Result healed = check.awaitConsistent(Duration.ofSeconds(30));
                long tookMillis = (System.nanoTime() - lostAt) / 1_000_000;
                assertThat(healed.mismatches())
                        .as("Redis equals the oracle again")
                        .isEmpty();
                assertThat(healed.total()).isEqualTo(oracle.entityCount());

                long lost = committedBeforeLoss - endAtSave;
                double replayed = counter(p, WriterMeters.WATERMARK_REPLAYED_RECORDS);
                log.info(
                        "ClusterWatermarkIT: equal to the oracle {} ms after the master went back; {} records"
                                + " committed since the snapshot (all shards), {} replayed; gaps {}",
                        tookMillis,
                        lost,
                        (long) replayed,
                        counter(p, WriterMeters.WATERMARK_GAPS) - gapsBefore);
                assertThat(counter(p, WriterMeters.WATERMARK_GAPS) - gapsBefore)
                        .as("gaps found: one per partition, on the victim's shard only")
                        .isBetween(1.0, 3.0);
                assertThat(counter(p, WriterMeters.REBUILD_STARTED))
                        .as("no shard rebuilt: the victim's marker survived in the snapshot")
                        .isEqualTo(rebuildsBefore);
                assertThat(replayed).as("the replay covers what was lost").isGreaterThanOrEqualTo(lost);
                await("every gap closed")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> p.registry
                                        .get(WriterMeters.WATERMARK_OPEN_GAPS)
                                        .gauge()
                                        .value()
                                == 0);
            }
        }
    }

    private static void awaitCaughtUp(TestPipeline p, ConsistencyCheck check) {
        assertThat(check.awaitConsistent(CATCH_UP).mismatches()).isEmpty();
        await("the writer commits all it wrote")
                .atMost(CATCH_UP)
                .until(() -> TestPipeline.sum(p.committedWriterOffsets()) == TestPipeline.sum(p.mutationEndOffsets()));
    }

    private static double counter(TestPipeline p, String name) {
        return p.registry.get(name).counter().count();
    }
}
