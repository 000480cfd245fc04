package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.ChildJvm;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 7: the pipeline process ({@code cachepipe run} in a child JVM) is killed with SIGKILL mid-run and
 * started again; Redis ends equal to the oracle.
 */
class ProcessKillIT {
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
    void shouldMatchTheOracleWhenThePipelineProcessIsKilledHardMidRunAndStartedAgain() throws Exception {
        // short sessions, so that the restarted process gets the partitions the dead one held within seconds
        TestPipeline p =
                TestPipeline.configure("kill", redis, 3, "session.timeout.ms: '6000', heartbeat.interval.ms: '1000'");
        p.createTopics();
        Path configFile = Path.of(System.getProperty("java.io.tmpdir"), p.id + ".yaml");
        Files.writeString(configFile, p.yaml);
        Oracle oracle = p.oracle();
        EventGenerator.Settings settings =
                EventGenerator.Settings.of(p.policies(), 300, 13L).withWindow(1000);
        Process first = null;
        Process second = null;
        try (EventGenerator generator = p.generator(settings, oracle);
                ConsistencyCheck check = p.check(oracle)) {
            // publishes until told to stop, so the kill and the restart both happen while events flow however
            // slowly the child JVMs start on a busy machine
            CompletableFuture<Long> publishing =
                    CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofMinutes(5), 400));
            first = startPipelineProcess(configFile, p.id + "-first");
            Process firstProcess = first;
            await("the first process writes to Redis")
                    .atMost(Duration.ofSeconds(90))
                    .until(() -> {
                        assertThat(firstProcess.isAlive())
                                .as("first pipeline process alive")
                                .isTrue();
                        return check.check().consistent() > 20;
                    });
            Thread.sleep(2000); // mid-run, with batches in flight

            first.destroyForcibly(); // SIGKILL: no shutdown hook, no commit, no close
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(first.exitValue()).isEqualTo(137);
            ConsistencyCheck.Result atKill = check.check();
            assertThat(publishing)
                    .as("the kill happens while events are still published")
                    .isNotDone();
            assertThat(atKill.isConsistent())
                    .as("Redis is behind when the process dies")
                    .isFalse();

            Thread.sleep(1000);
            second = startPipelineProcess(configFile, p.id + "-second");
            Process secondProcess = second;
            Path secondLog = ChildJvm.log(p.id + "-second");
            await("the second process runs").atMost(Duration.ofSeconds(90)).until(() -> {
                assertThat(secondProcess.isAlive())
                        .as("second pipeline process alive")
                        .isTrue();
                return Files.exists(secondLog) && Files.readString(secondLog).contains("cachepipe running");
            });
            Thread.sleep(3000); // events keep flowing through the second process for a while
            generator.stop();
            assertThat(publishing.get()).isPositive();
            assertThat(generator.failed())
                    .as("records Kafka refused: %s", generator.failures())
                    .isZero();

            ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(120));

            assertThat(second.isAlive()).isTrue();
            assertThat(result.mismatches()).isEmpty();
            assertThat(result.total()).isEqualTo(oracle.entityCount()).isGreaterThan(atKill.consistent());
        } finally {
            ChildJvm.stop(first);
            ChildJvm.stop(second);
        }
    }

    /** {@code cachepipe run --config FILE} in a child JVM, output to target/tmp/NAME.log. */
    private static Process startPipelineProcess(Path config, String name) throws IOException {
        return ChildJvm.start(name, List.of(), List.of("run", "--config", config.toString()));
    }
}
