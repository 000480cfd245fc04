package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.writer.internal.apply.RetryLoop;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A rebuild's way to wait between retries: sleeps in steps of at most 100 ms and stops as soon as it is cancelled. */
final class CancellableSleep implements RetryLoop.Waiter {
    private final BooleanSupplier cancelled;

    CancellableSleep(BooleanSupplier cancelled) {
        this.cancelled = cancelled;
    }

    @Override
    public boolean stopped() {
        return cancelled.getAsBoolean();
    }

    @Override
    public boolean await(Duration delay) {
        long deadline = System.nanoTime() + delay.toNanos();
        while (!cancelled.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 100)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }
}
