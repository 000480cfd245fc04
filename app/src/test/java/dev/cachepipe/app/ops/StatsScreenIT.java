package dev.cachepipe.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.WriterStats;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.writer.WriteOutcome;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The guard of the meter names: {@code cachepipe stats} reads only meters that some module registers. The registering
 * side is the real code of every module (the topology's and the cache writer's meters from a running {@link Pipeline},
 * the app's health gauge from the {@link OperatorEndpoints}), published as MBeans by the real {@link Metrics}; the
 * reading side is every lookup the full {@link StatsScreen} makes, as its {@link MeterSnapshot} recorded them. A meter
 * name or tag key that the screen asks for and no MBean has fails the test, whichever side moved.
 */
class StatsScreenIT {
    @Test
    void shouldReadOnlyMetersThatTheModulesRegisterWhenPrintingTheStatsScreen() throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestPipeline p = TestPipeline.configure("stats-screen", redis, 1, "");
                Metrics metrics = Metrics.start(false);
                Infrastructure infra = Infrastructure.start(p.config);
                Pipeline pipeline = Pipeline.start(p.config, infra, metrics.registry());
                OperatorEndpoints.Opened health = new OperatorEndpoints().open(pipeline, metrics, null)) {
            // counters with tags that appear at their first increment (writer.writes) must exist too: write once
            Path file = Path.of(System.getProperty("java.io.tmpdir"), p.id + "-events.jsonl");
            Files.writeString(
                    file,
                    "{\"entityType\":\"user\",\"entityId\":\"1\",\"version\":1,\"op\":\"UPSERT\",\"payload\":{}}\n");
            TestPipeline.CliRun run = TestPipeline.cli(
                    "publish",
                    "--file",
                    file.toString(),
                    "--config",
                    p.configFile().toString());
            assertThat(run.exitCode()).as(run.toString()).isZero();
            WriterStats writes = new WriterStats(metrics.registry());
            await("the event is written")
                    .atMost(Duration.ofSeconds(90))
                    .until(() -> writes.writes(WriteOutcome.APPLIED) == 1);

            StatsScreen screen = StatsScreen.read(ManagementFactory.getPlatformMBeanServer());
            StringWriter text = new StringWriter();
            screen.print(new PrintWriter(text, true));

            Map<String, Set<String>> reads = screen.meters().reads();
            assertThat(reads)
                    .as("the screen reads cachepipe meters")
                    .containsKey(Metrics.shortName(HealthMonitor.GAUGE));
            assertThat(unregistered(reads, screen.meters().available()))
                    .as("meters (and tag keys) the stats screen reads but no module registers; the screen:%n%s", text)
                    .isEmpty();
        }
    }

    /** {@code name{tag keys}} of every read that no MBean answers: the name is missing, or it lacks a tag key. */
    private static List<String> unregistered(Map<String, Set<String>> reads, Map<String, Set<String>> available) {
        List<String> out = new ArrayList<>();
        reads.forEach((name, keys) -> {
            Set<String> have = available.get(name);
            if (have == null || !have.containsAll(keys)) {
                out.add(name + keys + (have == null ? " (no such meter)" : " (its tags: " + have + ")"));
            }
        });
        return out;
    }
}
