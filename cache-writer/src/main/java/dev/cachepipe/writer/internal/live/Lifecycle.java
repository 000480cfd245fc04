package dev.cachepipe.writer.internal.live;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The live writer's lifecycle as one state machine, readable from any thread:
 *
 * <pre>
 *   NEW ──run()──► RUNNING ──close()──► CLOSING ──run() returns──► STOPPED
 *    │                └────── run() fails (fatal reason kept) ──────►┘
 *    └──close()─────────────────────────────────────────────────────►┘
 * </pre>
 */
final class Lifecycle {
    enum State {
        NEW,
        RUNNING,
        CLOSING,
        STOPPED
    }

    /** What {@link #close()} found, so the caller knows whether a running loop must be woken and awaited. */
    enum CloseFrom {
        NEW,
        RUNNING,
        ALREADY
    }

    private final CountDownLatch runExited = new CountDownLatch(1);
    private State state = State.NEW; // guarded by this
    private boolean closed; // guarded by this: close() was called
    private volatile boolean closing;
    private volatile String fatal;

    /** NEW → RUNNING. */
    synchronized void start() {
        if (state != State.NEW) {
            throw new IllegalStateException("run() may be called once, on a writer that is not closed; state was "
                    + state + (closed ? " (closed)" : ""));
        }
        state = State.RUNNING;
    }

    /** Marks the close; a writer that never ran is STOPPED at once. */
    synchronized CloseFrom close() {
        if (closed) {
            return CloseFrom.ALREADY;
        }
        closed = true;
        closing = true;
        if (state == State.RUNNING) {
            state = State.CLOSING;
            return CloseFrom.RUNNING;
        }
        state = State.STOPPED;
        return CloseFrom.NEW;
    }

    /** True once {@link #close()} was called: every loop and wait of the writer ends. */
    boolean closing() {
        return closing;
    }

    /** The loop stopped by itself on an error; {@code reason} is shown by the health reason. */
    void fail(String reason) {
        fatal = reason;
    }

    boolean failed() {
        return fatal != null;
    }

    /** run() returned: → STOPPED. */
    void exited() {
        synchronized (this) {
            state = State.STOPPED;
        }
        runExited.countDown();
    }

    /** Waits for run() to return; false if it did not within {@code timeout}. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        return runExited.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Running and not closing. */
    synchronized boolean running() {
        return state == State.RUNNING;
    }

    /** Why the writer does not run, or {@code null} while it runs. */
    synchronized String notRunningReason() {
        String f = fatal;
        if (f != null) {
            return "stopped: " + f;
        }
        return switch (state) {
            case NEW -> "not running: run() was not called yet";
            case RUNNING -> null;
            case CLOSING, STOPPED -> "closed";
        };
    }
}
