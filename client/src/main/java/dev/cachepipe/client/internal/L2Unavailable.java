package dev.cachepipe.client.internal;

/**
 * Redis did not answer (down, disconnected, timed out, paused, loading) or the client is waiting before it tries
 * again. Thrown without a stack trace: it is control flow on the "Redis down" path, which must stay cheap. Not API.
 */
public final class L2Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    static final L2Unavailable INSTANCE = new L2Unavailable();

    private L2Unavailable() {
        super("Redis unavailable", null, false, false);
    }
}
