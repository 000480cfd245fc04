package dev.cachepipe.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

    /** DomainEvent as a producer might still write it: before contentType and attributes were added. */
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

    private final AvroSerde<DomainEvent> serde = AvroSerde.of(DomainEvent.class);

    @Test
    void shouldRoundTripWhenEncodedAsSingleObject() {
        DomainEvent event = event();
        byte[] bytes = serde.serialize("t", event);
        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        assertThat(serde.deserialize("t", bytes)).isEqualTo(event);
    }

    @Test
    void shouldWriteAndReadExactlyWhatAvrosOwnSingleObjectEncoderAndDecoderDo() throws Exception {
        // the serde encodes and decodes by itself (reused per-thread buffers); the bytes are Avro's own format
        DomainEvent event = event();
        ByteBuffer avros = DomainEvent.getEncoder().encode(event);
        byte[] expected = new byte[avros.remaining()];
        avros.get(expected);
        assertThat(serde.encode(event)).isEqualTo(expected);
        assertThat(DomainEvent.getDecoder().decode(serde.encode(event))).isEqualTo(event);
        assertThat(serde.decode(expected)).isEqualTo(event);
        // and again on the same thread: nothing of the first record stays in the reused buffers
        DomainEvent smaller =
                DomainEvent.newBuilder(event).setPayload(null).setEntityId("x").build();
        assertThat(serde.decode(serde.encode(smaller))).isEqualTo(smaller);
        assertThat(serde.decode(serde.encode(event))).isEqualTo(event);
    }

    @Test
    void shouldMapNullToNullBothWays() {
        assertThat(serde.serialize("t", null)).isNull();
        assertThat(serde.deserialize("t", null)).isNull();
    }

    @Test
    void shouldResolveOlderWriterSchemaWhenRegistered() throws Exception {
        byte[] old = encodeWithV0();
        assertThatThrownBy(() -> serde.decode(old))
                .isInstanceOf(UnknownSchemaException.class)
                .hasMessageContaining("unknown writer schema");

        DomainEvent decoded = serde.withWriterSchemas(List.of(V0)).decode(old);
        assertThat(decoded.getEntityId()).isEqualTo("42");
        assertThat(decoded.getContentType()).isEqualTo("application/json");
        assertThat(decoded.getAttributes()).isEmpty();
    }

    @Test
    void shouldExplainWhenBytesAreNotAvro() {
        assertThatThrownBy(() -> serde.decode("{\"json\":true}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("not Avro single-object encoding");
        assertThatThrownBy(() -> serde.decode(new byte[0])).isInstanceOf(SerializationException.class);
    }

    @Test
    void shouldFailCleanlyWhenBodyIsTruncated() {
        byte[] bytes = serde.encode(event());
        byte[] truncated = java.util.Arrays.copyOf(bytes, 14);
        assertThatThrownBy(() -> serde.decode(truncated)).isInstanceOf(SerializationException.class);
    }

    @Test
    void shouldRejectHugeLengthPrefixWithoutAllocatingIt() {
        // 32 bytes announcing a 1.5 GB eventId: without limits this is an OutOfMemoryError that kills the thread.
        byte[] fingerprint = {(byte) 0xC3, (byte) 0x01};
        long fp = org.apache.avro.SchemaNormalization.parsingFingerprint64(DomainEvent.getClassSchema());
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.put(fingerprint).putLong(fp);
        long zigzag = 1_500_000_000L << 1;
        while ((zigzag & ~0x7FL) != 0) {
            buf.put((byte) ((zigzag & 0x7F) | 0x80));
            zigzag >>>= 7;
        }
        buf.put((byte) zigzag);
        byte[] hostile = java.util.Arrays.copyOf(buf.array(), buf.position());
        assertThatThrownBy(() -> serde.decode(hostile))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("exceeds maximum allowed");
    }

    private static DomainEvent event() {
        return DomainEvent.newBuilder()
                .setEventId("e-1")
                .setEntityType("user")
                .setEntityId("42")
                .setVersion(7)
                .setOp(Operation.UPSERT)
                .setOccurredAt(Instant.ofEpochMilli(1_700_000_000_000L))
                .setPayload(ByteBuffer.wrap("{\"name\":\"Ada\"}".getBytes(StandardCharsets.UTF_8)))
                .setAttributes(Map.of("tenant", "t1"))
                .build();
    }

    private static byte[] encodeWithV0() throws Exception {
        GenericRecord r = new GenericData.Record(V0);
        r.put("eventId", "e-0");
        r.put("entityType", "user");
        r.put("entityId", "42");
        r.put("version", 1L);
        r.put("op", new GenericData.EnumSymbol(V0.getField("op").schema(), "UPSERT"));
        r.put("occurredAt", 1_700_000_000_000L);
        r.put("payload", ByteBuffer.wrap(new byte[] {'{', '}'}));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), V0).encode(r, out);
        return out.toByteArray();
    }
}
