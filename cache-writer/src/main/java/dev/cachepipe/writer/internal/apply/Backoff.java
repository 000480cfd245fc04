package dev.cachepipe.writer.internal.apply;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff between {@code min} and {@code max}: the n-th delay is drawn from [d/2, d] with
 * {@code d = min(max, min * 2^n)}, so that several writers do not retry in lockstep. Not thread-safe.
 */
public final class Backoff {
    private final long minNanos;
    private final long maxNanos;
    private final DoubleSupplier random;
    private int attempts;

    public Backoff(Duration min, Duration max) {
        this(min, max, () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble());
    }

    /** {@code random} returns values in [0, 1]; tests pass a fixed one. */
    Backoff(Duration min, Duration max, DoubleSupplier random) {
        if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max but was min=" + min + ", max=" + max);
        }
        this.minNanos = min.toNanos();
        this.maxNanos = max.toNanos();
        this.random = random;
    }

    /** The delay before the next retry; each call doubles the ceiling up to {@code max}. */
    public Duration next() {
        long ceiling = minNanos;
        for (int i = 0; i < attempts && ceiling < maxNanos; i++) {
            ceiling = ceiling > maxNanos / 2 ? maxNanos : ceiling * 2;
        }
        ceiling = Math.min(ceiling, maxNanos);
        attempts++;
        long half = ceiling / 2;
        long spread = ceiling - half;
        long jitter = Math.min(spread, (long) (random.getAsDouble() * (spread + 1)));
        return Duration.ofNanos(Math.max(half + jitter, 1));
    }

    /** Starts again from {@code min} (after a success). */
    public void reset() {
        attempts = 0;
    }

    /** Retries since the last {@link #reset()}. */
    public int attempts() {
        return attempts;
    }
}
