package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.cli.EventEncoder;
import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.ConfluentEvents;
import dev.cachepipe.app.testing.DeadLetters;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.embedded.StubSchemaRegistry;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.topology.CachepipeTopology;
import dev.cachepipe.topology.TopologyMeters;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, acceptance 1: a topic that mixes single-object and Confluent-format records written with several writer
 * schemas (older and newer compatible ones) — every good record reaches Redis, the rest reach the DLQ with their
 * reason. The registry is {@link StubSchemaRegistry}, an in-process stub that follows Confluent's documented REST API
 * (no registry server can be installed here); the second test uses a directory of {@code <id>.avsc} files instead.
 */
class ConfluentFormatIT {
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
    void shouldApplyGoodRecordsAndDeadLetterTheRestWhenATopicMixesFormatsAndWriterSchemasFromARegistry() {
        try (StubSchemaRegistry registry = StubSchemaRegistry.start("cachepipe", "s3cret-pw");
                TestPipeline p = TestPipeline.configure("confluent", redis, 3, "")
                        .withYaml(y -> y + """
                        schemas:
                          registry:
                            url: %s
                            username: cachepipe
                            password: s3cret-pw
                            retryBackoffMax: 1s
                        """.formatted(registry.url()))) {
            String users = p.policy("user").topics().get(0);
            int current = registry.register(
                    users + "-value", DomainEvent.getClassSchema().toString());
            int older = registry.register(users + "-value", ConfluentEvents.OLDER.toString());
            int newer =
                    registry.register(users + "-value", ConfluentEvents.newer(1).toString());
            int incompatible = 50;
            registry.put(incompatible, ConfluentEvents.INCOMPATIBLE.toString());
            p.startPipeline();

            AvroSerde<DomainEvent> singleObject = AvroSerde.of(DomainEvent.class);
            Map<Integer, Schema> writers = Map.of(
                    current,
                    DomainEvent.getClassSchema(),
                    older,
                    ConfluentEvents.OLDER,
                    newer,
                    ConfluentEvents.newer(1));
            int[] ids = {current, older, newer};
            AtomicInteger n = new AtomicInteger();
            EventEncoder mixed = (topic, e) -> {
                int i = n.getAndIncrement() % 4;
                return i == 3 ? singleObject.encode(e) : ConfluentEvents.encode(ids[i], writers.get(ids[i]), e);
            };
            byte[] unknownFingerprint = singleObject.encode(event("so-ghost"));
            unknownFingerprint[3] ^= 0x5A;
            Map<String, byte[]> poison = new LinkedHashMap<>();
            poison.put("unknown-schema", ConfluentEvents.encode(99, DomainEvent.getClassSchema(), event("ghost")));
            poison.put(
                    "incompatible-schema",
                    ConfluentEvents.encode(incompatible, ConfluentEvents.INCOMPATIBLE, event("bad-version")));
            poison.put("undecodable", "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8));
            poison.put("undecodable (truncated body)", new byte[] {0, 0, 0, 0, (byte) current, 2});
            poison.put("unknown-schema (single-object)", unknownFingerprint);

            runMixed(p, mixed, users, poison);

            assertThat(decoded(p, "confluent", Integer.toString(current))).isPositive();
            assertThat(decoded(p, "confluent", Integer.toString(older))).isPositive();
            assertThat(decoded(p, "confluent", Integer.toString(newer))).isPositive();
            assertThat(p.registry
                            .find(TopologyMeters.EVENTS_DECODED)
                            .tag(TopologyMeters.FORMAT, "single-object")
                            .counters())
                    .isNotEmpty();
            // ids are cached for the life of the process: one lookup each, however many records
            assertThat(registry.lookups(older)).isEqualTo(1);
            assertThat(registry.lookups(newer)).isEqualTo(1);
        }
    }

    @Test
    void shouldReadSchemasFromADirectoryAndTheFormatOfEachEntityTypeWhenNoRegistryIsConfigured() throws Exception {
        Path dir =
                Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "schemas-" + System.nanoTime()));
        Files.writeString(dir.resolve("7.avsc"), DomainEvent.getClassSchema().toString(true));
        Files.writeString(dir.resolve("8.avsc"), ConfluentEvents.OLDER.toString(true));
        try (TestPipeline p = TestPipeline.configure("confluent-dir", redis, 3, "")
                .withYaml(
                        y -> y.replace("    mode: write-through\n", "    mode: write-through\n    format: confluent\n")
                                + """
                        schemas:
                          format: single-object
                          registry:
                            directory: %s
                        """.formatted(dir.toAbsolutePath()))) {
            assertThat(p.config.decoding().entityFormats())
                    .containsEntry("user", dev.cachepipe.schemas.WireFormat.CONFLUENT)
                    .containsEntry("order", dev.cachepipe.schemas.WireFormat.SINGLE_OBJECT);
            p.startPipeline();
            String users = p.policy("user").topics().get(0);
            AvroSerde<DomainEvent> singleObject = AvroSerde.of(DomainEvent.class);
            AtomicInteger n = new AtomicInteger();
            EventEncoder perType = (topic, e) -> !topic.equals(users)
                    ? singleObject.encode(e)
                    : n.getAndIncrement() % 2 == 0
                            ? ConfluentEvents.encode(7, DomainEvent.getClassSchema(), e)
                            : ConfluentEvents.encode(8, ConfluentEvents.OLDER, e);
            Map<String, byte[]> poison = new LinkedHashMap<>();
            poison.put("undecodable (single-object on a confluent topic)", singleObject.encode(event("so-on-users")));
            poison.put(
                    "unknown-schema (no 9.avsc)",
                    ConfluentEvents.encode(9, DomainEvent.getClassSchema(), event("no-file")));

            runMixed(p, perType, users, poison);

            assertThat(decoded(p, "confluent", "7")).isPositive();
            assertThat(decoded(p, "confluent", "8")).isPositive();
        }
    }

    /**
     * Publishes 300 generated events framed by {@code encoder}, the {@code poison} records (name: reason first) on
     * {@code topic}, and 100 more events; then waits until Redis equals the oracle and checks that exactly the poison
     * reached the dead-letter topic, each with its reason.
     */
    private static void runMixed(TestPipeline p, EventEncoder encoder, String topic, Map<String, byte[]> poison) {
        Oracle oracle = p.oracle();
        EventGenerator.Settings settings =
                EventGenerator.Settings.of(p.policies(), 100, 12L).withWindow(200);
        try (EventGenerator generator = new EventGenerator(p.kafkaProperties(), settings, oracle, encoder);
                ConsistencyCheck check = p.check(oracle);
                KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                EmbeddedKafka.shared().bootstrapServers()),
                        new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            generator.publish(300, 0);
            int i = 0;
            for (byte[] value : poison.values()) {
                producer.send(new ProducerRecord<>(topic, ("poison-" + i++).getBytes(StandardCharsets.UTF_8), value));
            }
            producer.flush();
            generator.publish(100, 0);
            generator.flush();
            assertThat(generator.failed())
                    .as("records Kafka refused: %s", generator.failures())
                    .isZero();

            ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(60));
            assertThat(result.mismatches()).isEmpty();
            assertThat(result.total()).isEqualTo(oracle.entityCount()).isPositive();

            List<ConsumerRecord<byte[], byte[]>> dead = DeadLetters.read(p, poison.size());
            assertThat(dead).hasSize(poison.size());
            for (Map.Entry<String, byte[]> sent : poison.entrySet()) {
                ConsumerRecord<byte[], byte[]> letter = dead.stream()
                        .filter(r -> Arrays.equals(r.value(), sent.getValue()))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no dead letter for " + sent.getKey()));
                assertThat(DeadLetters.header(letter, CachepipeTopology.DLQ_REASON_HEADER))
                        .as("reason of %s", sent.getKey())
                        .isEqualTo(sent.getKey().split(" ")[0]);
                assertThat(DeadLetters.header(letter, CachepipeTopology.DLQ_DETAIL_HEADER))
                        .isNotBlank();
            }
            assertThat(p.pipeline().healthy()).as(p.pipeline().healthReason()).isTrue();
        }
    }

    private static double decoded(TestPipeline p, String format, String schemaId) {
        return p
                .registry
                .find(TopologyMeters.EVENTS_DECODED)
                .tag(TopologyMeters.FORMAT, format)
                .tag(TopologyMeters.SCHEMA_ID, schemaId)
                .counters()
                .stream()
                .mapToDouble(c -> c.count())
                .sum();
    }

    /** A valid user event; as poison it never reaches Redis (it is framed so that it cannot be decoded). */
    static DomainEvent event(String id) {
        return DomainEvent.newBuilder()
                .setEventId("e-" + id)
                .setEntityType("user")
                .setEntityId(id)
                .setVersion(1)
                .setOp(Operation.UPSERT)
                .setOccurredAt(Instant.now())
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap("{}".getBytes(StandardCharsets.UTF_8)))
                .setAttributes(Map.of())
                .build();
    }
}
