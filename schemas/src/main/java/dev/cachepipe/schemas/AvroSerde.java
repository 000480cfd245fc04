package dev.cachepipe.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.SystemLimitException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
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
 * <p>Encoding and decoding reuse one Avro encoder, decoder and buffer per thread and instance, and decode from the
 * byte array itself (Avro's {@code BinaryMessageDecoder} reads through an {@code InputStream} a byte at a time):
 * the topology and the writer call them for every record.
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

    private static final int HEADER_BYTES = 10; // C3 01 + 8-byte little-endian fingerprint

    /** Does nothing but make sure the limits above are set (other serdes of this module call it). */
    static void applyLimits() {
        // the static initializer did it
    }

    private final Class<T> type;
    private final Schema schema;
    private final List<Schema> writerSchemas;
    private final byte[] header;
    private final SpecificDatumWriter<T> writer;
    /** Fingerprints of the schemas this serde reads, and their readers (same index; the current schema first). */
    private final long[] fingerprints;

    private final List<SpecificDatumReader<T>> readers;
    private final ThreadLocal<Codec> codecs = ThreadLocal.withInitial(Codec::new);

    /** One thread's reusable encoder, decoder and output buffer. */
    private static final class Codec {
        final Buffer out = new Buffer();
        BinaryEncoder encoder;
        BinaryDecoder decoder;
    }

    /** A byte array output stream whose buffer is kept between records. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(256);
        }

        void clear() {
            if (buf.length > 64 * 1024) {
                buf = new byte[256]; // do not keep one huge record's buffer for good
            }
            reset();
        }
    }

    private AvroSerde(Class<T> type, List<Schema> writerSchemas) {
        this.type = type;
        SpecificData model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.writerSchemas = List.copyOf(writerSchemas);
        this.header = new byte[HEADER_BYTES];
        header[0] = (byte) 0xC3;
        header[1] = (byte) 0x01;
        writeLittleEndian(SchemaNormalization.parsingFingerprint64(schema), header, 2);
        this.writer = new SpecificDatumWriter<>(schema, model);
        List<Long> prints = new java.util.ArrayList<>();
        List<SpecificDatumReader<T>> rs = new java.util.ArrayList<>();
        prints.add(SchemaNormalization.parsingFingerprint64(schema));
        rs.add(new SpecificDatumReader<>(schema, schema, model));
        for (Schema w : writerSchemas) {
            long print = SchemaNormalization.parsingFingerprint64(w);
            if (!prints.contains(print)) {
                prints.add(print);
                rs.add(new SpecificDatumReader<>(w, schema, model));
            }
        }
        this.fingerprints = prints.stream().mapToLong(Long::longValue).toArray();
        this.readers = List.copyOf(rs);
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
        Codec codec = codecs.get();
        codec.out.clear();
        try {
            codec.out.write(header);
            codec.encoder = EncoderFactory.get().binaryEncoder(codec.out, codec.encoder);
            writer.write(record, codec.encoder);
            codec.encoder.flush();
            return codec.out.toByteArray();
        } catch (IOException | AvroRuntimeException | NullPointerException | ClassCastException e) {
            throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Decodes single-object encoded bytes, resolving registered older writer schemas. */
    public T decode(byte[] bytes) {
        if (bytes.length < HEADER_BYTES || bytes[0] != (byte) 0xC3 || bytes[1] != (byte) 0x01) {
            throw new SerializationException("not Avro single-object encoding: expected header C3 01 and an 8-byte"
                    + " schema fingerprint, got " + bytes.length + " bytes" + headerHex(bytes));
        }
        long print = readLittleEndian(bytes, 2);
        int reader = -1;
        for (int i = 0; i < fingerprints.length; i++) {
            if (fingerprints[i] == print) {
                reader = i;
                break;
            }
        }
        if (reader < 0) {
            throw new UnknownSchemaException(
                    "unknown writer schema for " + type.getSimpleName() + ": no known schema has the fingerprint "
                            + print,
                    null);
        }
        Codec codec = codecs.get();
        try {
            codec.decoder =
                    DecoderFactory.get().binaryDecoder(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES, codec.decoder);
            return readers.get(reader).read(null, codec.decoder);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot decode " + type.getSimpleName() + ": " + describe(e), e);
        }
    }

    private static void writeLittleEndian(long value, byte[] to, int at) {
        for (int i = 0; i < 8; i++) {
            to[at + i] = (byte) (value >>> (8 * i));
        }
    }

    private static long readLittleEndian(byte[] from, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (from[at + i] & 0xFFL);
        }
        return v;
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
