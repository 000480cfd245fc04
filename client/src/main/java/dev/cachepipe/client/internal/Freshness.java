package dev.cachepipe.client.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Client-wide guard of L1 freshness, shared by every entity cache and the invalidation listener. Not API.
 *
 * <p>A reader takes {@link #epoch()} <em>before</em> it sends a Redis command, and may put the reply into L1 only
 * while {@link #canCache(long)} holds for that epoch. The listener bumps the epoch whenever it may have missed
 * invalidations (resync, outage, re-enabling L1) and then clears L1, so a reply that was read before such a gap is
 * never cached.
 */
public final class Freshness {
    private final AtomicLong epoch = new AtomicLong();
    private volatile boolean enabled;

    /** The current epoch. */
    public long epoch() {
        return epoch.get();
    }

    /** Whether a value read at {@code epochAtStart} may still go into L1. */
    public boolean canCache(long epochAtStart) {
        return enabled && epoch.get() == epochAtStart;
    }

    /** Whether L1 is in use (the listener is positioned and in contact). */
    public boolean enabled() {
        return enabled;
    }

    /** Invalidates every read in flight. Call before clearing L1. */
    public void bump() {
        epoch.incrementAndGet();
    }

    /** Turns L1 on or off; bumps the epoch either way. */
    public void setEnabled(boolean on) {
        enabled = on;
        epoch.incrementAndGet();
    }
}
