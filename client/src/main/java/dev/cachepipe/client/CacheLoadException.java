package dev.cachepipe.client;

/**
 * A {@link Loader} failed (its exception is the cause), or no source could answer a read that needed one. Unchecked;
 * a loader's own unchecked exceptions are rethrown as they are.
 */
public class CacheLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CacheLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
