package dev.cachepipe.client.internal;

import dev.cachepipe.schemas.Redact;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A load lease on one id, held by this client or not; releasing one that is not held does nothing. Not API.
 *
 * <p>Key: {@code <keyPrefix>::lease:<entityType>:<entityId>} ({@link dev.cachepipe.schemas.RedisLayout#leaseKeyBase}),
 * which never collides with an entry key. A lease holds a random token for {@code leaseTime}; a loader's "not found"
 * replaces it with {@link #NOT_FOUND_MARKER} for {@code leaseTime} so that waiting instances learn it too. A fill
 * releases the lease right after it stores (see {@link RedisL2#fill}).
 */
final class Lease {
    // Logged under the entity cache, as before the load path had classes of its own.
    private static final Logger log = LoggerFactory.getLogger(DefaultEntityCache.class);

    /** Lease value left for waiting instances when the loader found nothing. */
    static final byte[] NOT_FOUND_MARKER = "!notfound".getBytes(StandardCharsets.US_ASCII);

    /** No lease: loading without one (Redis refused it, or the wait for another instance timed out). */
    static final Lease NOT_HELD = new Lease(null, null, null, 0, null);

    private final RedisL2 l2;
    private final byte[] key;
    private final byte[] token;
    private final long leaseMillis;
    private final String entityType;

    private Lease(RedisL2 l2, byte[] key, byte[] token, long leaseMillis, String entityType) {
        this.l2 = l2;
        this.key = key;
        this.token = token;
        this.leaseMillis = leaseMillis;
        this.entityType = entityType;
    }

    /** The lease on {@code key} that this client took with {@code token}. */
    static Lease held(RedisL2 l2, byte[] key, byte[] token, long leaseMillis, String entityType) {
        return new Lease(l2, key, token, leaseMillis, entityType);
    }

    boolean held() {
        return token != null;
    }

    byte[] key() {
        return key;
    }

    byte[] token() {
        return token;
    }

    /** Gives the lease back, if held; never throws (it expires by itself after {@code leaseTime}). */
    void release() {
        releaseLeaving(null);
    }

    /** Replaces the lease, if held, by {@link #NOT_FOUND_MARKER} for {@code leaseTime}; never throws. */
    void releaseNotFound() {
        releaseLeaving(NOT_FOUND_MARKER);
    }

    private void releaseLeaving(byte[] marker) {
        if (!held()) {
            return;
        }
        try {
            l2.release(key, token, marker, leaseMillis);
        } catch (RuntimeException e) {
            // The lease expires by itself after leaseTime.
            log.debug("releasing a lease of {} failed: {}", entityType, Redact.describe(e));
        }
    }
}
