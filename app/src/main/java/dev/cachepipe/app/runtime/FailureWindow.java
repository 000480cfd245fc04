package dev.cachepipe.app.runtime;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;

/** Counts failures in a sliding time window: "more than {@code max} within {@code window}" means give up. */
final class FailureWindow {
    private final int max;
    private final long windowNanos;
    private final Deque<Long> times = new ArrayDeque<>();

    FailureWindow(int max, Duration window) {
        this.max = max;
        this.windowNanos = window.toNanos();
    }

    /** Records a failure at {@code nowNanos}; true when there were more than {@code max} within the window. */
    synchronized boolean recordAndCheck(long nowNanos) {
        times.addLast(nowNanos);
        while (!times.isEmpty() && nowNanos - times.peekFirst() > windowNanos) {
            times.removeFirst();
        }
        return times.size() > max;
    }

    synchronized int count() {
        return times.size();
    }
}
