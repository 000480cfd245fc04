package dev.cachepipe.schemas;

import org.apache.kafka.common.errors.RetriableException;

/**
 * The schema registry did not answer (down, unreachable, overloaded, refusing cachepipe's credentials) within the
 * bounded wait. Not bad input: a record that needs the registry waits and is read again, it is never dead-lettered.
 * The message never carries credentials.
 */
public final class SchemaRegistryUnavailableException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public SchemaRegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Whether {@code t} or one of its causes is a registry outage. */
    public static boolean isCauseOf(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SchemaRegistryUnavailableException) {
                return true;
            }
        }
        return false;
    }
}
