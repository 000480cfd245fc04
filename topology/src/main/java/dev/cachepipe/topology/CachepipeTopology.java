package dev.cachepipe.topology;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.ConfluentAvroSerde;
import dev.cachepipe.schemas.SchemaRegistryClient;
import dev.cachepipe.topology.internal.BoundedRocksDb;
import dev.cachepipe.topology.internal.ClampedTimestamps;
import dev.cachepipe.topology.internal.DeadLetterDeserializationHandler;
import dev.cachepipe.topology.internal.DeadLetterProcessingHandler;
import dev.cachepipe.topology.internal.DeadLetterProductionHandler;
import dev.cachepipe.topology.internal.EventDeserializer;
import dev.cachepipe.topology.internal.EventMetrics;
import dev.cachepipe.topology.internal.MutationProcessor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.UsePartitionTimeOnInvalidTimestamp;
import org.apache.kafka.streams.state.Stores;

/**
 * The cachepipe Kafka Streams topology: decode domain events, validate them, apply the cache policy of their
 * entity type and emit cache mutations keyed by Redis key; bad input goes to the dead-letter topic.
 *
 * <pre>
 * source-&lt;topic&gt; ... ─► merge-&lt;topic&gt; ─► apply-policy (store cachepipe-versions) ─► to-mutations
 *        │ undecodable, unknown or incompatible schema │ invalid
 *        └──────────────── dead-letter topic ◄──┘   (Kafka Streams' DLQ, KIP-1034)
 * </pre>
 *
 * <p>Run it with {@link #streamsProperties} merged into the application's Streams configuration.
 */
public final class CachepipeTopology {
    /** Name of the persistent store holding the highest version emitted per Redis key. */
    public static final String VERSIONS_STORE = "cachepipe-versions";
    /** Name of the processor that validates events and applies the policies. */
    public static final String POLICY_PROCESSOR = "apply-policy";
    /** Name of the sink writing to the mutations topic. */
    public static final String MUTATIONS_SINK = "to-mutations";
    /** Dead-letter header with a machine-readable reason code, e.g. {@code payload-too-large}. */
    public static final String DLQ_REASON_HEADER = "cachepipe.dlq.reason";
    /** Dead-letter header with a human-readable explanation (never payload bytes). */
    public static final String DLQ_DETAIL_HEADER = "cachepipe.dlq.detail";

    private CachepipeTopology() {}

    /** The topology for {@code config}, decoding events written with the current DomainEvent schema. */
    public static Topology build(TopologyConfig config) {
        return build(config, List.of());
    }

    /**
     * The topology for {@code config}, counting the events it handles in {@code registry}: {@value
     * TopologyMeters#EVENTS}{@code {entity_type, outcome=mutated|ignored|stale|dead_lettered}} and {@value
     * TopologyMeters#DEAD_LETTERS}{@code {reason}} (see {@link TopologyMeters}). Dead letters are counted by the exception handlers, which Kafka
     * Streams creates itself: run this topology with {@link #streamsProperties(TopologyConfig, MeterRegistry)} and the
     * same registry, or dead letters go uncounted.
     */
    public static Topology build(TopologyConfig config, MeterRegistry registry) {
        return build(config, List.of(), registry);
    }

    /**
     * The topology for {@code config}, also decoding events written with {@code olderDomainEventSchemas} (Avro
     * schema resolution into the current DomainEvent).
     */
    public static Topology build(TopologyConfig config, Collection<Schema> olderDomainEventSchemas) {
        return build(config, olderDomainEventSchemas, null);
    }

    /**
     * The topology for {@code config}, decoding older DomainEvent schemas too and counting events in {@code
     * registry} ({@code null}: counts nothing).
     */
    public static Topology build(
            TopologyConfig config, Collection<Schema> olderDomainEventSchemas, MeterRegistry registry) {
        Objects.requireNonNull(olderDomainEventSchemas, "olderDomainEventSchemas");
        return build(config, EventDecoding.of(olderDomainEventSchemas), registry);
    }

    /**
     * The topology for {@code config}, decoding each source topic's events as {@code decoding} says (wire format per
     * topic, older single-object schemas, the source of Confluent schema ids) and counting events in {@code registry}
     * ({@code null}: counts nothing), including {@value TopologyMeters#EVENTS_DECODED}{@code {format, schema_id}}.
     */
    public static Topology build(TopologyConfig config, EventDecoding decoding, MeterRegistry registry) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(decoding, "decoding");
        EventMetrics metrics = EventMetrics.create(registry, config.entities().keySet());
        AvroSerde<DomainEvent> singleObject =
                AvroSerde.of(DomainEvent.class).withWriterSchemas(decoding.writerSchemas());
        ConfluentAvroSerde<DomainEvent> confluent = decoding.schemaSource()
                .map(source -> ConfluentAvroSerde.reading(DomainEvent.class, source))
                .orElse(null);
        if (registry != null && decoding.schemaIds() instanceof SchemaRegistryClient client) {
            FunctionCounter.builder(TopologyMeters.REGISTRY_RETRIES, client, SchemaRegistryClient::retries)
                    .description("Attempts to reach the schema registry that failed and were tried again")
                    .register(registry);
            Gauge.builder(
                            TopologyMeters.REGISTRY_AVAILABLE,
                            client,
                            c -> c.unavailableReason().isPresent() ? 0 : 1)
                    .description("1 while the schema registry answers, 0 while records wait for it")
                    .register(registry);
        }

        StreamsBuilder builder = new StreamsBuilder();
        // timestamped: each version carries when it was last raised, so that old keys can be forgotten (a plain
        // key-value store of an earlier release is upgraded in place, its changelog read as it is)
        builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(
                Stores.persistentTimestampedKeyValueStore(VERSIONS_STORE), Serdes.String(), Serdes.Long()));

        KStream<byte[], DomainEvent> merged = null;
        ClampedTimestamps timestamps = new ClampedTimestamps(config.maxFutureSkew());
        for (String topic : config.sourceTopics()) {
            Serde<DomainEvent> events = Serdes.serdeFrom(
                    singleObject, new EventDeserializer(decoding.formatOf(topic), singleObject, confluent, metrics));
            KStream<byte[], DomainEvent> source = builder.stream(
                    topic,
                    Consumed.with(Serdes.ByteArray(), events)
                            .withTimestampExtractor(timestamps)
                            .withName("source-" + topic));
            merged = merged == null ? source : merged.merge(source, Named.as("merge-" + topic));
        }
        Objects.requireNonNull(merged, "no source topics")
                .process(
                        () -> new MutationProcessor(config, VERSIONS_STORE, metrics),
                        Named.as(POLICY_PROCESSOR),
                        VERSIONS_STORE)
                .to(
                        config.mutationsTopic(),
                        Produced.with(Serdes.String(), AvroSerde.of(CacheMutation.class))
                                .withName(MUTATIONS_SINK));
        return builder.build();
    }

    /**
     * The Streams settings this topology relies on: the dead-letter topic and cachepipe's deserialization and
     * processing exception handlers. The application merges them with {@code bootstrap.servers}, {@code
     * application.id}, {@code state.dir} and its own settings. No default serdes are needed: every source, store
     * and sink declares its own.
     */
    public static Properties streamsProperties(TopologyConfig config) {
        Objects.requireNonNull(config, "config");
        Properties props = new Properties();
        props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, config.deadLetterTopic());
        props.put(
                StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
                DeadLetterDeserializationHandler.class.getName());
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProcessingHandler.class.getName());
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProductionHandler.class.getName());
        // the production handler fences the key of a refused update for its type's tombstoneTtl
        props.put(DeadLetterProductionHandler.TOPOLOGY_CONFIG_KEY, config);
        // A record with a negative timestamp must not fail the task on every retry: use the partition's time.
        props.put(
                StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG,
                UsePartitionTimeOnInvalidTimestamp.class.getName());
        // The topology has no global stores; enabling the handler for the global thread too is what Kafka Streams
        // recommends at start-up (and what later releases always do). Named by its string: the constant is deprecated.
        // Given to the main consumer too: its partition assignor reads a StreamsConfig of the consumer's settings and
        // would log the recommendation again.
        props.put("processing.exception.handler.global.enabled", "true");
        // One bounded block cache for every versions store of the process instead of 50 MB and three memtables each
        props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDb.class.getName());
        props.put(StreamsConfig.mainConsumerPrefix("processing.exception.handler.global.enabled"), "true");
        return props;
    }

    /**
     * {@link #streamsProperties(TopologyConfig)} plus the hook through which the exception handlers count dead letters
     * in {@code registry} (the property {@value EventMetrics#CONFIG_KEY}, whose value is an object: pass these
     * properties to {@code new KafkaStreams(topology, props)} as they are).
     */
    public static Properties streamsProperties(TopologyConfig config, MeterRegistry registry) {
        Properties props = streamsProperties(config);
        if (registry != null) {
            props.put(
                    EventMetrics.CONFIG_KEY,
                    EventMetrics.create(registry, config.entities().keySet()));
        }
        return props;
    }
}
