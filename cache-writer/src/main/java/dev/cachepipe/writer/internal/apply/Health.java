package dev.cachepipe.writer.internal.apply;

import java.time.Duration;
import org.slf4j.Logger;

/**
 * Availability of one dependency (Redis, Kafka, the mutation schema) as a driver sees it. Logs once per state change:
 * WARN "{name} unavailable: {reason}" when it fails, INFO "{name} available again after {duration}" when it recovers,
 * and then runs the recovery action. Written by the driver's thread, read from any thread.
 */
public final class Health {
    private final String name;
    private final Logger log;
    private final Runnable onRecovery;
    private volatile String failure; // null while available
    private long downSinceNanos;

    public Health(String name, Logger log) {
        this(name, log, () -> {});
    }

    /** As {@link #Health(String, Logger)}; {@code onRecovery} runs on the thread that saw it available again. */
    public Health(String name, Logger log, Runnable onRecovery) {
        this.name = name;
        this.log = log;
        this.onRecovery = onRecovery;
    }

    public boolean available() {
        return failure == null;
    }

    /** Why it is unavailable ({@code "<name> unavailable: <reason>"}), or {@code null}. */
    public String failure() {
        String f = failure;
        return f == null ? null : name + " unavailable: " + f;
    }

    public void down(String reason) {
        if (failure == null) {
            downSinceNanos = System.nanoTime();
            log.warn("{} unavailable: {}", name, reason);
        } else if (log.isDebugEnabled()) {
            log.debug("{} still unavailable: {}", name, reason);
        }
        failure = reason;
    }

    /** Marks it available; after an outage, logs the recovery and runs the recovery action. */
    public void up() {
        if (failure != null) {
            Duration outage = Duration.ofNanos(System.nanoTime() - downSinceNanos);
            failure = null;
            log.info("{} available again after {}", name, format(outage));
            onRecovery.run();
        }
    }

    public static String format(Duration d) {
        long ms = d.toMillis();
        return ms < 10_000 ? ms + " ms" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }
}
