package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.writer.WriteOutcome;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 6: Redis away for 10 s mid-run (frozen with SIGSTOP, or shut down and restarted with its data): the
 * writer stays alive, reports unhealthy, commits nothing while Redis is away, and Redis ends equal to the oracle.
 * Also: {@code SCRIPT FLUSH} mid-run is survived.
 */
class RedisOutageIT {
    private static final Duration OUTAGE = Duration.ofSeconds(10);

    private static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Test
    void shouldCommitNothingAndThenCatchUpWhenRedisIsFrozenForTenSeconds() throws Exception {
        outage("pause", redis::pause, redis::resume);
    }

    @Test
    void shouldCommitNothingAndThenCatchUpWhenRedisIsStoppedAndRestartedWithItsData() throws Exception {
        outage("restart", redis::stopKeepingData, redis::restart);
    }

    private static void outage(String name, Runnable down, Runnable up) throws Exception {
        try (TestPipeline p = TestPipeline.start(name, redis, 3)) {
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 200, 6L).withWindow(1000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                // publishes until told to stop, so events flow through the whole outage however slow the machine
                CompletableFuture<Long> publishing =
                        CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofMinutes(5), 300));
                await("the writer applies and commits")
                        .atMost(Duration.ofSeconds(60))
                        .until(() ->
                                p.writes(WriteOutcome.APPLIED) > 0 && TestPipeline.sum(p.committedWriterOffsets()) > 0);

                long outageStart = System.nanoTime();
                down.run();
                try {
                    // writes acknowledged just before the outage may still be committed; after that, nothing
                    Thread.sleep(2000);
                    Map<TopicPartition, Long> committedBefore = p.committedWriterOffsets();
                    long mutationsBefore = TestPipeline.sum(p.mutationEndOffsets());
                    long appliedBefore = p.writes(WriteOutcome.APPLIED);
                    long publishedBefore = generator.acknowledged();
                    await("the writer reports unhealthy")
                            .atMost(Duration.ofSeconds(8))
                            .until(() -> !p.pipeline().healthy());
                    assertThat(p.pipeline().healthReason()).containsIgnoringCase("redis");
                    Thread.sleep(4000);

                    assertThat(p.committedWriterOffsets())
                            .as("writer offsets committed during the outage")
                            .isEqualTo(committedBefore);
                    assertThat(p.writes(WriteOutcome.APPLIED))
                            .as("writes applied during the outage")
                            .isEqualTo(appliedBefore);
                    // while events kept flowing through the topology
                    assertThat(generator.acknowledged())
                            .as("events published during the outage")
                            .isGreaterThan(publishedBefore);
                    assertThat(TestPipeline.sum(p.mutationEndOffsets()))
                            .as("mutations emitted during the outage")
                            .isGreaterThan(mutationsBefore);

                    long left = OUTAGE.toNanos() - (System.nanoTime() - outageStart);
                    if (left > 0) {
                        Thread.sleep(left / 1_000_000);
                    }
                    assertThat(p.committedWriterOffsets()).isEqualTo(committedBefore);
                } finally {
                    up.run();
                }
                await("the writer recovers")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> p.pipeline().healthy());
                long appliedAtRecovery = p.writes(WriteOutcome.APPLIED);
                await("the writer applies events published after the outage")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> p.writes(WriteOutcome.APPLIED) > appliedAtRecovery);
                generator.stop();
                assertThat(publishing.get()).isPositive();
                assertThat(generator.failed())
                        .as("records Kafka refused: %s", generator.failures())
                        .isZero();

                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(90));

                assertThat(result.mismatches()).isEmpty();
                assertThat(result.total()).isEqualTo(oracle.entityCount());
                await("the writer commits again")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> TestPipeline.sum(p.committedWriterOffsets())
                                == TestPipeline.sum(p.mutationEndOffsets()));
            }
        }
    }

    @Test
    void shouldStayConsistentWhenRedisLosesItsScriptsMidRun() throws Exception {
        try (TestPipeline p = TestPipeline.start("scriptflush", redis, 3)) {
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 200, 8L).withWindow(1000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                CompletableFuture<Long> publishing =
                        CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofMinutes(5), 400));
                for (int i = 0; i < 3; i++) {
                    long applied = p.writes(WriteOutcome.APPLIED);
                    await("writes applied before script flush " + (i + 1))
                            .atMost(Duration.ofSeconds(60))
                            .until(() -> p.writes(WriteOutcome.APPLIED) > applied);
                    assertThat(redis.command("SCRIPT", "FLUSH")).startsWith("+OK");
                    Thread.sleep(1500);
                }
                long appliedAfterLastFlush = p.writes(WriteOutcome.APPLIED);
                await("writes applied after the last script flush")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> p.writes(WriteOutcome.APPLIED) > appliedAfterLastFlush);
                generator.stop();
                publishing.get();

                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(90));

                assertThat(result.mismatches()).isEmpty();
                assertThat(p.pipeline().healthy()).isTrue();
            }
        }
    }
}
