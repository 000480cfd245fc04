package dev.cachepipe.writer.internal.apply;

import java.time.Duration;

/**
 * The one retry loop of the writer: attempt → mark the dependency's {@link Health} → count the retry → back off →
 * wait unless stopped. The driver plugs in how it waits: the live writer keeps polling (paused) so that it keeps its
 * consumer-group membership, a rebuild sleeps and stops when cancelled.
 */
public final class RetryLoop {
    /** How a driver waits between attempts, and whether it must stop. */
    public interface Waiter {
        /** True when the driver must stop (closing, cancelled): no further attempt. */
        boolean stopped();

        /** Waits at most {@code atMost} in the driver's way (a short step: {@link #stopped()} is asked between). */
        void step(Duration atMost);

        /** Waits {@code delay} in steps; false if the driver must stop first. */
        default boolean await(Duration delay) {
            long deadline = System.nanoTime() + delay.toNanos();
            while (!stopped()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return true;
                }
                step(Duration.ofNanos(left));
            }
            return false;
        }
    }

    /** One try: {@code null} when it succeeded, else why not (shown in health reasons and logs). */
    @FunctionalInterface
    public interface Attempt {
        String tryOnce();
    }

    private final Duration backoffMin;
    private final Duration backoffMax;
    private final Health health;
    private final Runnable onRetry;
    private final Waiter waiter;

    /**
     * @param health marked down with every failure and up with the success
     * @param onRetry runs before each wait (e.g. counts the retry)
     */
    public RetryLoop(Duration backoffMin, Duration backoffMax, Health health, Runnable onRetry, Waiter waiter) {
        this.backoffMin = backoffMin;
        this.backoffMax = backoffMax;
        this.health = health;
        this.onRetry = onRetry;
        this.waiter = waiter;
    }

    /** Whether the driver must stop: no further attempt would be made. */
    public boolean stopped() {
        return waiter.stopped();
    }

    /** Tries until an attempt succeeds (true), or the driver must stop first (false). */
    public boolean run(Attempt attempt) {
        Backoff backoff = new Backoff(backoffMin, backoffMax);
        while (!waiter.stopped()) {
            String failure = attempt.tryOnce();
            if (failure == null) {
                health.up();
                return true;
            }
            health.down(failure);
            onRetry.run();
            if (!waiter.await(backoff.next())) {
                return false;
            }
        }
        return false;
    }
}
