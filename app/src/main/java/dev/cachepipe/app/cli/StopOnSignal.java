package dev.cachepipe.app.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Ctrl-C (or SIGTERM) during a long command: a shutdown hook asks the work to stop ({@link #getAsBoolean()} turns
 * true) and holds the JVM up to 15 s until the command has finished its current step and {@link #close()}d this.
 */
final class StopOnSignal implements BooleanSupplier, AutoCloseable {
    private final CountDownLatch done = new CountDownLatch(1);
    private final Thread hook;
    private volatile boolean requested;

    StopOnSignal(String threadName) {
        hook = new Thread(
                () -> {
                    requested = true;
                    try {
                        done.await(15, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                threadName);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether a stop was asked for. */
    @Override
    public boolean getAsBoolean() {
        return requested;
    }

    @Override
    public void close() {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down
        }
    }
}
