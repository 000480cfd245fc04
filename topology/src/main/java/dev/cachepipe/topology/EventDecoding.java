package dev.cachepipe.topology;

import dev.cachepipe.schemas.SchemaSource;
import dev.cachepipe.schemas.WireFormat;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.avro.Schema;

/**
 * How the topology decodes the domain events of its source topics.
 *
 * @param format the wire format of topics not named in {@code topicFormats}: {@link WireFormat#AUTO} (the default)
 *     tells Avro single-object encoding and the Confluent wire format apart per record by its first bytes
 * @param topicFormats the wire format of particular source topics (from the entity types' own settings)
 * @param writerSchemas older (or newer) DomainEvent schemas that single-object producers write with, resolved into
 *     the current schema
 * @param schemaIds where the writer schemas of Confluent-format records come from, by id (a registry or a directory),
 *     or {@code null} when none is configured: such records are then dead-lettered as {@code unknown-schema}
 */
public record EventDecoding(
        WireFormat format, Map<String, WireFormat> topicFormats, List<Schema> writerSchemas, SchemaSource schemaIds) {

    /** Validates and copies. */
    public EventDecoding {
        Objects.requireNonNull(format, "format");
        topicFormats = Map.copyOf(Objects.requireNonNull(topicFormats, "topicFormats"));
        writerSchemas = List.copyOf(Objects.requireNonNull(writerSchemas, "writerSchemas"));
    }

    /** {@link WireFormat#AUTO} for every topic, no schema ids: single-object records (and their older schemas) only. */
    public static EventDecoding of(Collection<Schema> writerSchemas) {
        return new EventDecoding(WireFormat.AUTO, Map.of(), List.copyOf(writerSchemas), null);
    }

    /** A copy whose Confluent-format records take their writer schemas from {@code source}. */
    public EventDecoding withSchemaIds(SchemaSource source) {
        return new EventDecoding(format, topicFormats, writerSchemas, source);
    }

    /** A copy with this default format and these formats per topic. */
    public EventDecoding withFormats(WireFormat defaultFormat, Map<String, WireFormat> perTopic) {
        return new EventDecoding(defaultFormat, perTopic, writerSchemas, schemaIds);
    }

    /** The wire format of {@code topic}. */
    public WireFormat formatOf(String topic) {
        return topicFormats.getOrDefault(topic, format);
    }

    /** The source of Confluent schema ids, if one is configured. */
    public Optional<SchemaSource> schemaSource() {
        return Optional.ofNullable(schemaIds);
    }
}
