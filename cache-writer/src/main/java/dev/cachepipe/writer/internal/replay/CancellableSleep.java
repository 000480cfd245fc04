package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.writer.internal.apply.RetryLoop;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** A rebuild's way to wait between retries: sleeps in steps of at most 100 ms and stops as soon as it is cancelled. */
final class CancellableSleep implements RetryLoop.Waiter {
    private static final long MAX_STEP_MILLIS = 100;

    private final BooleanSupplier cancelled;
    private boolean interrupted;

    CancellableSleep(BooleanSupplier cancelled) {
        this.cancelled = cancelled;
    }

    @Override
    public boolean stopped() {
        return interrupted || cancelled.getAsBoolean();
    }

    @Override
    public void step(Duration atMost) {
        try {
            Thread.sleep(Math.max(1, Math.min(atMost.toMillis(), MAX_STEP_MILLIS)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            interrupted = true;
        }
    }
}
