package dev.cachepipe.schemas;

import dev.cachepipe.schemas.internal.Incompatibilities;
import dev.cachepipe.schemas.internal.OutputBuffer;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
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
 * A Kafka {@link Serde} for the <a href="https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format">
 * Confluent wire format</a> that {@code KafkaAvroSerializer} writes: byte {@code 00}, the writer schema's registry id
 * (4 bytes, big-endian), then the Avro binary body. Records are read into the generated class {@code T} by Avro schema
 * resolution from the writer schema that a {@link SchemaSource} gives for the id (a registry, or a directory of
 * {@code <id>.avsc} files).
 *
 * <p>Like {@link AvroSerde}, decoding reuses one {@code BinaryDecoder} per thread and reads from the array itself; the
 * resolving reader of each schema id is built once (ids name one schema for good) and the last one a thread used is
 * kept at hand, so a record costs what a single-object record costs.
 *
 * <p>Errors: {@link UnknownSchemaException} (the source has no schema with that id), {@link
 * IncompatibleSchemaException} (it cannot be resolved into {@code T}), {@link SerializationException} (not this wire
 * format, or a corrupt body) and {@link SchemaRegistryUnavailableException} (the registry did not answer: not the
 * record's fault). Instances are immutable and thread-safe; {@code null} maps to {@code null} both ways.
 */
public final class ConfluentAvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {
    static {
        AvroSerde.applyLimits(); // bound what one record may allocate, as for single-object records
    }

    private static final int NO_ID = -1;

    private final Class<T> type;
    private final SpecificData model;
    private final Schema schema;
    private final SchemaSource schemas;
    private final int writeId;
    private final SpecificDatumWriter<T> writer;
    /** Per schema id: its {@code SpecificDatumReader}, or the {@link IncompatibleSchemaException} it led to. */
    private final Map<Integer, Object> readers = new ConcurrentHashMap<>();

    private final ThreadLocal<Codec> codecs = ThreadLocal.withInitial(Codec::new);

    /** One thread's decoder, encoder, buffer and the reader of the last schema id it met. */
    private static final class Codec {
        final OutputBuffer out = new OutputBuffer();
        BinaryDecoder decoder;
        BinaryEncoder encoder;
        int lastId = NO_ID;
        Object lastReader;
    }

    private ConfluentAvroSerde(Class<T> type, SchemaSource schemas, int writeId) {
        this.type = Objects.requireNonNull(type, "type");
        this.model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.schemas = schemas;
        this.writeId = writeId;
        this.writer = new SpecificDatumWriter<>(schema, model);
    }

    /** A serde that reads records of the generated class {@code type}, their writer schemas from {@code schemas}. */
    public static <T extends SpecificRecord> ConfluentAvroSerde<T> reading(Class<T> type, SchemaSource schemas) {
        return new ConfluentAvroSerde<>(type, Objects.requireNonNull(schemas, "schemas"), NO_ID);
    }

    /**
     * A serde that writes records of {@code type} with its current schema under registry id {@code schemaId} (register
     * the schema first: {@link SchemaRegistryClient#register}).
     */
    public static <T extends SpecificRecord> ConfluentAvroSerde<T> writing(Class<T> type, int schemaId) {
        if (schemaId < 0) {
            throw new IllegalArgumentException("schemaId must be >= 0 but was " + schemaId);
        }
        return new ConfluentAvroSerde<>(type, null, schemaId);
    }

    /** The reader (current) schema. */
    public Schema schema() {
        return schema;
    }

    /** The schema id in the header of {@code bytes}, which must be in this wire format (see {@link WireFormat#detect}). */
    public static int schemaId(byte[] bytes) {
        return ((bytes[1] & 0xFF) << 24) | ((bytes[2] & 0xFF) << 16) | ((bytes[3] & 0xFF) << 8) | (bytes[4] & 0xFF);
    }

    /** Encodes {@code record} under this serde's schema id. */
    public byte[] encode(T record) {
        if (writeId == NO_ID) {
            throw new IllegalStateException(
                    "this serde only reads: create it with ConfluentAvroSerde.writing(type, id)");
        }
        Codec codec = codecs.get();
        OutputBuffer out = codec.out;
        out.clear();
        try {
            out.write(WireFormat.CONFLUENT_MAGIC);
            out.write(writeId >>> 24);
            out.write(writeId >>> 16);
            out.write(writeId >>> 8);
            out.write(writeId);
            codec.encoder = EncoderFactory.get().binaryEncoder(out, codec.encoder);
            writer.write(record, codec.encoder);
            codec.encoder.flush();
            return out.toByteArray();
        } catch (IOException | AvroRuntimeException | NullPointerException | ClassCastException e) {
            throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Decodes bytes in the Confluent wire format into {@code T}. */
    @SuppressWarnings("unchecked")
    public T decode(byte[] bytes) {
        if (bytes.length < WireFormat.CONFLUENT_HEADER_BYTES || bytes[0] != WireFormat.CONFLUENT_MAGIC) {
            throw new SerializationException(
                    "not the Confluent wire format: expected byte 00 and a 4-byte schema id," + " got " + bytes.length
                            + " bytes" + (bytes.length == 0 ? "" : String.format(" starting %02X", bytes[0])));
        }
        if (schemas == null) {
            throw new IllegalStateException(
                    "this serde only writes: create it with ConfluentAvroSerde.reading(type, schemas)");
        }
        int id = schemaId(bytes);
        Codec codec = codecs.get();
        Object reader;
        if (codec.lastId == id) {
            reader = codec.lastReader;
        } else {
            reader = reader(id);
            codec.lastId = id;
            codec.lastReader = reader;
        }
        if (reader instanceof IncompatibleSchemaException e) {
            throw new IncompatibleSchemaException(e.getMessage(), null);
        }
        try {
            codec.decoder = DecoderFactory.get()
                    .binaryDecoder(
                            bytes,
                            WireFormat.CONFLUENT_HEADER_BYTES,
                            bytes.length - WireFormat.CONFLUENT_HEADER_BYTES,
                            codec.decoder);
            return ((SpecificDatumReader<T>) reader).read(null, codec.decoder);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException(
                    "cannot decode " + type.getSimpleName() + " written with schema id " + id + ": "
                            + (e.getMessage() != null
                                    ? e.getMessage()
                                    : e.getClass().getSimpleName()),
                    e);
        }
    }

    /** The reader of schema {@code id} (or the incompatibility it led to), built once; outages are not remembered. */
    private Object reader(int id) {
        Object known = readers.get(id);
        if (known != null) {
            return known;
        }
        Schema writerSchema;
        try {
            writerSchema = schemas.schema(id);
        } catch (IncompatibleSchemaException e) {
            readers.putIfAbsent(id, e);
            return e;
        }
        Object made;
        SchemaCompatibility.SchemaPairCompatibility check =
                SchemaCompatibility.checkReaderWriterCompatibility(schema, writerSchema);
        if (check.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            made = new SpecificDatumReader<T>(writerSchema, schema, model);
        } else {
            made = new IncompatibleSchemaException(
                    "writer schema id " + id + " (" + writerSchema.getFullName() + ") from " + schemas.describe()
                            + " cannot be read into the current " + schema.getFullName() + ": "
                            + Incompatibilities.describe(check, schema),
                    null);
        }
        Object raced = readers.putIfAbsent(id, made);
        return raced != null ? raced : made;
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
    public void configure(Map<String, ?> configs, boolean isKey) {
        // configured at construction
    }

    @Override
    public void close() {
        // nothing held
    }
}
