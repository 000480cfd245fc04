package dev.cachepipe.topology;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.schemas.AvroSerde;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;

/** Drives {@link CachepipeTopology} through {@link TopologyTestDriver} with the properties the app would set. */
final class TopologyFixture implements AutoCloseable {
    static final String USERS = "users.events";
    static final String ORDERS = "orders.events";
    static final String SHARED = "shared.events";
    static final String MUTATIONS = "cachepipe.mutations";
    static final String DLQ = "cachepipe.dlq";
    static final Instant OCCURRED = Instant.parse("2024-05-01T12:00:00Z");

    static final AvroSerde<DomainEvent> EVENTS = AvroSerde.of(DomainEvent.class);
    static final AvroSerde<CacheMutation> MUTATION_SERDE = AvroSerde.of(CacheMutation.class);

    /** user: write-through on users.events and shared.events; order: invalidate; audit: expire-only. */
    static TopologyConfig config() {
        return new TopologyConfig(
                "cache",
                MUTATIONS,
                DLQ,
                Map.of(
                        "user",
                        new EntityPolicy(
                                "user",
                                List.of(USERS, SHARED),
                                CacheMode.WRITE_THROUGH,
                                Duration.ofMinutes(10),
                                0.2,
                                Duration.ofMinutes(1),
                                1024,
                                16),
                        "order",
                        new EntityPolicy(
                                "order",
                                List.of(ORDERS, SHARED),
                                CacheMode.INVALIDATE,
                                Duration.ofMinutes(5),
                                0.0,
                                Duration.ofSeconds(30),
                                1024,
                                16),
                        "audit",
                        new EntityPolicy(
                                "audit",
                                List.of(ORDERS),
                                CacheMode.EXPIRE_ONLY,
                                Duration.ofMinutes(5),
                                0.1,
                                Duration.ofSeconds(30),
                                1024,
                                16)));
    }

    final TopologyTestDriver driver;
    final TestOutputTopic<String, byte[]> mutations;
    final TestOutputTopic<byte[], byte[]> dlq;

    TopologyFixture() {
        this(CachepipeTopology.build(config()), config());
    }

    TopologyFixture(Topology topology, TopologyConfig config) {
        this(topology, CachepipeTopology.streamsProperties(config));
    }

    /** The topology with its events counted in {@code registry} (processor and exception handlers). */
    TopologyFixture(io.micrometer.core.instrument.MeterRegistry registry) {
        this(CachepipeTopology.build(config(), registry), CachepipeTopology.streamsProperties(config(), registry));
    }

    /** The topology for {@code config}, counting into {@code registry}. */
    TopologyFixture(TopologyConfig config, io.micrometer.core.instrument.MeterRegistry registry) {
        this(CachepipeTopology.build(config, registry), CachepipeTopology.streamsProperties(config, registry));
    }

    /** {@link #config()} with another version retention. */
    static TopologyConfig config(Duration versionRetention) {
        TopologyConfig c = config();
        return new TopologyConfig(
                c.keyPrefix(), c.mutationsTopic(), c.deadLetterTopic(), c.entities(), versionRetention);
    }

    TopologyFixture(Topology topology, Properties props) {
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        try {
            props.put(
                    StreamsConfig.STATE_DIR_CONFIG,
                    Files.createTempDirectory(Files.createDirectories(Path.of("target", "streams-state")), "test-")
                            .toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        driver = new TopologyTestDriver(topology, props);
        mutations = driver.createOutputTopic(MUTATIONS, new StringDeserializer(), new ByteArrayDeserializer());
        dlq = driver.createOutputTopic(DLQ, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    TestInputTopic<byte[], byte[]> input(String topic) {
        return driver.createInputTopic(topic, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Pipes {@code value} (raw bytes) keyed by {@code key} (UTF-8) into {@code topic}. */
    void pipe(String topic, String key, byte[] value) {
        input(topic).pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    void pipe(String topic, DomainEvent event) {
        pipe(topic, event.getEntityId(), EVENTS.encode(event));
    }

    /** Pipes {@code event} with the record timestamp {@code at}. */
    void pipe(String topic, DomainEvent event, Instant at) {
        input(topic).pipeInput(event.getEntityId().getBytes(StandardCharsets.UTF_8), EVENTS.encode(event), at);
    }

    /** All mutations emitted so far, decoded. */
    List<CacheMutation> readMutations() {
        return mutations.readValuesToList().stream().map(MUTATION_SERDE::decode).toList();
    }

    static DomainEvent upsert(String type, String id, long version, String json) {
        return event(type, id, version, Operation.UPSERT, ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)));
    }

    static DomainEvent delete(String type, String id, long version) {
        return event(type, id, version, Operation.DELETE, null);
    }

    static DomainEvent event(String type, String id, long version, Operation op, ByteBuffer payload) {
        return DomainEvent.newBuilder()
                .setEventId("evt-" + type + "-" + id + "-" + version)
                .setEntityType(type)
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(OCCURRED)
                .setContentType("application/json")
                .setPayload(payload)
                .setAttributes(Map.of("tenant", "t1"))
                .build();
    }

    static String utf8(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        driver.close();
    }
}
