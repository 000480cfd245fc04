package dev.cachepipe.topology.internal;

import dev.cachepipe.topology.DeadLetterReason;
import java.util.Objects;

/**
 * Thrown by the policy processor for a domain event that decodes but is not valid. Kafka Streams hands it to the
 * processing exception handler, which dead-letters the source record. It carries no stack trace: it reports bad
 * input, not a bug, and is cheap to throw.
 */
public final class InvalidEventException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final DeadLetterReason reason;
    private final String detail;

    public InvalidEventException(DeadLetterReason reason, String detail) {
        super(reason.code() + ": " + detail, null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.detail = Objects.requireNonNull(detail, "detail");
    }

    public DeadLetterReason reason() {
        return reason;
    }

    /** A human-readable message that names the offending field and value, never payload bytes. */
    public String detail() {
        return detail;
    }
}
