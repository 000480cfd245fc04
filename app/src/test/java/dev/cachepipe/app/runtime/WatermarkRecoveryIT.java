package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.FreePorts;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.writer.WriterMeters;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Issue 8, acceptance 2 (invariant 7, partial loss): Redis goes back in time while it keeps its marker — a restart
 * from an older RDB snapshot, a failover to a replica that was behind — and the writers find it by the watermarks and
 * replay only what was lost: Redis equals the oracle again within 30 s with no operator action, without a full
 * rebuild, and the replayed records (in {@link WriterMeters#WATERMARK_REPLAYED_RECORDS}) are at least the lost ones
 * and far fewer than the topic holds. Also when no events come after the restart: the writers check the watermarks
 * of idle partitions too.
 */
class WatermarkRecoveryIT {
    private static final Duration HEAL_WITHIN = Duration.ofSeconds(30);
    private static final Duration CATCH_UP = Duration.ofSeconds(90);

    @Test
    void shouldReplayWhatWasLostWhenRedisRestartsFromAnOlderSnapshotWhileEventsFlow() throws Exception {
        restartFromOlderSnapshot("wm-snapshot", true);
    }

    @Test
    void shouldReplayWhatWasLostWhenRedisRestartsFromAnOlderSnapshotWhileNoEventsCome() throws Exception {
        restartFromOlderSnapshot("wm-snapshot-idle", false);
    }

    private static void restartFromOlderSnapshot(String name, boolean eventsFlow) throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestPipeline p = TestPipeline.start(name, redis, 3);
                RedisProbe probe = new RedisProbe(redis)) {
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 300, 81L).withWindow(1000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publish(3000, 0);
                awaitCaughtUp(p, check);
                assertThat(probe.sync()
                                .hgetall(RedisLayout.watermarkKey(
                                        p.config.redis().keyPrefix())))
                        .as("a watermark per partition")
                        .hasSize(3);

                assertThat(redis.command("SAVE")).startsWith("+OK");
                long endAtSave = TestPipeline.sum(p.mutationEndOffsets()); // the snapshot holds at most this
                // updates and deletes of the same entities, written to Redis and committed, then lost with it
                generator.publish(1500, 0);
                awaitCaughtUp(p, check);
                long committedBeforeLoss = TestPipeline.sum(p.committedWriterOffsets());
                double rebuildsBefore = counter(p, WriterMeters.REBUILD_STARTED);

                CompletableFuture<Long> publishing = eventsFlow
                        ? CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofSeconds(6), 100))
                        : CompletableFuture.completedFuture(generator.sent());
                if (eventsFlow) {
                    TestPipeline.sleep(1000); // Redis goes back while events flow
                }
                long lostAt = System.nanoTime();
                redis.kill(); // SIGKILL, and back from the dump.rdb that SAVE wrote
                TestPipeline.sleep(500);
                redis.restart();

                healed(p, check, oracle, generator, publishing, lostAt, name + ": restart from an older snapshot");
                long lost = committedBeforeLoss - endAtSave;
                assertReplayedOnlyWhatWasLost(p, lost, rebuildsBefore);
            }
        }
    }

    @Test
    void shouldReplayWhatWasLostWhenAReplicaThatIsBehindIsPromoted() throws Exception {
        try (RedisServer primary = RedisServer.start();
                RedisServer replica =
                        RedisServer.start(List.of("--replicaof", primary.host(), Integer.toString(primary.port())));
                TestPipeline first = TestPipeline.start("wm-failover", primary, 3);
                RedisProbe primaryProbe = new RedisProbe(primary);
                RedisProbe replicaProbe = new RedisProbe(replica)) {
            Oracle oracle = first.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(first.policies(), 300, 82L).withWindow(1000);
            String watermarks = RedisLayout.watermarkKey(first.config.redis().keyPrefix());
            try (EventGenerator generator = first.generator(settings, oracle);
                    ConsistencyCheck check = first.check(oracle)) {
                generator.publish(3000, 0);
                awaitCaughtUp(first, check);
                await("the replica holds what the primary holds")
                        .atMost(CATCH_UP)
                        .until(() -> replicaProbe
                                        .sync()
                                        .dbsize()
                                        .equals(primaryProbe.sync().dbsize())
                                && replicaProbe
                                        .sync()
                                        .hgetall(watermarks)
                                        .keySet()
                                        .equals(primaryProbe
                                                .sync()
                                                .hgetall(watermarks)
                                                .keySet()));
                await().atMost(CATCH_UP)
                        .until(() -> replicaProbe.sync().hgetall(watermarks).entrySet().stream()
                                .allMatch(e -> new String(e.getValue())
                                        .equals(new String(primaryProbe.sync().hget(watermarks, e.getKey())))));

                // the replica falls behind: replication stops (its primary is "unreachable"), writes go on
                assertThat(replica.command("REPLICAOF", primary.host(), Integer.toString(FreePorts.next())))
                        .startsWith("+OK");
                long endAtLag = TestPipeline.sum(first.mutationEndOffsets());
                generator.publish(1500, 0);
                awaitCaughtUp(first, check);
                long committedBeforeFailover = TestPipeline.sum(first.committedWriterOffsets());

                // the primary fails; the replica is promoted and the writers now write to it
                first.stopPipeline();
                primary.kill();
                assertThat(replica.command("REPLICAOF", "NO", "ONE")).startsWith("+OK");
                try (TestPipeline second = first.withRedis(replica);
                        ConsistencyCheck replicaCheck = second.check(oracle)) {
                    second.startPipeline(); // until Kafka Streams runs again: not part of the healing
                    long lostAt = System.nanoTime();
                    CompletableFuture<Long> publishing =
                            CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofSeconds(5), 100));
                    healed(second, replicaCheck, oracle, generator, publishing, lostAt, "failover to a replica behind");
                    assertReplayedOnlyWhatWasLost(second, committedBeforeFailover - endAtLag, 0);
                }
            }
        }
    }

    /** Every event published so far is in Redis and committed. */
    private static void awaitCaughtUp(TestPipeline p, ConsistencyCheck check) {
        ConsistencyCheck.Result r = check.awaitConsistent(CATCH_UP);
        assertThat(r.mismatches()).isEmpty();
        await("the writer commits all it wrote")
                .atMost(CATCH_UP)
                .until(() -> TestPipeline.sum(p.committedWriterOffsets()) == TestPipeline.sum(p.mutationEndOffsets()));
    }

    private static void healed(
            TestPipeline p,
            ConsistencyCheck check,
            Oracle oracle,
            EventGenerator generator,
            CompletableFuture<Long> publishing,
            long lostAt,
            String what)
            throws Exception {
        assertThat(publishing.get()).isPositive();
        assertThat(generator.failed())
                .as("records Kafka refused: %s", generator.failures())
                .isZero();
        ConsistencyCheck.Result healed = check.awaitConsistent(HEAL_WITHIN);
        Duration took = Duration.ofNanos(System.nanoTime() - lostAt);
        assertThat(healed.mismatches()).as("Redis equals the oracle again").isEmpty();
        assertThat(healed.total()).isEqualTo(oracle.entityCount());
        System.out.println(what + ": Redis equal to the oracle again " + took.toMillis() + " ms after it went back");
    }

    private static void assertReplayedOnlyWhatWasLost(TestPipeline p, long lost, double rebuildsBefore)
            throws Exception {
        long topic = TestPipeline.sum(p.mutationEndOffsets());
        double replayed = counter(p, WriterMeters.WATERMARK_REPLAYED_RECORDS);
        System.out.println("lost " + lost + " records, replayed " + (long) replayed + " of " + topic);
        assertThat(lost).as("the test lost something").isGreaterThan(500);
        assertThat(counter(p, WriterMeters.WATERMARK_GAPS)).isGreaterThanOrEqualTo(1);
        assertThat(counter(p, WriterMeters.WATERMARK_REPLAYS)).isGreaterThanOrEqualTo(1);
        assertThat(replayed).as("the replay covers what was lost").isGreaterThanOrEqualTo(lost);
        assertThat(replayed).as("and only that").isLessThan(topic / 2.0);
        assertThat(counter(p, WriterMeters.REBUILD_STARTED))
                .as("no full rebuild: the marker survived")
                .isEqualTo(rebuildsBefore);
        await("every gap closed")
                .atMost(HEAL_WITHIN)
                .until(() ->
                        p.registry.get(WriterMeters.WATERMARK_OPEN_GAPS).gauge().value() == 0);
    }

    private static double counter(TestPipeline p, String name) {
        return p.registry.get(name).counter().count();
    }
}
