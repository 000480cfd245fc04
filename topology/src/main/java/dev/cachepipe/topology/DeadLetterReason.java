package dev.cachepipe.topology;

/**
 * Machine-readable reasons of a dead letter: the value of its {@link CachepipeTopology#DLQ_REASON_HEADER} header and
 * the {@link TopologyMeters#REASON} tag of {@link TopologyMeters#DEAD_LETTERS}.
 */
public enum DeadLetterReason {
    /**
     * The value fits neither accepted wire format (Avro single-object encoding, the Confluent wire format; or not the
     * one configured for its topic), or its Avro body is corrupt.
     */
    UNDECODABLE("undecodable"),
    /**
     * The value's writer schema is unknown: a single-object fingerprint that is not the current schema nor one of
     * {@code schemas.domainEventWriterSchemas}, or a Confluent schema id that the registry (or the schema directory)
     * does not have.
     */
    UNKNOWN_SCHEMA("unknown-schema"),
    /**
     * The value's writer schema is known (from the registry or the schema directory) but records written with it
     * cannot be read into the current DomainEvent by Avro schema resolution, or it is not an Avro schema.
     */
    INCOMPATIBLE_SCHEMA("incompatible-schema"),
    /** The value is null (a Kafka tombstone on a domain topic). */
    NULL_VALUE("null-value"),
    /** entityType does not match {@code [a-z0-9_-]{1,64}}. */
    INVALID_ENTITY_TYPE("invalid-entity-type"),
    /** entityType has no policy. */
    UNKNOWN_ENTITY_TYPE("unknown-entity-type"),
    /** entityType has a policy, but the policy does not list the topic the event arrived on. */
    ENTITY_TYPE_NOT_ON_TOPIC("entity-type-not-on-topic"),
    /** entityId is empty, longer than 512 bytes of UTF-8 or contains a control character. */
    INVALID_ENTITY_ID("invalid-entity-id"),
    /** version is negative. */
    NEGATIVE_VERSION("negative-version"),
    /** An UPSERT without payload. */
    MISSING_PAYLOAD("missing-payload"),
    /** The payload exceeds the entity type's maxPayloadBytes. */
    PAYLOAD_TOO_LARGE("payload-too-large"),
    /**
     * The Kafka record key is not the event's entityId: events of one entity could then reach different partitions
     * and tasks, and the newest-version check per key would not see them all.
     */
    KEY_MISMATCH("key-mismatch"),
    /** The mutation produced from the event was refused by Kafka as too large (raise max.request.size). */
    MUTATION_TOO_LARGE("mutation-too-large");

    private final String code;

    DeadLetterReason(String code) {
        this.code = code;
    }

    /** The header value. */
    public String code() {
        return code;
    }
}
