package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.WriterMeters;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 1 (invariant 7): Redis loses its data after the pipeline converged — FLUSHALL, or a restart without
 * persistence — and, with no manual action, Redis equals the oracle again within 30 s while events keep flowing; the
 * rebuild shows in the metrics and the marker is back.
 */
class SelfHealingIT {
    private static final Duration HEAL_WITHIN = Duration.ofSeconds(30);

    private RedisServer redis; // one per test: FLUSHALL and kill take everything with them

    @BeforeEach
    void startRedis() {
        redis = RedisServer.start();
    }

    @AfterEach
    void stopRedis() {
        redis.close();
    }

    @Test
    void shouldRestoreRedisWithinThirtySecondsWhenRedisIsFlushedWhileEventsKeepFlowing() throws Exception {
        heal("flushall", () -> assertThat(redis.command("FLUSHALL")).startsWith("+OK"));
    }

    @Test
    void shouldRestoreRedisWhenItRestartsWithoutItsData() throws Exception {
        heal("restart", () -> {
            redis.kill(); // SIGKILL: --save '' and no AOF, so it comes back empty
            TestPipeline.sleep(1000);
            redis.restart();
        });
    }

    private void heal(String name, Runnable loseData) throws Exception {
        try (TestPipeline p = TestPipeline.start(name, redis, 3);
                RedisProbe probe = new RedisProbe(redis)) {
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 600, 41L).withWindow(2000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publish(4000, 0);
                ConsistencyCheck.Result converged = check.awaitConsistent(Duration.ofSeconds(90));
                assertThat(converged.mismatches()).isEmpty();
                String marker = CacheRebuild.markerKey(p.config.redis().keyPrefix());
                assertThat(probe.sync().hget(marker, "epoch"))
                        .as("marker after start-up")
                        .isNotNull();
                double completedBefore = rebuilds(p, CacheRebuild.Outcome.COMPLETED);
                double appliedBefore = rebuildRecords(p, WriteOutcome.APPLIED);

                // live writes go on while Redis loses its data and heals
                CompletableFuture<Long> publishing =
                        CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofSeconds(8), 250));
                TestPipeline.sleep(1500);
                long lostAt = System.nanoTime();
                loseData.run();
                assertThat(probe.sync().hget(marker, "epoch"))
                        .as("the marker went with the data")
                        .isNull();

                ConsistencyCheck.Result healed = check.awaitConsistent(HEAL_WITHIN);
                Duration took = Duration.ofNanos(System.nanoTime() - lostAt);
                assertThat(healed.mismatches())
                        .as("Redis equals the oracle again")
                        .isEmpty();
                assertThat(took).isLessThan(HEAL_WITHIN);
                System.out.println(name + ": Redis equal to the oracle again " + took.toMillis() + " ms after it lost"
                        + " its data");
                assertThat(publishing.get()).isPositive();
                // and it stays so once the events published during the healing have landed
                ConsistencyCheck.Result last = check.awaitConsistent(Duration.ofSeconds(60));
                assertThat(last.mismatches()).isEmpty();
                assertThat(last.total()).isEqualTo(oracle.entityCount());

                assertThat(rebuilds(p, CacheRebuild.Outcome.COMPLETED)).isGreaterThan(completedBefore);
                assertThat(rebuildRecords(p, WriteOutcome.APPLIED) - appliedBefore)
                        .as("the rebuild restored the entries, not only the live writes")
                        .isGreaterThan(500);
                assertThat(p.registry.get(WriterMeters.REBUILD_PROGRESS).gauge().value())
                        .isEqualTo(1.0);
                assertThat(p.registry.get(WriterMeters.REBUILD_ACTIVE).gauge().value())
                        .isZero();
                Map<String, byte[]> m = probe.sync().hgetall(marker);
                assertThat(m).containsKey("epoch").doesNotContainKey("lock");
                assertThat(Long.parseLong(new String(m.get("rebuiltAt"), StandardCharsets.US_ASCII)))
                        .isGreaterThan(System.currentTimeMillis() - 60_000);
                assertThat(p.pipeline().healthy()).isTrue();
            }
        }
    }

    private static double rebuilds(TestPipeline p, CacheRebuild.Outcome outcome) {
        return p.registry
                .get(WriterMeters.REBUILD_FINISHED)
                .tag(WriterMeters.OUTCOME, WriterMeters.rebuildOutcomeTag(outcome))
                .counter()
                .count();
    }

    private static double rebuildRecords(TestPipeline p, WriteOutcome outcome) {
        return p.registry
                .get(WriterMeters.REBUILD_RECORDS)
                .tag(WriterMeters.OUTCOME, outcome.tag())
                .counter()
                .count();
    }
}
