package dev.cachepipe.topology;

/**
 * Names and tags of the meters the topology registers: the contract that dashboards, {@code cachepipe stats} and tests
 * compile against instead of retyping strings. The {@link #REASON} of a dead letter is a {@link DeadLetterReason#code()}.
 */
public final class TopologyMeters {
    /**
     * Counter: domain events handled, tags {@link #ENTITY_TYPE} (a configured type, or {@link #UNKNOWN_ENTITY_TYPE})
     * and {@link #OUTCOME} ({@link #MUTATED}, {@link #IGNORED}, {@link #STALE}, {@link #DEAD_LETTERED}).
     */
    public static final String EVENTS = "cachepipe.events";
    /** Counter: records sent to the dead-letter topic, tag {@link #REASON}. */
    public static final String DEAD_LETTERS = "cachepipe.dead.letters";
    /** Counter: keys whose highest emitted version was forgotten after {@code topology.versionRetention}. */
    public static final String VERSIONS_FORGOTTEN = "cachepipe.versions.forgotten";
    /**
     * Counter: keys fenced at the version of an update that was dead-lettered ({@code payload-too-large}, {@code
     * mutation-too-large}), so that readers miss and load instead of being served the older value; tag {@link
     * #REASON}.
     */
    public static final String FENCED = "cachepipe.dead.letters.fenced";

    /**
     * Counter: domain event records decoded, tags {@link #FORMAT} ({@code single-object} or {@code confluent}) and
     * {@link #SCHEMA_ID} (the Confluent schema id in decimal, or the single-object writer schema's fingerprint as
     * {@code 0x} and 16 hex digits; {@link #OTHER_SCHEMAS} beyond {@link #MAX_SCHEMA_TAGS} per format).
     */
    public static final String EVENTS_DECODED = "cachepipe.events.decoded";
    /** Counter: attempts to reach the schema registry that failed and were tried again (while it is down). */
    public static final String REGISTRY_RETRIES = "cachepipe.schemas.registry.retries";
    /** Gauge: 1 while the schema registry answers (or has not been needed yet), 0 while records wait for it. */
    public static final String REGISTRY_AVAILABLE = "cachepipe.schemas.registry.available";

    /** Tag of {@link #EVENTS_DECODED}: the record's wire format. */
    public static final String FORMAT = "format";
    /** Tag of {@link #EVENTS_DECODED}: the record's writer schema. */
    public static final String SCHEMA_ID = "schema_id";
    /** {@link #SCHEMA_ID} of writer schemas beyond the first {@link #MAX_SCHEMA_TAGS} of a format. */
    public static final String OTHER_SCHEMAS = "other";
    /** Distinct {@link #SCHEMA_ID} values per format, so that the number of meters stays bounded. */
    public static final int MAX_SCHEMA_TAGS = 100;

    /** Tag of {@link #EVENTS}: the event's entity type. */
    public static final String ENTITY_TYPE = "entity_type";
    /** Tag of {@link #EVENTS}: what the topology did with the event. */
    public static final String OUTCOME = "outcome";
    /** Tag of {@link #DEAD_LETTERS}: the {@link DeadLetterReason#code()} in the dead letter's reason header. */
    public static final String REASON = "reason";

    /** {@link #OUTCOME}: a cache mutation was emitted. */
    public static final String MUTATED = "mutated";
    /** {@link #OUTCOME}: the entity type's policy is expire-only. */
    public static final String IGNORED = "ignored";
    /** {@link #OUTCOME}: older than the version already emitted; dropped. */
    public static final String STALE = "stale";
    /** {@link #OUTCOME}: sent to the dead-letter topic. */
    public static final String DEAD_LETTERED = "dead_lettered";

    /**
     * {@link #ENTITY_TYPE} of undecodable records and of types that are not configured (so that bad input cannot
     * create meters without bound).
     */
    public static final String UNKNOWN_ENTITY_TYPE = "unknown";
    /** {@link #REASON} of a dead letter decided without a reason code. */
    public static final String UNKNOWN_REASON = "unknown";

    private TopologyMeters() {}
}
