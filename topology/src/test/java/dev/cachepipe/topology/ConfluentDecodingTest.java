package dev.cachepipe.topology;

import static dev.cachepipe.topology.TopologyFixture.EVENTS;
import static dev.cachepipe.topology.TopologyFixture.OCCURRED;
import static dev.cachepipe.topology.TopologyFixture.ORDERS;
import static dev.cachepipe.topology.TopologyFixture.USERS;
import static dev.cachepipe.topology.TopologyFixture.upsert;
import static dev.cachepipe.topology.TopologyFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.ConfluentAvroSerde;
import dev.cachepipe.schemas.SchemaRegistryUnavailableException;
import dev.cachepipe.schemas.SchemaSource;
import dev.cachepipe.schemas.UnknownSchemaException;
import dev.cachepipe.schemas.WireFormat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/** Records in the Confluent wire format, mixed with single-object ones, through the topology. */
class ConfluentDecodingTest {
    static final int CURRENT = 1;
    static final int OLDER = 2;
    static final int NEWER = 3;
    static final int INCOMPATIBLE = 4;
    static final int MISSING = 99;

    /** A DomainEvent before contentType, payload and attributes had defaults... and before attributes existed. */
    static final Schema OLDER_SCHEMA = new Schema.Parser().parse(CachepipeTopologyTest.OLD_DOMAIN_EVENT_SCHEMA);

    /** The current DomainEvent plus a field that a newer producer writes (and cachepipe ignores). */
    static final Schema NEWER_SCHEMA = new Schema.Parser()
            .parse(DomainEvent.getClassSchema()
                    .toString()
                    .replaceFirst(
                            "\\{\"name\":\"eventId\"",
                            "{\"name\":\"traceId\",\"type\":\"string\",\"default\":\"\"},{\"name\":\"eventId\""));

    /** version as a string: cannot be read into the current DomainEvent. */
    static final Schema INCOMPATIBLE_SCHEMA = new Schema.Parser()
            .parse(CachepipeTopologyTest.OLD_DOMAIN_EVENT_SCHEMA.replace(
                    "{\"name\": \"version\", \"type\": \"long\"}", "{\"name\": \"version\", \"type\": \"string\"}"));

    /** An in-memory schema source that can be switched off like a registry outage. */
    static final class Schemas implements SchemaSource {
        final Map<Integer, Schema> byId = new ConcurrentHashMap<>(Map.of(
                CURRENT, DomainEvent.getClassSchema(),
                OLDER, OLDER_SCHEMA,
                NEWER, NEWER_SCHEMA,
                INCOMPATIBLE, INCOMPATIBLE_SCHEMA));
        final AtomicBoolean down = new AtomicBoolean();

        @Override
        public Schema schema(int id) {
            if (down.get()) {
                throw new SchemaRegistryUnavailableException("registry down (test)", null);
            }
            Schema s = byId.get(id);
            if (s == null) {
                throw new UnknownSchemaException("unknown writer schema: no schema id " + id, null);
            }
            return s;
        }

        @Override
        public String describe() {
            return "test schemas";
        }
    }

    @Test
    void shouldApplyEveryGoodRecordAndDeadLetterTheRestWithTheirReasonWhenATopicMixesFormatsAndSchemas() {
        Schemas schemas = new Schemas();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TopologyConfig config = TopologyFixture.config();
        EventDecoding decoding = EventDecoding.of(List.of()).withSchemaIds(schemas);
        try (TopologyFixture f = new TopologyFixture(
                CachepipeTopology.build(config, decoding, registry),
                CachepipeTopology.streamsProperties(config, registry))) {
            f.pipe(USERS, upsert("user", "so", 1, "{\"f\":\"single-object\"}"));
            f.pipe(USERS, "cur", confluent(CURRENT, DomainEvent.getClassSchema(), record("cur", 2)));
            f.pipe(USERS, "old", confluent(OLDER, OLDER_SCHEMA, record("old", 3)));
            GenericRecord newer = record("new", 4);
            f.pipe(USERS, "new", confluent(NEWER, NEWER_SCHEMA, newer));
            byte[] incompatible = confluent(INCOMPATIBLE, INCOMPATIBLE_SCHEMA, record("bad", 1));
            f.pipe(USERS, "bad", incompatible);
            byte[] missing = confluent(MISSING, DomainEvent.getClassSchema(), record("gone", 1));
            f.pipe(USERS, "gone", missing);
            byte[] neither = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
            f.pipe(USERS, "junk", neither);
            byte[] truncated =
                    java.util.Arrays.copyOf(confluent(CURRENT, DomainEvent.getClassSchema(), record("t", 1)), 9);
            f.pipe(USERS, "t", truncated);
            f.pipe(USERS, "after", confluent(OLDER, OLDER_SCHEMA, record("after", 5)));

            Map<String, CacheMutation> out = new java.util.HashMap<>();
            f.readMutations().forEach(m -> out.put(m.getKey(), m));
            assertThat(out.keySet())
                    .containsExactlyInAnyOrder(
                            "cache:user:so", "cache:user:cur", "cache:user:old", "cache:user:new", "cache:user:after");
            assertThat(out.get("cache:user:old").getVersion()).isEqualTo(3L);
            assertThat(utf8(out.get("cache:user:new").getPayload())).isEqualTo("{\"id\":\"new\"}");

            List<TestRecord<byte[], byte[]>> letters = f.dlq.readRecordsToList();
            assertThat(letters)
                    .extracting(r -> reason(r))
                    .containsExactly("incompatible-schema", "unknown-schema", "undecodable", "undecodable");
            assertThat(letters.get(0).value()).isEqualTo(incompatible);
            assertThat(detail(letters.get(0))).contains("schema id 4").contains("version");
            assertThat(letters.get(1).value()).isEqualTo(missing);
            assertThat(detail(letters.get(1))).contains("99");
            assertThat(detail(letters.get(2))).contains("neither");
            assertThat(letters.get(3).value()).isEqualTo(truncated);

            assertThat(decoded(registry, "confluent", "2")).isEqualTo(2.0);
            assertThat(decoded(registry, "confluent", "1")).isEqualTo(1.0);
            assertThat(decoded(registry, "confluent", "3")).isEqualTo(1.0);
            assertThat(decoded(registry, "single-object", String.format("0x%016x", fingerprint())))
                    .isEqualTo(1.0);
            assertThat(registry.get(TopologyMeters.DEAD_LETTERS)
                            .tag(TopologyMeters.REASON, "unknown-schema")
                            .counter()
                            .count())
                    .isEqualTo(1.0);
        }
    }

    @Test
    void shouldDeadLetterTheOtherFormatAsUndecodableWhenATopicIsSetToOneFormat() {
        Schemas schemas = new Schemas();
        TopologyConfig config = TopologyFixture.config();
        EventDecoding decoding = EventDecoding.of(List.of())
                .withSchemaIds(schemas)
                .withFormats(WireFormat.SINGLE_OBJECT, Map.of(ORDERS, WireFormat.CONFLUENT));
        try (TopologyFixture f = new TopologyFixture(CachepipeTopology.build(config, decoding, null), config)) {
            f.pipe(ORDERS, upsert("order", "o1", 1, "{}")); // single-object on a confluent topic
            f.pipe(USERS, "u1", confluent(CURRENT, DomainEvent.getClassSchema(), record("u1", 1)));
            f.pipe(ORDERS, "o2", confluent(CURRENT, DomainEvent.getClassSchema(), order("o2")));
            f.pipe(USERS, upsert("user", "u2", 1, "{}"));

            assertThat(f.readMutations())
                    .extracting(CacheMutation::getKey)
                    .containsExactlyInAnyOrder("cache:order:o2", "cache:user:u2");
            List<TestRecord<byte[], byte[]>> letters = f.dlq.readRecordsToList();
            assertThat(letters).extracting(ConfluentDecodingTest::reason).containsExactly("undecodable", "undecodable");
            assertThat(detail(letters.get(0))).contains("read as confluent").contains("single-object");
            assertThat(detail(letters.get(1))).contains("read as single-object").contains("confluent");
        }
    }

    @Test
    void shouldDeadLetterConfluentRecordsAsUnknownSchemaWhenNoRegistryIsConfigured() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(USERS, "u1", confluent(CURRENT, DomainEvent.getClassSchema(), record("u1", 1)));
            TestRecord<byte[], byte[]> letter = f.dlq.readRecord();
            assertThat(reason(letter)).isEqualTo("unknown-schema");
            assertThat(detail(letter)).contains("no schema registry is configured");
        }
    }

    @Test
    void shouldFailWithoutDeadLetteringAndDecodeTheSameRecordLaterWhenTheRegistryIsDown() {
        Schemas schemas = new Schemas();
        TopologyConfig config = TopologyFixture.config();
        EventDecoding decoding = EventDecoding.of(List.of()).withSchemaIds(schemas);
        byte[] value = confluent(OLDER, OLDER_SCHEMA, record("waits", 7));
        schemas.down.set(true);
        try (TopologyFixture f = new TopologyFixture(CachepipeTopology.build(config, decoding, null), config)) {
            assertThatThrownBy(() -> f.pipe(USERS, "waits", value))
                    .isInstanceOf(StreamsException.class)
                    .satisfies(e -> assertThat(SchemaRegistryUnavailableException.isCauseOf(e))
                            .isTrue());
            assertThat(f.dlq.isEmpty()).as("an outage is never dead-lettered").isTrue();
            assertThat(f.mutations.isEmpty()).isTrue();
        }
        schemas.down.set(false);
        try (TopologyFixture f = new TopologyFixture(CachepipeTopology.build(config, decoding, null), config)) {
            f.pipe(USERS, "waits", value); // what a replacement stream thread does: read it again
            assertThat(f.readMutations()).extracting(CacheMutation::getVersion).containsExactly(7L);
            assertThat(f.dlq.isEmpty()).isTrue();
        }
    }

    /** A user event with every field of {@code schema} that the current DomainEvent knows. */
    private static GenericRecord record(String id, long version) {
        return new GenericData.Record(DomainEvent.getClassSchema()) {
            {
                put("eventId", "e-" + id);
                put("entityType", "user");
                put("entityId", id);
                put("version", version);
                put("op", "UPSERT");
                put("occurredAt", OCCURRED.toEpochMilli());
                put("contentType", "application/json");
                put("payload", ByteBuffer.wrap(("{\"id\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8)));
                put("attributes", Map.of());
            }
        };
    }

    private static GenericRecord order(String id) {
        GenericRecord r = record(id, 1);
        r.put("entityType", "order");
        return r;
    }

    /** {@code 00}, the id, and {@code values} written with {@code writer} (fields it lacks are left out). */
    static byte[] confluent(int id, Schema writer, GenericRecord values) {
        GenericRecord r = new GenericData.Record(writer);
        for (Schema.Field field : writer.getFields()) {
            Object v = values.getSchema().getField(field.name()) == null ? null : values.get(field.name());
            if (field.schema().getType() == Schema.Type.ENUM && v != null) {
                v = new GenericData.EnumSymbol(field.schema(), v.toString());
            } else if (field.schema().getType() == Schema.Type.STRING && v != null && !(v instanceof CharSequence)) {
                v = v.toString();
            } else if (v == null && field.hasDefaultValue()) {
                v = GenericData.get().getDefaultValue(field);
            }
            r.put(field.name(), v);
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(new byte[] {0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id});
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(writer).write(r, enc);
            enc.flush();
            byte[] bytes = out.toByteArray();
            assertThat(ConfluentAvroSerde.schemaId(bytes)).isEqualTo(id);
            return bytes;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long fingerprint() {
        return org.apache.avro.SchemaNormalization.parsingFingerprint64(EVENTS.schema());
    }

    private static double decoded(SimpleMeterRegistry registry, String format, String schemaId) {
        return registry.get(TopologyMeters.EVENTS_DECODED)
                .tag(TopologyMeters.FORMAT, format)
                .tag(TopologyMeters.SCHEMA_ID, schemaId)
                .counter()
                .count();
    }

    private static String reason(TestRecord<byte[], byte[]> r) {
        return header(r, "cachepipe.dlq.reason");
    }

    private static String detail(TestRecord<byte[], byte[]> r) {
        return header(r, "cachepipe.dlq.detail");
    }

    private static String header(TestRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
