package dev.cachepipe.topology.internal;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.ConfluentAvroSerde;
import dev.cachepipe.schemas.UnknownSchemaException;
import dev.cachepipe.schemas.WireFormat;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Decodes the domain events of one source topic in its configured {@link WireFormat}: single-object encoding ({@link
 * AvroSerde}), the Confluent wire format ({@link ConfluentAvroSerde}), or either, told apart by the record's first
 * bytes. Counts each decoded record by format and writer schema ({@link EventMetrics#decoded}).
 *
 * <p>Bad input is reported as a {@link SerializationException} (the deserialization handler dead-letters it with the
 * reason its type says); a registry that does not answer propagates as {@code SchemaRegistryUnavailableException},
 * which the handler never dead-letters.
 */
public final class EventDeserializer implements Deserializer<DomainEvent> {
    private final WireFormat format;
    private final AvroSerde<DomainEvent> singleObject;
    private final ConfluentAvroSerde<DomainEvent> confluent;
    private final EventMetrics metrics;

    /**
     * @param confluent the Confluent-format decoder, or {@code null} when no schema source is configured (such
     *     records are then dead-lettered as {@code unknown-schema})
     */
    public EventDeserializer(
            WireFormat format,
            AvroSerde<DomainEvent> singleObject,
            ConfluentAvroSerde<DomainEvent> confluent,
            EventMetrics metrics) {
        this.format = format;
        this.singleObject = singleObject;
        this.confluent = confluent;
        this.metrics = metrics;
    }

    @Override
    public DomainEvent deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        WireFormat actual = WireFormat.detect(bytes);
        if (!format.accepts(actual)) {
            throw new SerializationException(mismatch(topic, bytes, actual));
        }
        if (actual == WireFormat.SINGLE_OBJECT) {
            DomainEvent event = singleObject.decode(bytes);
            metrics.decoded(WireFormat.SINGLE_OBJECT, fingerprint(bytes));
            return event;
        }
        int id = ConfluentAvroSerde.schemaId(bytes);
        if (confluent == null) {
            throw new UnknownSchemaException(
                    "unknown writer schema: the record is in the Confluent wire format with schema id " + id
                            + ", but no schema registry is configured (schemas.registry.url or"
                            + " schemas.registry.directory)",
                    null);
        }
        DomainEvent event = confluent.decode(bytes);
        metrics.decoded(WireFormat.CONFLUENT, id);
        return event;
    }

    private String mismatch(String topic, byte[] bytes, WireFormat actual) {
        String start = bytes.length == 0
                ? "is empty"
                : "starts " + String.format("%02X", bytes[0])
                        + (bytes.length > 1 ? String.format(" %02X", bytes[1]) : "") + " (" + bytes.length + " bytes)";
        if (actual == null) {
            return "neither Avro single-object encoding (C3 01 and an 8-byte schema fingerprint) nor the Confluent wire"
                    + " format (00 and a 4-byte schema id): the value " + start;
        }
        return "topic " + topic + " is read as " + format.configName() + " but the value " + start + ", which is "
                + actual.configName() + " (set schemas.format or entities.<type>.format to auto or "
                + actual.configName() + ")";
    }

    private static long fingerprint(byte[] bytes) {
        long v = 0;
        for (int i = 9; i >= 2; i--) {
            v = (v << 8) | (bytes[i] & 0xFFL);
        }
        return v;
    }
}
