package dev.cachepipe.app.demo;

import dev.cachepipe.app.cli.EventEncoder;
import dev.cachepipe.app.demo.internal.EventPlanner;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.topology.EntityPolicy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes realistic domain events for the demo, the load generator and the integration tests: UPSERTs with small
 * JSON payloads, DELETEs, exact duplicates and out-of-order versions (shuffled within each entity inside a planning
 * window), for several entity types and {@code entitiesPerType} entities each, at a target rate; optionally a
 * fraction of poison records that the topology must dead-letter. Every record Kafka acknowledges is recorded in the
 * {@link Oracle}.
 *
 * <p>Events go to the first topic of their entity type's policy, keyed by entityId (UTF-8), Avro single-object
 * encoded. The producer uses {@code acks=all} and idempotence. The counters may be read from any thread while
 * {@link #publish} runs on another; {@link #stop()} makes a running publish return early.
 */
public final class EventGenerator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventGenerator.class);
    private static final int KEPT_FAILURES = 5;
    /** Poison payloads above this are not generated: they would exceed Kafka's default message size. */
    static final int MAX_OVERSIZED_PAYLOAD = 512 * 1024;

    private static final String[] NAMES = {"ada", "grace", "alan", "edsger", "barbara", "donald", "ken", "margaret"};

    /**
     * What to generate.
     *
     * @param entityTypes the policies of the entity types to generate events for (events go to each policy's first
     *     topic)
     * @param entitiesPerType how many entities of each type, at least 1
     * @param idPrefix prefix of the generated entity ids ({@code idPrefix + "00042"}); may be empty
     * @param deleteRatio fraction of versions that are DELETEs, {@code [0, 1)}
     * @param duplicateRatio fraction of events that are exact duplicates of an earlier one, {@code [0, 1)}
     * @param poisonRatio fraction of records that are poison, {@code [0, 1)}; kinds rotate through {@link
     *     PoisonKind}
     * @param window events planned together: versions of an entity are shuffled within one window, at least 1
     * @param seed random seed; the same settings and seed plan the same events
     */
    public record Settings(
            List<EntityPolicy> entityTypes,
            int entitiesPerType,
            String idPrefix,
            double deleteRatio,
            double duplicateRatio,
            double poisonRatio,
            int window,
            long seed) {

        public Settings {
            if (entityTypes == null || entityTypes.isEmpty()) {
                throw new IllegalArgumentException(
                        "entityTypes must name at least one entity type but was " + entityTypes);
            }
            entityTypes = List.copyOf(entityTypes);
            if (entitiesPerType < 1) {
                throw new IllegalArgumentException("entitiesPerType must be >= 1 but was " + entitiesPerType);
            }
            if (idPrefix == null || idPrefix.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException(
                        "idPrefix must be a string without control characters but was " + idPrefix);
            }
            requireRatio("deleteRatio", deleteRatio);
            requireRatio("duplicateRatio", duplicateRatio);
            requireRatio("poisonRatio", poisonRatio);
            if (window < 1) {
                throw new IllegalArgumentException("window must be >= 1 but was " + window);
            }
        }

        /** 10% deletes, 5% duplicates, no poison, a window of 10,000 events, no id prefix. */
        public static Settings of(Collection<EntityPolicy> entityTypes, int entitiesPerType, long seed) {
            return new Settings(List.copyOf(entityTypes), entitiesPerType, "", 0.1, 0.05, 0.0, 10_000, seed);
        }

        public Settings withIdPrefix(String prefix) {
            return new Settings(
                    entityTypes, entitiesPerType, prefix, deleteRatio, duplicateRatio, poisonRatio, window, seed);
        }

        public Settings withDeleteRatio(double ratio) {
            return new Settings(
                    entityTypes, entitiesPerType, idPrefix, ratio, duplicateRatio, poisonRatio, window, seed);
        }

        public Settings withDuplicateRatio(double ratio) {
            return new Settings(entityTypes, entitiesPerType, idPrefix, deleteRatio, ratio, poisonRatio, window, seed);
        }

        public Settings withPoisonRatio(double ratio) {
            return new Settings(
                    entityTypes, entitiesPerType, idPrefix, deleteRatio, duplicateRatio, ratio, window, seed);
        }

        public Settings withWindow(int events) {
            return new Settings(
                    entityTypes, entitiesPerType, idPrefix, deleteRatio, duplicateRatio, poisonRatio, events, seed);
        }

        private static void requireRatio(String name, double value) {
            if (!(value >= 0 && value < 1)) {
                throw new IllegalArgumentException(name + " must be >= 0 and < 1 but was " + value);
            }
        }
    }

    private final Settings settings;
    private final Oracle oracle;
    private final EventEncoder encoder;
    private final KafkaProducer<byte[], byte[]> producer;
    private final EventPlanner planner;
    private final Random random;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final java.util.Queue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicLong poisonSent = new AtomicLong();
    private final AtomicLong duplicatesSent = new AtomicLong();
    private final AtomicLong outOfOrderSent = new AtomicLong();
    private final Map<String, Long> highestSent = new HashMap<>(); // publishing thread only
    private volatile boolean stopped;
    private Iterator<EventPlanner.Slot> window = java.util.Collections.emptyIterator();
    private int nextPoison;
    private long poisonSerial;

    /**
     * @param kafkaProperties client properties, at least {@code bootstrap.servers}; the generator sets serializers,
     *     {@code acks=all} and idempotence itself
     */
    public EventGenerator(Map<String, Object> kafkaProperties, Settings settings, Oracle oracle) {
        this(kafkaProperties, settings, oracle, EventEncoder.singleObject());
    }

    /** As {@link #EventGenerator(Map, Settings, Oracle)}, framing every record with {@code encoder}. */
    public EventGenerator(Map<String, Object> kafkaProperties, Settings settings, Oracle oracle, EventEncoder encoder) {
        this.settings = settings;
        this.oracle = oracle;
        this.encoder = encoder;
        for (EntityPolicy p : settings.entityTypes()) {
            if (!oracle.policies().containsKey(p.entityType())) {
                throw new IllegalArgumentException("the oracle has no policy for entity type " + p.entityType());
            }
        }
        this.random = new Random(settings.seed());
        this.planner = new EventPlanner(
                settings.entityTypes(),
                settings.entitiesPerType(),
                settings.idPrefix(),
                settings.deleteRatio(),
                settings.duplicateRatio(),
                new Random(random.nextLong()));
        Map<String, Object> props = new HashMap<>(kafkaProperties);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "cachepipe-event-generator");
        this.producer = new KafkaProducer<>(props);
    }

    /**
     * Publishes {@code count} records (poison included) at about {@code eventsPerSecond} (as fast as possible when
     * {@code <= 0}), then waits until Kafka acknowledged them. Returns the number sent, less if {@link #stop()} was
     * called.
     */
    public long publish(long count, double eventsPerSecond) {
        return run(count, Long.MAX_VALUE, eventsPerSecond);
    }

    /** Publishes at about {@code eventsPerSecond} for {@code duration}; see {@link #publish(long, double)}. */
    public long publishFor(Duration duration, double eventsPerSecond) {
        return run(Long.MAX_VALUE, System.nanoTime() + duration.toNanos(), eventsPerSecond);
    }

    /** Publishes one given valid event to its entity type's first topic and records it once acknowledged. */
    public void publish(DomainEvent event) {
        EntityPolicy policy = oracle.policies().get(event.getEntityType());
        if (policy == null) {
            throw new IllegalArgumentException("entity type " + event.getEntityType() + " has no policy");
        }
        String topic = policy.topics().get(0);
        send(topic, event, encoder.encode(topic, event));
    }

    /** Publishes one poison record of {@code kind} to the first topic of {@code type} and records it. */
    public Oracle.PoisonRecord publishPoison(PoisonKind kind, EntityPolicy type) {
        Oracle.PoisonRecord p = poison(kind, type);
        sendPoison(p);
        return p;
    }

    /** Waits until every record sent so far is acknowledged (or failed). */
    public void flush() {
        producer.flush();
    }

    /** Makes a running {@link #publish(long, double)} or {@link #publishFor} return soon. */
    public void stop() {
        stopped = true;
    }

    /** Records handed to the producer. */
    public long sent() {
        return sent.get();
    }

    /** Records Kafka acknowledged. */
    public long acknowledged() {
        return acknowledged.get();
    }

    /** Records Kafka refused (they are not in the oracle). */
    public long failed() {
        return failed.get();
    }

    /** Why Kafka refused records (the first {@value #KEPT_FAILURES}), for test reports. */
    public List<String> failures() {
        return List.copyOf(failures);
    }

    private void fail(String what, Exception error) {
        failed.incrementAndGet();
        if (failures.size() < KEPT_FAILURES) {
            failures.add(what + ": " + error);
        }
        log.warn("Kafka refused {}: {}", what, error.toString());
    }

    /** Poison records handed to the producer. */
    public long poisonSent() {
        return poisonSent.get();
    }

    /** Planned events sent as an exact copy of an earlier one. */
    public long duplicatesSent() {
        return duplicatesSent.get();
    }

    /** Planned events sent after a higher version of the same entity: the pipeline must not apply them. */
    public long outOfOrderSent() {
        return outOfOrderSent.get();
    }

    /** The settings. */
    public Settings settings() {
        return settings;
    }

    @Override
    public void close() {
        stopped = true;
        producer.close(Duration.ofSeconds(30));
    }

    private long run(long count, long deadlineNanos, double rate) {
        long start = System.nanoTime();
        double nanosPerEvent = rate > 0 ? 1e9 / rate : 0;
        long n = 0;
        while (n < count && !stopped) {
            long now = System.nanoTime();
            if (now - deadlineNanos >= 0) {
                break;
            }
            if (nanosPerEvent > 0) {
                long due = start + (long) (n * nanosPerEvent);
                if (due - now > 1_000_000) {
                    LockSupport.parkNanos(Math.min(due - now, TimeUnit.MILLISECONDS.toNanos(100)));
                    continue;
                }
            }
            if (settings.poisonRatio() > 0 && random.nextDouble() < settings.poisonRatio()) {
                sendPoison(nextPoison());
            } else {
                sendNext();
            }
            n++;
        }
        producer.flush();
        return n;
    }

    private void sendNext() {
        if (!window.hasNext()) {
            window = planner.nextWindow(settings.window()).iterator();
        }
        EventPlanner.Slot slot = window.next();
        Built built = (Built) slot.built();
        if (built == null) {
            DomainEvent event = event(slot);
            built = new Built(event, encoder.encode(slot.type().topics().get(0), event));
            slot.built(built);
        } else {
            duplicatesSent.incrementAndGet();
        }
        String entity = slot.type().entityType() + ':' + slot.entityId();
        Long highest = highestSent.get(entity);
        if (highest != null && slot.version() < highest) {
            outOfOrderSent.incrementAndGet();
        }
        if (highest == null || slot.version() > highest) {
            highestSent.put(entity, slot.version());
        }
        send(slot.type().topics().get(0), built.event(), built.bytes());
    }

    private record Built(DomainEvent event, byte[] bytes) {}

    private void send(String topic, DomainEvent event, byte[] value) {
        long sentAt = System.currentTimeMillis();
        sent.incrementAndGet();
        producer.send(
                new ProducerRecord<>(topic, event.getEntityId().getBytes(StandardCharsets.UTF_8), value),
                (metadata, error) -> {
                    if (error == null) {
                        acknowledged.incrementAndGet();
                        oracle.record(event, sentAt);
                    } else {
                        fail("an event for " + event.getEntityType() + " " + event.getEntityId(), error);
                    }
                });
    }

    private void sendPoison(Oracle.PoisonRecord p) {
        sent.incrementAndGet();
        poisonSent.incrementAndGet();
        producer.send(new ProducerRecord<>(p.topic(), p.key(), p.value()), (metadata, error) -> {
            if (error == null) {
                acknowledged.incrementAndGet();
                oracle.recordPoison(p);
            } else {
                fail("a poison record (" + p.kind() + ")", error);
            }
        });
    }

    private DomainEvent event(EventPlanner.Slot slot) {
        String type = slot.type().entityType();
        ByteBuffer payload = null;
        if (slot.op() == Operation.UPSERT) {
            payload = ByteBuffer.wrap(json(type, slot.entityId(), slot.version(), slot.payloadSeed()));
        }
        return DomainEvent.newBuilder()
                .setEventId(new UUID(random.nextLong(), random.nextLong()).toString())
                .setEntityType(type)
                .setEntityId(slot.entityId())
                .setVersion(slot.version())
                .setOp(slot.op())
                .setOccurredAt(Instant.ofEpochMilli(System.currentTimeMillis()))
                .setContentType("application/json")
                .setPayload(payload)
                .setAttributes(Map.of("source", "cachepipe-generator"))
                .build();
    }

    /** A small JSON document, 80 to 200 bytes. */
    static byte[] json(String type, String id, long version, long seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder(160)
                .append("{\"type\":\"")
                .append(type)
                .append("\",\"id\":\"")
                .append(escape(id))
                .append("\",\"version\":")
                .append(version)
                .append(",\"name\":\"")
                .append(NAMES[r.nextInt(NAMES.length)])
                .append("\",\"score\":")
                .append(r.nextInt(100_000))
                .append(",\"active\":")
                .append(r.nextBoolean())
                .append(",\"tags\":[");
        int tags = r.nextInt(4);
        for (int i = 0; i < tags; i++) {
            sb.append(i == 0 ? "" : ",").append("\"t").append(r.nextInt(1000)).append('"');
        }
        return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private Oracle.PoisonRecord nextPoison() {
        List<EntityPolicy> types = settings.entityTypes();
        EntityPolicy type = types.get(random.nextInt(types.size()));
        PoisonKind[] kinds = PoisonKind.values();
        for (int i = 0; i < kinds.length; i++) {
            PoisonKind kind = kinds[nextPoison++ % kinds.length];
            if (kind != PoisonKind.PAYLOAD_TOO_LARGE || type.maxPayloadBytes() < MAX_OVERSIZED_PAYLOAD) {
                return poison(kind, type);
            }
        }
        throw new IllegalStateException("unreachable");
    }

    /** Builds one poison record; its entity id ({@code poison-N}) never collides with a generated entity. */
    Oracle.PoisonRecord poison(PoisonKind kind, EntityPolicy type) {
        String topic = type.topics().get(0);
        long serial = ++poisonSerial;
        String id = settings.idPrefix() + "poison-" + serial;
        DomainEvent.Builder b = DomainEvent.newBuilder()
                .setEventId(new UUID(random.nextLong(), random.nextLong()).toString())
                .setEntityType(type.entityType())
                .setEntityId(id)
                .setVersion(1)
                .setOp(Operation.UPSERT)
                .setOccurredAt(Instant.ofEpochMilli(System.currentTimeMillis()))
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap(json(type.entityType(), id, 1, serial)))
                .setAttributes(Map.of("source", "cachepipe-generator", "poison", kind.name()));
        switch (kind) {
            case NOT_AVRO -> {
                byte[] junk = ("{\"not\":\"avro\",\"serial\":" + serial + "}").getBytes(StandardCharsets.UTF_8);
                return new Oracle.PoisonRecord(kind, topic, id.getBytes(StandardCharsets.UTF_8), junk, null);
            }
            case UNKNOWN_ENTITY_TYPE -> b.setEntityType(unknownType());
            case NEGATIVE_VERSION -> b.setVersion(-1);
            case EMPTY_ID -> b.setEntityId("");
            case OVERSIZED_ID -> b.setEntityId(id + "-" + "x".repeat(600));
            case UPSERT_WITHOUT_PAYLOAD -> b.setPayload(null);
            case PAYLOAD_TOO_LARGE -> {
                if (type.maxPayloadBytes() >= MAX_OVERSIZED_PAYLOAD) {
                    throw new IllegalArgumentException("entities." + type.entityType() + ".maxPayloadBytes is "
                            + type.maxPayloadBytes() + ": an oversized payload would exceed Kafka's message size");
                }
                byte[] big = new byte[type.maxPayloadBytes() + 1];
                java.util.Arrays.fill(big, (byte) 'x');
                b.setPayload(ByteBuffer.wrap(big));
            }
            default -> throw new IllegalStateException("unhandled " + kind);
        }
        DomainEvent e = b.build();
        return new Oracle.PoisonRecord(
                kind,
                topic,
                e.getEntityId().getBytes(StandardCharsets.UTF_8),
                encoder.encode(topic, e),
                oracle.key(e.getEntityType(), e.getEntityId()));
    }

    private String unknownType() {
        String t = "no-such-type";
        while (oracle.policies().containsKey(t)) {
            t = t + "-x";
        }
        return t;
    }
}
