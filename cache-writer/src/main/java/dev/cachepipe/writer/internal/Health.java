package dev.cachepipe.writer.internal;

import java.time.Duration;
import org.slf4j.Logger;

/**
 * Availability of one dependency (Redis or Kafka) as the writer sees it. Logs once per state change: WARN
 * "{name} unavailable: {reason}" when it fails, INFO "{name} available again after {duration}" when it recovers.
 * Written by the writer thread, read from any thread.
 */
final class Health {
    private final String name;
    private final Logger log;
    private volatile String failure; // null while available
    private long downSinceNanos;

    Health(String name, Logger log) {
        this.name = name;
        this.log = log;
    }

    boolean available() {
        return failure == null;
    }

    /** Why it is unavailable, or {@code null}. */
    String failure() {
        String f = failure;
        return f == null ? null : name + " unavailable: " + f;
    }

    void down(String reason) {
        if (failure == null) {
            downSinceNanos = System.nanoTime();
            log.warn("{} unavailable: {}", name, reason);
        } else if (log.isDebugEnabled()) {
            log.debug("{} still unavailable: {}", name, reason);
        }
        failure = reason;
    }

    /** Marks it available; true if it was unavailable until now. */
    boolean up() {
        if (failure != null) {
            Duration outage = Duration.ofNanos(System.nanoTime() - downSinceNanos);
            failure = null;
            log.info("{} available again after {}", name, format(outage));
            return true;
        }
        return false;
    }

    static String format(Duration d) {
        long ms = d.toMillis();
        return ms < 10_000 ? ms + " ms" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }
}
