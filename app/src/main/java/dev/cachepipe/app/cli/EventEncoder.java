package dev.cachepipe.app.cli;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.ConfluentAvroSerde;
import dev.cachepipe.schemas.SchemaRegistryClient;
import dev.cachepipe.schemas.WireFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How {@code publish} and the demo's generator frame a domain event for a topic: Avro single-object encoding, or the
 * Confluent wire format with the DomainEvent schema registered under {@code <topic>-value} (as {@code
 * KafkaAvroSerializer} does with its default subject name strategy).
 */
@FunctionalInterface
public interface EventEncoder {
    /** The Kafka value of {@code event} on {@code topic}. */
    byte[] encode(String topic, DomainEvent event);

    /** Avro single-object encoding. */
    static EventEncoder singleObject() {
        AvroSerde<DomainEvent> serde = AvroSerde.of(DomainEvent.class);
        return (topic, event) -> serde.encode(event);
    }

    /**
     * The Confluent wire format; the schema is registered in {@code registry} under {@code <topic>-value} when a topic
     * is first written to (the registry returns the same id for a schema it already has).
     */
    static EventEncoder confluent(SchemaRegistryClient registry) {
        Map<String, ConfluentAvroSerde<DomainEvent>> byTopic = new ConcurrentHashMap<>();
        return (topic, event) -> byTopic.computeIfAbsent(
                        topic,
                        t -> ConfluentAvroSerde.writing(
                                DomainEvent.class, registry.register(t + "-value", DomainEvent.getClassSchema())))
                .encode(event);
    }

    /** The encoder of {@code format} ({@code registry} is needed for {@link WireFormat#CONFLUENT} only). */
    static EventEncoder of(WireFormat format, SchemaRegistryClient registry) {
        return switch (format) {
            case SINGLE_OBJECT -> singleObject();
            case CONFLUENT -> confluent(registry);
            case AUTO -> throw new IllegalArgumentException("write single-object or confluent, not auto");
        };
    }
}
