package dev.cachepipe.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfluentAvroSerdeTest {
    /** DomainEvent before contentType and attributes were added. */
    private static final Schema V0 = new Schema.Parser().parse("""
            {"type":"record","name":"DomainEvent","namespace":"dev.cachepipe.avro","fields":[
              {"name":"eventId","type":"string"},
              {"name":"entityType","type":"string"},
              {"name":"entityId","type":"string"},
              {"name":"version","type":"long"},
              {"name":"op","type":{"type":"enum","name":"Operation","symbols":["UPSERT","DELETE"]}},
              {"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"}},
              {"name":"payload","type":["null","bytes"],"default":null}]}
            """);

    /** version as a string: not readable into DomainEvent. */
    private static final Schema BROKEN = new Schema.Parser().parse(V0.toString().replace("\"long\"}", "\"string\"}"));

    /** A source that counts its lookups. */
    static final class CountingSource implements SchemaSource {
        final Map<Integer, Schema> schemas = new ConcurrentHashMap<>();
        final AtomicInteger lookups = new AtomicInteger();

        @Override
        public Schema schema(int id) {
            lookups.incrementAndGet();
            Schema s = schemas.get(id);
            if (s == null) {
                throw new UnknownSchemaException("unknown writer schema: no id " + id, null);
            }
            return s;
        }

        @Override
        public String describe() {
            return "counting source";
        }
    }

    @Test
    void shouldWriteMagicByteBigEndianIdAndTheAvroBinaryBodyWhenEncoding() throws Exception {
        DomainEvent event = event();
        byte[] bytes = ConfluentAvroSerde.writing(DomainEvent.class, 0x01020304).encode(event);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(body, null);
        new SpecificDatumWriter<DomainEvent>(DomainEvent.class).write(event, enc);
        enc.flush();
        assertThat(java.util.Arrays.copyOfRange(bytes, 0, 5)).containsExactly(0, 1, 2, 3, 4);
        assertThat(java.util.Arrays.copyOfRange(bytes, 5, bytes.length)).isEqualTo(body.toByteArray());
        assertThat(WireFormat.detect(bytes)).isEqualTo(WireFormat.CONFLUENT);
        assertThat(ConfluentAvroSerde.schemaId(bytes)).isEqualTo(0x01020304);
    }

    @Test
    void shouldReadCurrentAndOlderWriterSchemasAndLookEachIdUpOnceWhenDecoding() throws Exception {
        CountingSource source = new CountingSource();
        source.schemas.put(1, DomainEvent.getClassSchema());
        source.schemas.put(2, V0);
        ConfluentAvroSerde<DomainEvent> serde = ConfluentAvroSerde.reading(DomainEvent.class, source);
        DomainEvent event = event();
        byte[] current = ConfluentAvroSerde.writing(DomainEvent.class, 1).encode(event);
        for (int i = 0; i < 3; i++) {
            assertThat(serde.deserialize("t", current)).isEqualTo(event);
        }
        DomainEvent old = serde.decode(withV0(2));
        assertThat(old.getVersion()).isEqualTo(4L);
        assertThat(old.getContentType()).isEqualTo("application/json"); // the reader's default
        assertThat(old.getAttributes()).isEmpty();
        assertThat(serde.decode(current)).isEqualTo(event);
        assertThat(source.lookups.get()).isEqualTo(2);
        assertThat(serde.deserialize("t", null)).isNull();
    }

    @Test
    void shouldReportUnknownIncompatibleAndNotThisFormatWithTheirOwnExceptions() throws Exception {
        CountingSource source = new CountingSource();
        source.schemas.put(3, BROKEN);
        ConfluentAvroSerde<DomainEvent> serde = ConfluentAvroSerde.reading(DomainEvent.class, source);
        assertThatThrownBy(() -> serde.decode(
                        ConfluentAvroSerde.writing(DomainEvent.class, 9).encode(event())))
                .isInstanceOf(UnknownSchemaException.class);
        byte[] broken = withV0(3);
        assertThatThrownBy(() -> serde.decode(broken))
                .isInstanceOf(IncompatibleSchemaException.class)
                .hasMessageContaining("schema id 3")
                .hasMessageContaining("field 'version'");
        assertThatThrownBy(() -> serde.decode(broken)).isInstanceOf(IncompatibleSchemaException.class);
        assertThat(source.lookups.get())
                .as("an incompatible schema is remembered")
                .isEqualTo(2);
        assertThatThrownBy(() -> serde.decode(AvroSerde.of(DomainEvent.class).encode(event())))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("not the Confluent wire format");
        assertThatThrownBy(() -> serde.decode(new byte[] {0, 0, 0, 0, 3, 1}))
                .isInstanceOf(IncompatibleSchemaException.class);
        source.schemas.put(4, DomainEvent.getClassSchema());
        assertThatThrownBy(() -> serde.decode(new byte[] {0, 0, 0, 0, 4, 2}))
                .isInstanceOf(SerializationException.class)
                .isNotInstanceOf(UnknownSchemaException.class)
                .hasMessageContaining("schema id 4");
    }

    @Test
    void shouldReadSchemasFromIdNamedFilesAndPickUpNewFilesWhenADirectoryIsTheSource(@TempDir Path dir)
            throws Exception {
        SchemaSource source = SchemaSource.directory(dir);
        ConfluentAvroSerde<DomainEvent> serde = ConfluentAvroSerde.reading(DomainEvent.class, source);
        byte[] old = withV0(12);
        assertThatThrownBy(() -> serde.decode(old))
                .isInstanceOf(UnknownSchemaException.class)
                .hasMessageContaining("12.avsc");
        Files.writeString(dir.resolve("12.avsc"), V0.toString(true));
        assertThat(serde.decode(old).getEntityId()).isEqualTo("legacy");
        Files.writeString(dir.resolve("13.avsc"), "{ not a schema");
        assertThatThrownBy(() -> source.schema(13)).isInstanceOf(IncompatibleSchemaException.class);
    }

    @Test
    void shouldTellFormatsApartByTheirFirstBytes() {
        assertThat(WireFormat.detect(new byte[] {0, 0, 0, 0, 1})).isEqualTo(WireFormat.CONFLUENT);
        assertThat(WireFormat.detect(new byte[] {0, 0, 0, 1})).isNull();
        assertThat(WireFormat.detect(AvroSerde.of(DomainEvent.class).encode(event())))
                .isEqualTo(WireFormat.SINGLE_OBJECT);
        assertThat(WireFormat.detect("{}".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(WireFormat.detect(new byte[0])).isNull();
        assertThat(WireFormat.parse("Confluent")).isEqualTo(WireFormat.CONFLUENT);
        assertThatThrownBy(() -> WireFormat.parse("json")).hasMessageContaining("single-object, confluent, auto");
    }

    /** A V0 event ("legacy", version 4) in the Confluent wire format under {@code id}. */
    private static byte[] withV0(int id) throws Exception {
        GenericRecord r = new GenericData.Record(V0);
        r.put("eventId", "e-old");
        r.put("entityType", "user");
        r.put("entityId", "legacy");
        r.put("version", V0.getField("version").schema().getType() == Schema.Type.STRING ? "4" : 4L);
        r.put("op", new GenericData.EnumSymbol(V0.getField("op").schema(), "UPSERT"));
        r.put("occurredAt", 1_700_000_000_000L);
        r.put("payload", ByteBuffer.wrap("{}".getBytes(StandardCharsets.UTF_8)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id});
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(V0).write(r, enc);
        enc.flush();
        return out.toByteArray();
    }

    private static DomainEvent event() {
        return DomainEvent.newBuilder()
                .setEventId("e-1")
                .setEntityType("user")
                .setEntityId("42")
                .setVersion(7)
                .setOp(Operation.UPSERT)
                .setOccurredAt(Instant.ofEpochMilli(1_700_000_000_123L))
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap("{\"name\":\"Ada\"}".getBytes(StandardCharsets.UTF_8)))
                .setAttributes(Map.of("tenant", "acme"))
                .build();
    }
}
