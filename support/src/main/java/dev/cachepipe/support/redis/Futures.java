package dev.cachepipe.support.redis;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Helpers for the futures Lettuce replies with. */
public final class Futures {
    private Futures() {}

    /** The cause behind the {@link CompletionException} and {@link ExecutionException} wrappers of futures. */
    public static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
