package dev.cachepipe.writer.internal.replay;

import java.net.InetAddress;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rebuild's part in the marker protocol (see {@link dev.cachepipe.writer.CacheRebuild}): the lease it holds
 * while it runs, renewed every third of {@link #LEASE}, and the epoch it writes when a full rebuild completed. Lost
 * when Redis loses its data again or another instance takes over an expired lease.
 */
final class RebuildLease {
    private static final Logger log = LoggerFactory.getLogger("dev.cachepipe.writer.CacheRebuild");

    /** How long a lease lasts without renewal. */
    static final Duration LEASE = Duration.ofSeconds(30);

    private final Marker marker;
    private final String token;
    private long lastRenewNanos = System.nanoTime();

    RebuildLease(Marker marker, String token) {
        this.marker = marker;
        this.token = token;
    }

    /** A token for one rebuild's lease (also the epoch of a completed one). */
    static String newToken() {
        return UUID.randomUUID().toString();
    }

    /** {@code what on host pid N}, for the marker's lockHolder field and logs. */
    static String holder(String what) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "unknown host";
        }
        return what + " on " + host + " pid " + ProcessHandle.current().pid();
    }

    /** {@link Marker#BEGIN_ACQUIRED}, {@link Marker#BEGIN_NOT_NEEDED} or {@link Marker#BEGIN_BUSY}. */
    long begin(boolean force, String holder) {
        return marker.begin(token, LEASE, force, holder);
    }

    /** Renews the lease if a third of it passed; false if it was lost. Redis being away is not a loss (yet). */
    boolean renewIfDue() {
        if (System.nanoTime() - lastRenewNanos < LEASE.toNanos() / 3) {
            return true;
        }
        try {
            boolean ok = marker.renew(token, LEASE);
            lastRenewNanos = System.nanoTime();
            if (!ok) {
                log.warn("The rebuild lost its lease: Redis lost its data again, or another instance took over");
            }
            return ok;
        } catch (RuntimeException e) {
            return true; // the writes will wait for Redis; the lease is checked again next time
        }
    }

    /** Writes a new epoch (Redis complete) and releases the lease; false if the lease was lost meanwhile. */
    boolean complete() {
        return marker.complete(token, newToken());
    }

    /** Gives the lease up (a rebuild that did not complete); it expires by itself if Redis does not answer. */
    void releaseQuietly() {
        try {
            marker.release(token);
        } catch (RuntimeException e) {
            log.debug("Could not release the rebuild lease (it expires by itself): {}", e.toString());
        }
    }
}
