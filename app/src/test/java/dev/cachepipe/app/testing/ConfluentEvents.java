package dev.cachepipe.app.testing;

import dev.cachepipe.avro.DomainEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/**
 * Domain events as producers with other writer schemas publish them in the Confluent wire format: {@code 00}, the
 * schema id, the Avro body written with that schema (what {@code KafkaAvroSerializer} writes).
 */
public final class ConfluentEvents {
    /** An older DomainEvent: no attributes, and contentType and payload as they were. */
    public static final Schema OLDER = new Schema.Parser().parse("""
            {"type": "record", "name": "DomainEvent", "namespace": "dev.cachepipe.avro", "fields": [
              {"name": "eventId", "type": "string"},
              {"name": "entityType", "type": "string"},
              {"name": "entityId", "type": "string"},
              {"name": "version", "type": "long"},
              {"name": "op", "type": {"type": "enum", "name": "Operation", "symbols": ["UPSERT", "DELETE"]}},
              {"name": "occurredAt", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "contentType", "type": "string", "default": "application/json"},
              {"name": "payload", "type": ["null", "bytes"], "default": null}
            ]}""");

    /** The same record with {@code version} as a string: cannot be read into the current DomainEvent. */
    public static final Schema INCOMPATIBLE = new Schema.Parser()
            .parse(OLDER.toString()
                    .replace("{\"name\":\"version\",\"type\":\"long\"}", "{\"name\":\"version\",\"type\":\"string\"}"));

    private ConfluentEvents() {}

    /** A newer DomainEvent: the current one with an extra string field {@code extra<k>} (default "") in front. */
    public static Schema newer(int k) {
        return new Schema.Parser()
                .parse(DomainEvent.getClassSchema()
                        .toString()
                        .replaceFirst(
                                "\\{\"name\":\"eventId\"",
                                "{\"name\":\"extra" + k
                                        + "\",\"type\":\"string\",\"default\":\"x\"},{\"name\":\"eventId\""));
    }

    /** {@code event} written with {@code writer} under {@code id}: fields the writer lacks are left out. */
    public static byte[] encode(int id, Schema writer, DomainEvent event) {
        GenericRecord r = new GenericData.Record(writer);
        for (Schema.Field field : writer.getFields()) {
            Schema.Field current = DomainEvent.getClassSchema().getField(field.name());
            Object v = current == null ? GenericData.get().getDefaultValue(field) : event.get(current.pos());
            if (v instanceof Instant t) {
                v = t.toEpochMilli();
            } else if (v instanceof ByteBuffer b) {
                v = b.duplicate();
            } else if (field.schema().getType() == Schema.Type.ENUM) {
                v = new GenericData.EnumSymbol(field.schema(), v.toString());
            } else if (field.schema().getType() == Schema.Type.STRING && v != null) {
                v = v.toString();
            }
            r.put(field.name(), v);
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(new byte[] {0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id});
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(writer).write(r, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
