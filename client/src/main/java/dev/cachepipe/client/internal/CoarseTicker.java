package dev.cachepipe.client.internal;

import com.github.benmanes.caffeine.cache.Ticker;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * L1's clock: {@link System#nanoTime()} sampled every {@link #RESOLUTION_NANOS} by one daemon thread, so that reading
 * it (Caffeine reads its ticker on every hit, to check {@code expireAfterWrite}) is a volatile load instead of a
 * clock call, which costs most of an L1 hit on machines whose clock source is slow. The price: an L1 entry may
 * outlive its {@code l1ExpireAfterWrite} by up to the resolution plus the sampler's scheduling delay (milliseconds,
 * against a lifetime of minutes); invalidations do not depend on it. The sampler runs while at least one client is
 * open ({@link #acquire()} / {@link #release()}).
 */
final class CoarseTicker implements Ticker {
    /** How often the clock is sampled. */
    static final long RESOLUTION_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    static final CoarseTicker INSTANCE = new CoarseTicker();

    private volatile long now = System.nanoTime();
    private int users; // guarded by this
    private Thread sampler; // guarded by this

    private CoarseTicker() {}

    @Override
    public long read() {
        return now;
    }

    /** A client starts using the ticker: the sampler runs. */
    static CoarseTicker acquire() {
        synchronized (INSTANCE) {
            if (INSTANCE.users++ == 0) {
                INSTANCE.now = System.nanoTime();
                Thread t = new Thread(INSTANCE::sample, "cachepipe-l1-clock");
                t.setDaemon(true);
                INSTANCE.sampler = t;
                t.start();
            }
        }
        return INSTANCE;
    }

    /** A client stopped using it: the sampler stops with the last one. */
    static void release() {
        synchronized (INSTANCE) {
            if (INSTANCE.users > 0 && --INSTANCE.users == 0) {
                Thread t = INSTANCE.sampler;
                INSTANCE.sampler = null;
                if (t != null) {
                    t.interrupt();
                }
            }
        }
    }

    private void sample() {
        Thread me = Thread.currentThread();
        while (!me.isInterrupted()) {
            now = System.nanoTime();
            LockSupport.parkNanos(RESOLUTION_NANOS);
        }
    }
}
