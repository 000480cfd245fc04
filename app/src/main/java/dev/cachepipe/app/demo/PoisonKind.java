package dev.cachepipe.app.demo;

import dev.cachepipe.topology.DeadLetterReason;

/**
 * Kinds of bad input the {@link EventGenerator} can publish, each with the {@link DeadLetterReason} the topology is
 * expected to put in the {@code cachepipe.dlq.reason} header.
 */
public enum PoisonKind {
    /** Bytes that are not Avro single-object encoding. */
    NOT_AVRO(DeadLetterReason.UNDECODABLE),
    /** A valid event of an entity type that has no policy. */
    UNKNOWN_ENTITY_TYPE(DeadLetterReason.UNKNOWN_ENTITY_TYPE),
    /** A valid event with version -1. */
    NEGATIVE_VERSION(DeadLetterReason.NEGATIVE_VERSION),
    /** A valid event with an empty entityId. */
    EMPTY_ID(DeadLetterReason.INVALID_ENTITY_ID),
    /** A valid event whose entityId is longer than 512 bytes. */
    OVERSIZED_ID(DeadLetterReason.INVALID_ENTITY_ID),
    /** An UPSERT without payload. */
    UPSERT_WITHOUT_PAYLOAD(DeadLetterReason.MISSING_PAYLOAD),
    /** An UPSERT whose payload is one byte over the entity type's maxPayloadBytes. */
    PAYLOAD_TOO_LARGE(DeadLetterReason.PAYLOAD_TOO_LARGE);

    private final DeadLetterReason reason;

    PoisonKind(DeadLetterReason reason) {
        this.reason = reason;
    }

    /** The reason code expected in the dead letter's {@code cachepipe.dlq.reason} header. */
    public String expectedReason() {
        return reason.code();
    }
}
