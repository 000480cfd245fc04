package dev.cachepipe.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SystemLimitException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka {@link Serde} for Avro <a href="https://avro.apache.org/docs/current/specification/#single-object-encoding">
 * single-object encoding</a>: {@code C3 01}, the 8-byte CRC-64-AVRO fingerprint of the writer schema, then the
 * binary body. No schema registry is needed; a record written with an older schema is decoded into the current
 * class by Avro schema resolution, provided that older schema was registered with {@link #withWriterSchemas}.
 *
 * <p>Instances are immutable and thread-safe. {@code null} maps to {@code null} both ways (Kafka tombstones).
 * Decoding failures are reported as {@link SerializationException} whose message says what was wrong, so that
 * Kafka's deserialization handlers can dead-letter the record.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {
    /** Largest string or bytes value decoded unless {@code org.apache.avro.limits.*} say otherwise: 64 MiB. */
    public static final int MAX_VALUE_BYTES = 64 * 1024 * 1024;

    static {
        // A few hostile bytes can announce a 2 GB string; Avro would allocate it and die with OutOfMemoryError, an
        // Error that no exception handler sees. Bound what one record may allocate, unless the operator chose limits.
        limitUnlessSet(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, MAX_VALUE_BYTES);
        limitUnlessSet(SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_VALUE_BYTES);
        limitUnlessSet(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, 1_000_000);
    }

    private final Class<T> type;
    private final Schema schema;
    private final List<Schema> writerSchemas;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    private AvroSerde(Class<T> type, List<Schema> writerSchemas) {
        this.type = type;
        SpecificData model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.writerSchemas = List.copyOf(writerSchemas);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema);
        writerSchemas.forEach(decoder::addSchema);
    }

    /** A serde for the generated class {@code type} that reads records written with its current schema. */
    public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
        return new AvroSerde<>(Objects.requireNonNull(type, "type"), List.of());
    }

    /** A copy that also decodes records written with any of the given (older or newer) writer schemas. */
    public AvroSerde<T> withWriterSchemas(Collection<Schema> olderSchemas) {
        List<Schema> all = new java.util.ArrayList<>(writerSchemas);
        all.addAll(olderSchemas);
        return new AvroSerde<>(type, all);
    }

    /** The reader (current) schema. */
    public Schema schema() {
        return schema;
    }

    /** Encodes {@code record}; never returns {@code null} for a non-null record. */
    public byte[] encode(T record) {
        try {
            ByteBuffer buffer = encoder.encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException | AvroRuntimeException | NullPointerException | ClassCastException e) {
            throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Decodes single-object encoded bytes, resolving registered older writer schemas. */
    public T decode(byte[] bytes) {
        if (bytes.length < 10 || bytes[0] != (byte) 0xC3 || bytes[1] != (byte) 0x01) {
            throw new SerializationException("not Avro single-object encoding: expected header C3 01 and an 8-byte"
                    + " schema fingerprint, got " + bytes.length + " bytes" + headerHex(bytes));
        }
        try {
            return decoder.decode(bytes);
        } catch (org.apache.avro.message.MissingSchemaException e) {
            throw new UnknownSchemaException(
                    "unknown writer schema for " + type.getSimpleName() + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot decode " + type.getSimpleName() + ": " + describe(e), e);
        }
    }

    @Override
    public byte[] serialize(String topic, T data) {
        return data == null ? null : encode(data);
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return data == null ? null : decode(data);
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {
        // configured at construction
    }

    @Override
    public void close() {
        // stateless
    }

    private static void limitUnlessSet(String property, int limit) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(limit));
        }
    }

    private static String describe(Exception e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String headerHex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(" starting ");
        for (int i = 0; i < Math.min(2, bytes.length); i++) {
            sb.append(String.format("%02X", bytes[i] & 0xFF));
        }
        return bytes.length == 0 ? "" : sb.toString();
    }
}
