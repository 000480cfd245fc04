package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.ChildJvm;
import dev.cachepipe.app.testing.Groups;
import dev.cachepipe.app.testing.RegressionWatcher;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.support.redis.RedisTarget;
import io.lettuce.core.RedisURI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 8, acceptance 1 (and item 3 at the level of the product): two {@code cachepipe run} instances (child JVMs,
 * static membership) share the work while events flow; Redis is frozen (SIGSTOP); once instance A's writer is
 * retrying a batch against the frozen Redis, A is killed with SIGKILL, so the rebalance that gives its partitions to
 * B happens during the outage, while B's own batch is being retried too. Then Redis comes back. Throughout, a
 * watcher reads every entity's entry several times a second and records any that went back to an older version or
 * disappeared; at the end Redis equals the oracle and the writer group has committed everything.
 */
class KillDuringRedisOutageIT {
    private static final Logger log = LoggerFactory.getLogger(KillDuringRedisOutageIT.class);
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
    void shouldNeverGoBackWhenAnInstanceIsKilledMidBatchAndTheRebalanceHappensDuringARedisOutage() throws Exception {
        TestPipeline p = TestPipeline.configure("killoutage", redis, 4, "");
        p.createTopics();
        Path configA = p.instanceConfig("a", "instanceId: a");
        Path configB = p.instanceConfig("b", "instanceId: b");
        Oracle oracle = p.oracle();
        EventGenerator.Settings settings =
                EventGenerator.Settings.of(p.policies(), 300, 23L).withWindow(1000);
        Process a = null;
        Process b = null;
        try (EventGenerator generator = p.generator(settings, oracle);
                ConsistencyCheck check = p.check(oracle);
                Admin admin = EmbeddedKafka.shared().admin();
                RegressionWatcher watcher =
                        new RegressionWatcher(RedisTarget.of(RedisURI.create(redis.uri())), oracle)) {
            Groups groups = new Groups(admin, p);
            b = ChildJvm.start(p.id + "-b", List.of(), List.of("run", "--config", configB.toString()));
            await("B holds every partition of both groups")
                    .atMost(Duration.ofSeconds(180))
                    .ignoreExceptions() // a group is not found until its first member joined
                    .until(() -> groups.holdsAll(groups.members()));
            Set<String> bMembers = groups.members();
            a = ChildJvm.start(p.id + "-a", List.of(), List.of("run", "--config", configA.toString()));
            await("A holds partitions in both groups")
                    .atMost(Duration.ofSeconds(180))
                    .ignoreExceptions()
                    .until(() -> groups.holdsSome(bMembers));
            CompletableFuture<Long> publishing =
                    CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofMinutes(6), 300));
            await("events are written by both")
                    .atMost(Duration.ofSeconds(90))
                    .until(() -> check.check().consistent() > 100);
            watcher.start();

            Path logA = ChildJvm.log(p.id + "-a");
            Path logB = ChildJvm.log(p.id + "-b");
            redis.pause();
            try {
                await("A's writer retries a batch against the frozen Redis")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> Files.readString(logA).contains("Redis unavailable"));
                a.destroyForcibly(); // SIGKILL mid-batch: no commit, no leave, no close
                assertThat(a.waitFor(30, TimeUnit.SECONDS)).isTrue();
                long killed = System.nanoTime();
                await("B holds every partition, Redis still frozen")
                        .atMost(Duration.ofSeconds(60))
                        .ignoreExceptions()
                        .until(() -> groups.holdsAll(bMembers));
                log.info(
                        "KillDuringRedisOutageIT: B took over {} ms after the kill, during the outage",
                        (System.nanoTime() - killed) / 1_000_000);
                assertThat(Files.readString(logB)).as("B saw the outage").contains("Redis unavailable");
                TestPipeline.sleep(2000); // B retries its batches, now over A's partitions too
            } finally {
                redis.resume();
            }

            long roundsBeforeResume = watcher.rounds();
            long published = generator.acknowledged();
            await("events published after the outage")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> generator.acknowledged() > published + 300);
            generator.stop();
            assertThat(publishing.get()).isPositive();
            assertThat(generator.failed()).as("%s", generator.failures()).isZero();
            ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(120));
            assertThat(result.mismatches()).isEmpty();
            assertThat(result.total()).isEqualTo(oracle.entityCount());
            await("the writer group committed everything")
                    .atMost(Duration.ofSeconds(60))
                    .until(() ->
                            TestPipeline.sum(p.committedWriterOffsets()) == TestPipeline.sum(p.mutationEndOffsets()));
            long roundsAtEnd = watcher.rounds();
            await("the watcher read every entry again, five times")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> watcher.rounds() > roundsAtEnd + 5);
            watcher.stop();

            assertThat(roundsBeforeResume)
                    .as("watcher rounds before Redis came back")
                    .isPositive();
            assertThat(watcher.rounds() - roundsBeforeResume)
                    .as("watcher rounds after Redis came back")
                    .isGreaterThan(5);
            assertThat(watcher.wentBack())
                    .as("entries that went back or disappeared")
                    .isEmpty();
            assertThat(b.isAlive()).isTrue();
            log.info(
                    "KillDuringRedisOutageIT: {} entities consistent; watcher read every entry {} times, none went back",
                    result.consistent(),
                    watcher.rounds());
        } finally {
            ChildJvm.stop(a);
            ChildJvm.stop(b);
        }
    }
}
