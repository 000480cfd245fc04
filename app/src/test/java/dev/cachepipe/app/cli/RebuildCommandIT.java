package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.writer.CacheRebuild;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Acceptance 2: {@code cachepipe rebuild} on an empty Redis restores every entry, with a progress bar and a rate. */
class RebuildCommandIT {
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
    void shouldRestoreEveryEntryAndShowProgressAndRateWhenRedisIsEmpty() {
        try (TestPipeline p = TestPipeline.start("rebuildcmd", redis, 3);
                RedisProbe probe = new RedisProbe(redis)) {
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 1000, 7L).withWindow(3000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publish(6000, 0);
                assertThat(check.awaitConsistent(Duration.ofSeconds(90)).mismatches())
                        .isEmpty();
                // the pipeline is stopped, so only the command can bring the entries back
                p.stopPipeline();
                assertThat(redis.command("FLUSHALL")).startsWith("+OK");
                assertThat(check.check().consistent())
                        .as("entries left after FLUSHALL")
                        .isZero();
                Path config = p.configFile();

                TestPipeline.CliRun run = TestPipeline.cli("rebuild", "--config", config.toString());

                assertThat(run.exitCode()).as(run.toString()).isZero();
                ConsistencyCheck.Result result = check.check();
                assertThat(result.mismatches()).as(run.toString()).isEmpty();
                assertThat(result.consistent()).isEqualTo(oracle.entityCount());
                assertThat(result.expired()).isZero();
                assertThat(run.out())
                        .contains("Rebuilding Redis redis://127.0.0.1:" + redis.port())
                        .containsPattern("Rebuilt [0-9,]+ records in [0-9.]+ (ms|s) \\([0-9,]+ records/s\\): [0-9,]+"
                                + " applied")
                        .contains("marker " + p.id + ":@cachepipe written");
                // not a terminal: the progress bar prints plain lines, ending at 100%
                assertThat(run.err()).contains("rebuild 100%").containsPattern("rebuild +[0-9]+%");
                assertThat(probe.sync().hget(CacheRebuild.markerKey(p.id), "epoch"))
                        .isNotNull();

                // one entity type only: the users come back, the orders and the marker do not
                assertThat(redis.command("FLUSHALL")).startsWith("+OK");
                TestPipeline.CliRun users =
                        TestPipeline.cli("rebuild", "--entity", "user", "--config", config.toString());
                assertThat(users.exitCode()).as(users.toString()).isZero();
                assertThat(users.out()).contains("entity type user only").doesNotContain("marker");
                for (Oracle.Expectation e : oracle.expectations()) {
                    boolean isUser = e.key().startsWith(p.id + ":user:");
                    if (isUser) {
                        assertThat(probe.read(e.key())).as(e.key()).isEqualTo(e.entry());
                    } else {
                        assertThat(probe.read(e.key()))
                                .as(e.key())
                                .map(CacheEntry::state)
                                .isEmpty();
                    }
                }
                assertThat(probe.sync().exists(CacheRebuild.markerKey(p.id)))
                        .as("marker after a rebuild of one entity type only")
                        .isZero();
            }
        }
    }

    @Test
    void shouldExplainWhatToSetWhenTheConfigurationSaysEmbedded() {
        TestPipeline.CliRun run = TestPipeline.cli("rebuild");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("rebuild needs a running Kafka").contains("KAFKA_BOOTSTRAP_SERVERS");
    }
}
