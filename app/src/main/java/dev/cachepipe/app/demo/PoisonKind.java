package dev.cachepipe.app.demo;

/**
 * Kinds of bad input the {@link EventGenerator} can publish, each with the dead-letter reason code the topology is
 * expected to put in the {@code cachepipe.dlq.reason} header.
 */
public enum PoisonKind {
    /** Bytes that are not Avro single-object encoding. */
    NOT_AVRO("undecodable"),
    /** A valid event of an entity type that has no policy. */
    UNKNOWN_ENTITY_TYPE("unknown-entity-type"),
    /** A valid event with version -1. */
    NEGATIVE_VERSION("negative-version"),
    /** A valid event with an empty entityId. */
    EMPTY_ID("invalid-entity-id"),
    /** A valid event whose entityId is longer than 512 bytes. */
    OVERSIZED_ID("invalid-entity-id"),
    /** An UPSERT without payload. */
    UPSERT_WITHOUT_PAYLOAD("missing-payload"),
    /** An UPSERT whose payload is one byte over the entity type's maxPayloadBytes. */
    PAYLOAD_TOO_LARGE("payload-too-large");

    private final String reason;

    PoisonKind(String reason) {
        this.reason = reason;
    }

    /** The reason code expected in the dead letter's {@code cachepipe.dlq.reason} header. */
    public String expectedReason() {
        return reason;
    }
}
