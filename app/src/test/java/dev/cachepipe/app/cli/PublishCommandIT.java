package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.embedded.StubSchemaRegistry;
import dev.cachepipe.schemas.CacheEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Acceptance 5: {@code cachepipe publish} publishes the good lines of a mixed file and names the bad ones. */
class PublishCommandIT {
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
    void shouldPublishTheGoodLinesAndNameTheBadOnesWhenTheFileMixesThem() throws Exception {
        try (TestPipeline p = TestPipeline.start("publishcmd", redis, 1);
                RedisProbe probe = new RedisProbe(redis)) {
            Path file = Path.of(System.getProperty("java.io.tmpdir"), p.id + "-events.jsonl");
            Files.writeString(
                    file,
                    String.join(
                            "\n",
                            "# users and an order",
                            "{\"entityType\":\"user\",\"entityId\":\"42\",\"version\":1,\"op\":\"UPSERT\",\"payload\":{\"name\":\"Ada\"}}",
                            "{\"entityType\":\"user\",\"entityId\":\"42\",\"version\":2,\"op\":\"UPSERT\",\"payload\":{\"name\":\"Ada L.\",\"tags\":[1,2]},\"attributes\":{\"tenant\":\"t1\"}}",
                            "{\"entityType\":\"user\",\"entityId\":\"43\",\"version\":\"seven\",\"op\":\"UPSERT\",\"payload\":{}}",
                            "",
                            "{\"entityType\":\"user\",\"entityId\":44,\"version\":3,\"op\":\"delete\",\"occurredAt\":\"2026-01-02T03:04:05Z\"}",
                            "{\"entityType\":\"invoice\",\"entityId\":\"1\",\"version\":1,\"op\":\"UPSERT\",\"payload\":{}}",
                            "{\"entityType\":\"user\",\"entityId\":\"45\",\"version\":1,\"op\":\"UPSERT\"",
                            "{\"entityType\":\"order\",\"entityId\":\"o-1\",\"version\":9,\"op\":\"UPSERT\",\"payload\":[\"x\"]}",
                            "{\"entityType\":\"user\",\"entityId\":\"46\",\"version\":1,\"op\":\"UPSERT\",\"payload\":{},\"colour\":\"red\"}",
                            "{\"entityType\":\"user\",\"entityId\":\"47\",\"version\":1,\"op\":\"UPSERT\",\"payload\":\""
                                    + "x".repeat(3000) + "\"}",
                            "{\"entityType\":\"user\",\"entityId\":\"48\",\"version\":1,\"op\":\"UPSERT\",\"payload\":null}"));

            TestPipeline.CliRun run = TestPipeline.cli(
                    "publish",
                    "--file",
                    file.toString(),
                    "--config",
                    p.configFile().toString());

            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(run.out())
                    .contains("Published 4 events from " + file)
                    .contains(p.id + ".users 3")
                    .contains(p.id + ".orders 1")
                    .contains("skipped 6 bad lines: 4, 7, 8, 10, 11, 12");
            assertThat(run.err())
                    .contains(file + ":4: skipped: 'version' must be a whole number >= 0 but was string \"seven\"")
                    .contains(file + ":7: skipped: 'entityType' \"invoice\" is not configured")
                    .contains(file + ":8: skipped: not valid JSON")
                    .contains(file + ":10: skipped: unknown field 'colour'")
                    .contains(file + ":11: skipped: 'payload' is 3002 bytes of JSON; entities.user.maxPayloadBytes"
                            + " allows 2048")
                    .contains(file + ":12: skipped: an UPSERT needs a 'payload'")
                    .doesNotContain(":2:")
                    .doesNotContain(":9:");

            String user42 = p.id + ":user:42";
            await("user 42 at version 2 in Redis")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> probe.read(user42).map(CacheEntry::version).orElse(0L) == 2L);
            CacheEntry e = probe.read(user42).orElseThrow();
            assertThat(e.contentType()).isEqualTo("application/json");
            assertThat(new String(e.payload(), StandardCharsets.UTF_8))
                    .isEqualTo("{\"name\":\"Ada L.\",\"tags\":[1,2]}");
            await("order o-1 in Redis")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> probe.read(p.id + ":order:o-1").isPresent());
            await("user 44's tombstone in Redis")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> probe.read(p.id + ":user:44").isPresent());
            CacheEntry tombstone = probe.read(p.id + ":user:44").orElseThrow();
            assertThat(tombstone.state()).isEqualTo(CacheEntry.State.TOMBSTONE);
            assertThat(tombstone.occurredAt())
                    .isEqualTo(java.time.Instant.parse("2026-01-02T03:04:05Z").toEpochMilli());
            for (String bad : new String[] {"43", "45", "46", "47", "48"}) {
                assertThat(probe.read(p.id + ":user:" + bad)).as("user " + bad).isEmpty();
            }

            // all good: exit code 0
            Path good = Path.of(System.getProperty("java.io.tmpdir"), p.id + "-good.jsonl");
            Files.writeString(
                    good,
                    "{\"entityType\":\"user\",\"entityId\":\"50\",\"version\":1,\"op\":\"UPSERT\",\"payload\":true}\n");
            TestPipeline.CliRun ok = TestPipeline.cli(
                    "publish", "-f", good.toString(), "-c", p.configFile().toString());
            assertThat(ok.exitCode()).as(ok.toString()).isZero();
            assertThat(ok.out()).startsWith("Published 1 event from " + good);
            assertThat(ok.err()).isEmpty();
        }
    }

    /**
     * Issue 12: {@code publish --format confluent --registry URL} registers the DomainEvent schema under {@code
     * <topic>-value} in the registry ({@link StubSchemaRegistry}, a stub of Confluent's documented REST API: no registry
     * server can be installed here) and writes the Confluent wire format, which the pipeline reads through the same
     * registry into Redis.
     */
    @Test
    void shouldWriteTheConfluentWireFormatAndRegisterTheSchemaUnderTheTopicWhenFormatIsConfluent() throws Exception {
        try (StubSchemaRegistry registry = StubSchemaRegistry.start();
                TestPipeline p = TestPipeline.configure("publish-confluent", redis, 1, "")
                        .withYaml(y -> y + "schemas:\n  registry:\n    url: " + registry.url() + "\n");
                RedisProbe probe = new RedisProbe(redis)) {
            p.startPipeline();
            Path file = Path.of(System.getProperty("java.io.tmpdir"), p.id + "-confluent.jsonl");
            Files.writeString(
                    file,
                    "{\"entityType\":\"user\",\"entityId\":\"c1\",\"version\":3,\"op\":\"UPSERT\",\"payload\":{\"n\":1}}\n");
            TestPipeline.CliRun run = TestPipeline.cli(
                    "publish",
                    "--format",
                    "confluent",
                    "--registry",
                    registry.url(),
                    "--file",
                    file.toString(),
                    "--config",
                    p.configFile().toString());
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.out()).startsWith("Published 1 event from " + file);

            String users = p.policy("user").topics().get(0);
            assertThat(registry.subjects()).as("registered under <topic>-value").containsExactly(users + "-value");
            await("user c1 in Redis, read through the registry")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> probe.read(p.id + ":user:c1")
                                    .map(CacheEntry::version)
                                    .orElse(0L)
                            == 3L);
            assertThat(p.registry
                            .find(dev.cachepipe.topology.TopologyMeters.EVENTS_DECODED)
                            .tag(dev.cachepipe.topology.TopologyMeters.FORMAT, "confluent")
                            .tag(dev.cachepipe.topology.TopologyMeters.SCHEMA_ID, "1")
                            .counter())
                    .isNotNull();

            TestPipeline.CliRun wrong = TestPipeline.cli(
                    "publish",
                    "--format",
                    "auto",
                    "--file",
                    file.toString(),
                    "--config",
                    p.configFile().toString());
            assertThat(wrong.exitCode()).isEqualTo(2);
            assertThat(wrong.err()).contains("--format must be single-object or confluent");
        }
    }
}
