package dev.cachepipe.topology.internal;

import static dev.cachepipe.topology.TopologyMeters.*;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.WireFormat;
import dev.cachepipe.topology.DeadLetterReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts the events the topology handled, by entity type and outcome ({@value TopologyMeters#EVENTS}), and the
 * dead letters by reason ({@value TopologyMeters#DEAD_LETTERS}); the names and tags are {@link TopologyMeters}.
 *
 * <p>The policy processor counts {@code mutated}, {@code ignored} (expire-only) and {@code stale} (older than the
 * version already emitted) itself. Dead letters are counted where they are decided: in the two exception handlers,
 * which Kafka Streams creates from class names and configures with the application's Streams properties; the
 * instance travels to them as the value of {@link #CONFIG_KEY} in those properties. Counting there (rather than
 * reading the dead-letter topic back) counts exactly this instance's decisions, at the moment they are made.
 *
 * <p>Entity types outside the configuration (and undecodable records) are counted as {@value
 * TopologyMeters#UNKNOWN_ENTITY_TYPE}, so that bad
 * input cannot create meters without bound. Thread-safe: every stream thread shares one instance.
 */
public final class EventMetrics {
    /** Streams property whose value is the {@link EventMetrics} instance the exception handlers count into. */
    public static final String CONFIG_KEY = "cachepipe.event.metrics";

    /** Counts nothing (no registry given). */
    public static final EventMetrics NOOP = new EventMetrics(null, Set.of());

    private final MeterRegistry registry;
    private final Set<String> entityTypes;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    private EventMetrics(MeterRegistry registry, Collection<String> entityTypes) {
        this.registry = registry;
        this.entityTypes = Set.copyOf(entityTypes);
    }

    /** Counters for these entity types, registered at 0 so that every one is visible before any event arrives. */
    public static EventMetrics create(MeterRegistry registry, Collection<String> entityTypes) {
        if (registry == null) {
            return NOOP;
        }
        EventMetrics m = new EventMetrics(registry, entityTypes);
        for (String type : entityTypes) {
            for (String outcome : new String[] {MUTATED, IGNORED, STALE, DEAD_LETTERED}) {
                m.events(type, outcome);
            }
        }
        m.events(UNKNOWN_ENTITY_TYPE, DEAD_LETTERED);
        for (DeadLetterReason r : DeadLetterReason.values()) {
            m.deadLetters(r.code());
        }
        m.versionsForgotten(0);
        m.fencedCounter(DeadLetterReason.PAYLOAD_TOO_LARGE.code());
        m.fencedCounter(DeadLetterReason.MUTATION_TOO_LARGE.code());
        return m;
    }

    /** The instance passed in Streams properties under {@link #CONFIG_KEY}, or {@link #NOOP}. */
    public static EventMetrics from(Map<String, ?> configs) {
        Object o = configs == null ? null : configs.get(CONFIG_KEY);
        return o instanceof EventMetrics m ? m : NOOP;
    }

    void mutated(String entityType) {
        count(entityType, MUTATED);
    }

    void ignored(String entityType) {
        count(entityType, IGNORED);
    }

    void stale(String entityType) {
        count(entityType, STALE);
    }

    /** A dead letter; {@code value} is the record's value if it decoded (a DomainEvent), else anything. */
    void deadLettered(Object value, String reason) {
        if (registry == null) {
            return;
        }
        String type = value instanceof DomainEvent e ? e.getEntityType() : null;
        count(type, DEAD_LETTERED);
        deadLetters(reason).increment();
    }

    /**
     * A dead letter decided after the policy emitted its mutation (Kafka refused the mutation): counted by reason
     * only, since its event was counted {@code mutated} already.
     */
    void deadLetteredAfterEmit(String reason) {
        if (registry != null) {
            deadLetters(reason).increment();
        }
    }

    /** A key fenced at the version of an update that was dead-lettered for {@code reason}. */
    void fenced(String reason) {
        if (registry != null) {
            fencedCounter(reason).increment();
        }
    }

    private Counter fencedCounter(String reason) {
        String r = reason == null ? UNKNOWN_REASON : reason;
        return counters.computeIfAbsent(
                "fenced\0" + r,
                k -> Counter.builder(FENCED)
                        .description("Keys fenced at the version of an update that was dead-lettered (readers miss"
                                + " and load instead of being served the older value), by dead-letter reason")
                        .tag(REASON, r)
                        .register(registry));
    }

    /** Per format, the decoded-records counter of each writer schema counted so far (at most MAX_SCHEMA_TAGS). */
    private final Map<WireFormat, Map<Long, Counter>> decodedBySchema = new ConcurrentHashMap<>();

    /**
     * A record decoded in {@code format} with writer schema {@code schema} (a Confluent schema id, or a single-object
     * fingerprint).
     */
    void decoded(WireFormat format, long schema) {
        if (registry == null) {
            return;
        }
        Map<Long, Counter> bySchema = decodedBySchema.computeIfAbsent(format, f -> new ConcurrentHashMap<>());
        Counter c = bySchema.get(schema);
        if (c == null) {
            boolean room = bySchema.size() < MAX_SCHEMA_TAGS;
            String tag = !room
                    ? OTHER_SCHEMAS
                    : format == WireFormat.CONFLUENT ? Long.toString(schema) : String.format("0x%016x", schema);
            c = Counter.builder(EVENTS_DECODED)
                    .description("Domain event records decoded, by wire format and writer schema (Confluent schema id,"
                            + " or single-object fingerprint)")
                    .tag(FORMAT, format.configName())
                    .tag(SCHEMA_ID, tag)
                    .register(registry);
            if (room) {
                bySchema.put(schema, c);
            }
        }
        c.increment();
    }

    /** Keys whose highest emitted version was forgotten after the retention. */
    void versionsForgotten(int keys) {
        if (registry != null) {
            counters.computeIfAbsent(
                            VERSIONS_FORGOTTEN,
                            k -> Counter.builder(VERSIONS_FORGOTTEN)
                                    .description("Keys whose highest emitted version the topology forgot because it"
                                            + " was not raised within topology.versionRetention")
                                    .register(registry))
                    .increment(keys);
        }
    }

    /** Per outcome, the counter of each entity type counted so far: one map lookup per event. */
    private final Map<String, Map<String, Counter>> byOutcome = new ConcurrentHashMap<>();

    private void count(String entityType, String outcome) {
        if (registry == null) {
            return;
        }
        Map<String, Counter> byType = byOutcome.computeIfAbsent(outcome, o -> new ConcurrentHashMap<>());
        Counter c = entityType == null ? null : byType.get(entityType);
        if (c == null) {
            String type = entityType != null && entityTypes.contains(entityType) ? entityType : UNKNOWN_ENTITY_TYPE;
            c = events(type, outcome);
            if (type.equals(entityType)) {
                byType.put(entityType, c); // only configured types: bad input must not grow the map
            }
        }
        c.increment();
    }

    private Counter events(String type, String outcome) {
        return counters.computeIfAbsent(
                type + '\0' + outcome,
                k -> Counter.builder(EVENTS)
                        .description(
                                "Domain events handled by the topology, by entity type and outcome: mutated (a cache"
                                        + " mutation was emitted), ignored (expire-only policy), stale (older than the version"
                                        + " already emitted), dead_lettered")
                        .tag(ENTITY_TYPE, type)
                        .tag(OUTCOME, outcome)
                        .register(registry));
    }

    private Counter deadLetters(String reason) {
        String r = reason == null ? UNKNOWN_REASON : reason;
        return counters.computeIfAbsent(
                "dlq\0" + r,
                k -> Counter.builder(DEAD_LETTERS)
                        .description("Records sent to the dead-letter topic, by reason")
                        .tag(REASON, r)
                        .register(registry));
    }
}
