package dev.cachepipe.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.testing.ChildJvm;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.FreePorts;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.topology.DeadLetterReason;
import dev.cachepipe.topology.TopologyMeters;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.WriterMeters;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 3: a {@code cachepipe run} process (a child JVM) with {@code --jmx-port} and {@code --http-port}; its
 * metrics, read over a real JMX connector, move exactly as the published events say; Kafka's own MBeans are there
 * too; {@code /health} turns 503 while Redis is down and 200 again after; {@code /metrics} and {@code stats} agree.
 */
class JmxMetricsIT {
    private static RedisServer redis;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Test
    void shouldCountThePublishedEventsOverJmxAndReportRedisOutagesOnHealth() throws Exception {
        TestPipeline p = TestPipeline.configure("jmx", redis, 3, "");
        p.createTopics();
        Path config = p.configFile();
        int jmxPort = FreePorts.next();
        int httpPort = FreePorts.next();
        Process child = startRunProcess(config, p.id, jmxPort, httpPort);
        JMXConnector jmx = null;
        try {
            await("the child process is up")
                    .atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        assertThat(child.isAlive()).as("child process alive").isTrue();
                        return health(httpPort).statusCode() == 200;
                    });
            jmx = JMXConnectorFactory.connect(
                    new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi"));
            MBeanServerConnection mbs = jmx.getMBeanServerConnection();
            assertThat(events(mbs, "user", TopologyMeters.MUTATED))
                    .as("user events mutated before any was published")
                    .isZero();

            publishKnownEvents(p);

            await("the counters move as the published events say")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        assertThat(count(mbs, WriterMeters.INVALIDATIONS_PUBLISHED))
                                .as("invalidations published")
                                .isEqualTo(40);
                        assertThat(events(mbs, TopologyMeters.UNKNOWN_ENTITY_TYPE, TopologyMeters.DEAD_LETTERED))
                                .as("events of unknown type dead-lettered")
                                .isEqualTo(3);
                    });
            assertThat(events(mbs, "user", TopologyMeters.MUTATED)).isEqualTo(30);
            assertThat(events(mbs, "user", TopologyMeters.STALE)).isEqualTo(1);
            assertThat(events(mbs, "user", TopologyMeters.DEAD_LETTERED)).isZero();
            assertThat(events(mbs, "order", TopologyMeters.MUTATED)).isEqualTo(10);
            assertThat(events(mbs, "order", TopologyMeters.DEAD_LETTERED)).isEqualTo(1);
            assertThat(deadLetters(mbs, DeadLetterReason.UNDECODABLE)).isEqualTo(2);
            assertThat(deadLetters(mbs, DeadLetterReason.UNKNOWN_ENTITY_TYPE)).isEqualTo(1);
            assertThat(deadLetters(mbs, DeadLetterReason.ENTITY_TYPE_NOT_ON_TOPIC))
                    .isEqualTo(1);
            assertThat(writes(mbs, "user", WriteOutcome.APPLIED)).isEqualTo(30);
            assertThat(writes(mbs, "order", WriteOutcome.APPLIED)).isEqualTo(10);
            assertThat(value(mbs, WriterMeters.LAG)).isZero();
            assertThat(count(mbs, WriterMeters.BATCH_SIZE)).isPositive();
            assertThat(count(mbs, WriterMeters.FRESHNESS)).isEqualTo(40);
            assertThat(percentile(mbs, WriterMeters.FRESHNESS, 0.99)).isPositive();
            // a new Redis has no marker: the writer rebuilt it at start-up (on a slow machine, maybe while the events
            // above arrived)
            await("the start-up rebuild completes")
                    .atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(count(
                                    mbs,
                                    WriterMeters.REBUILD_FINISHED,
                                    WriterMeters.OUTCOME,
                                    WriterMeters.rebuildOutcomeTag(CacheRebuild.Outcome.COMPLETED)))
                            .as("rebuilds completed")
                            .isGreaterThanOrEqualTo(1));
            assertThat(value(mbs, HealthMonitor.GAUGE)).isEqualTo(1.0);
            // Kafka's own client and Streams MBeans are published on the same connector
            assertThat(mbs.queryNames(new ObjectName("kafka.streams:type=stream-metrics,*"), null))
                    .isNotEmpty();
            assertThat(mbs.queryNames(new ObjectName("kafka.consumer:type=consumer-fetch-manager-metrics,*"), null))
                    .isNotEmpty();
            assertThat(mbs.queryNames(new ObjectName("kafka.producer:type=producer-metrics,*"), null))
                    .isNotEmpty();

            String metrics = get(httpPort, "/metrics").body();
            assertThat(metrics)
                    .contains("cachepipe_events_total{entity_type=\"user\",outcome=\"mutated\"} 30.0")
                    .contains("cachepipe_writer_invalidations_published_total 40.0")
                    .contains("cachepipe_health 1.0")
                    .contains("jvm_memory_used_bytes");

            TestPipeline.CliRun stats = TestPipeline.cli("stats", "--jmx", "127.0.0.1:" + jmxPort);
            assertThat(stats.exitCode()).as(stats.toString()).isZero();
            assertThat(stats.out())
                    .contains("health        UP")
                    .containsPattern("user +30 +0 +1 +0\n")
                    .containsPattern("order +10 +0 +0 +1\n")
                    .contains("undecodable 2")
                    .contains("applied 40, stale-skipped 0")
                    .contains("kafka streams RUNNING");

            // Redis away: /health says 503 with the reason, the gauge says 0; back: 200 and 1
            redis.pause();
            try {
                await("/health turns 503")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> health(httpPort).statusCode() == 503);
                HttpResponse<String> down = health(httpPort);
                assertThat(down.body()).contains("\"status\":\"DOWN\"").contains("Redis unavailable");
                assertThat(down.headers().firstValue("Content-Type")).hasValue("application/json");
                assertThat(value(mbs, HealthMonitor.GAUGE)).isZero();
                // the health monitor samples once a second: keep Redis away until it logged the change
                await("the log says why it degraded")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> Files.readString(runLog(p)).contains("cachepipe degraded: Redis unavailable"));
            } finally {
                redis.resume();
            }
            await("/health turns 200 again")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> health(httpPort).statusCode() == 200);
            assertThat(health(httpPort).body()).contains("\"status\":\"UP\"").contains("\"reason\":\"ok\"");
            assertThat(value(mbs, HealthMonitor.GAUGE)).isEqualTo(1.0);
            await("the log says it recovered")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> Files.readString(runLog(p)).contains("cachepipe healthy again"));
        } finally {
            if (jmx != null) {
                jmx.close();
            }
            ChildJvm.stop(child);
        }
    }

    /**
     * 30 users, 10 orders, one stale user event, two undecodable records, one event of an unknown type and one order
     * on the users' topic. All users and orders on one producer, so the stale one comes after the one it is older
     * than.
     */
    private static void publishKnownEvents(TestPipeline p) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            lines.add("{\"entityType\":\"user\",\"entityId\":\"u" + i + "\",\"version\":2,\"op\":\"UPSERT\","
                    + "\"payload\":{\"n\":" + i + "}}");
        }
        for (int i = 0; i < 10; i++) {
            lines.add("{\"entityType\":\"order\",\"entityId\":\"o" + i + "\",\"version\":1,\"op\":\"UPSERT\","
                    + "\"payload\":{}}");
        }
        lines.add("{\"entityType\":\"user\",\"entityId\":\"u0\",\"version\":1,\"op\":\"UPSERT\",\"payload\":{}}");
        Path file = Path.of(System.getProperty("java.io.tmpdir"), p.id + "-events.jsonl");
        Files.write(file, lines);
        TestPipeline.CliRun run = TestPipeline.cli(
                "publish", "--file", file.toString(), "--config", p.configFile().toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();

        String users = p.id + ".users";
        AvroSerde<DomainEvent> serde = AvroSerde.of(DomainEvent.class);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        EmbeddedKafka.shared().bootstrapServers()),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(users, "x".getBytes(), "not avro".getBytes()));
            producer.send(new ProducerRecord<>(users, "y".getBytes(), new byte[] {(byte) 0xC3, 1, 2}));
            producer.send(new ProducerRecord<>(users, "g".getBytes(), serde.encode(event("ghost", "g"))));
            producer.send(new ProducerRecord<>(users, "o99".getBytes(), serde.encode(event("order", "o99"))));
            producer.flush();
        }
    }

    private static DomainEvent event(String type, String id) {
        return DomainEvent.newBuilder()
                .setEventId("e-" + id)
                .setEntityType(type)
                .setEntityId(id)
                .setVersion(1)
                .setOp(Operation.UPSERT)
                .setOccurredAt(Instant.now())
                .setPayload(ByteBuffer.wrap("{}".getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    private static double events(MBeanServerConnection mbs, String entityType, String outcome) throws Exception {
        return count(
                mbs, TopologyMeters.EVENTS, TopologyMeters.ENTITY_TYPE, entityType, TopologyMeters.OUTCOME, outcome);
    }

    private static double deadLetters(MBeanServerConnection mbs, DeadLetterReason reason) throws Exception {
        return count(mbs, TopologyMeters.DEAD_LETTERS, TopologyMeters.REASON, reason.code());
    }

    private static double writes(MBeanServerConnection mbs, String entityType, WriteOutcome outcome) throws Exception {
        return count(
                mbs, WriterMeters.WRITES, WriterMeters.ENTITY_TYPE, entityType, WriterMeters.OUTCOME, outcome.tag());
    }

    private static double percentile(MBeanServerConnection mbs, String timer, double p) throws Exception {
        return value(mbs, Metrics.percentileGauge(timer), Metrics.PERCENTILE_TAG, Metrics.percentileTag(p));
    }

    private static double count(MBeanServerConnection mbs, String meter, String... tags) throws Exception {
        return ((Number) mbs.getAttribute(mbean(meter, tags), "Count")).doubleValue();
    }

    private static double value(MBeanServerConnection mbs, String meter, String... tags) throws Exception {
        return ((Number) mbs.getAttribute(mbean(meter, tags), "Value")).doubleValue();
    }

    /** The MBean of {@code meter} with these tags (key, value, ...), named as {@link Metrics} names it. */
    private static ObjectName mbean(String meter, String... tags) throws Exception {
        StringBuilder name = new StringBuilder(Metrics.JMX_DOMAIN + ":name=" + Metrics.shortName(meter));
        for (int i = 0; i + 1 < tags.length; i += 2) {
            name.append(',').append(tags[i]).append('=').append(tags[i + 1]);
        }
        return new ObjectName(name.toString());
    }

    private HttpResponse<String> health(int port) throws Exception {
        return get(port, "/health");
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        try {
            return http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new FailedResponse(e);
        }
    }

    private static Path runLog(TestPipeline p) {
        return runLog(p.id);
    }

    private static Path runLog(String id) {
        return ChildJvm.log(id + "-run");
    }

    /** {@code cachepipe run} in a child JVM with the test class path, output to target/tmp/ID-run.log. */
    private static Process startRunProcess(Path config, String id, int jmxPort, int httpPort) throws IOException {
        return ChildJvm.start(
                id + "-run",
                List.of(),
                List.of(
                        "run",
                        "--config",
                        config.toString(),
                        "--jmx-port",
                        Integer.toString(jmxPort),
                        "--http-port",
                        Integer.toString(httpPort),
                        "--http-host",
                        "127.0.0.1"));
    }

    /** A request that did not get an answer (the server is not up yet): status 0. */
    private record FailedResponse(IOException error) implements HttpResponse<String> {
        @Override
        public int statusCode() {
            return 0;
        }

        @Override
        public HttpRequest request() {
            return null;
        }

        @Override
        public java.util.Optional<HttpResponse<String>> previousResponse() {
            return java.util.Optional.empty();
        }

        @Override
        public java.net.http.HttpHeaders headers() {
            return java.net.http.HttpHeaders.of(Map.of(), (a, b) -> true);
        }

        @Override
        public String body() {
            return String.valueOf(error);
        }

        @Override
        public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
            return java.util.Optional.empty();
        }

        @Override
        public URI uri() {
            return null;
        }

        @Override
        public HttpClient.Version version() {
            return HttpClient.Version.HTTP_1_1;
        }
    }
}
