package dev.cachepipe.client.internal;

import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.schemas.Redact;
import io.lettuce.core.RedisCommandExecutionException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads an id's entry from Redis for one entity type, decodes it with the codec and offers it to L1 at the epoch
 * taken before the command was sent. Not API.
 */
final class EntryReader<T> {
    // Logged under the entity cache, as before the reads had a class of their own.
    private static final Logger log = LoggerFactory.getLogger(DefaultEntityCache.class);

    /** How often a read retries Redis when its reply was older than an invalidation seen meanwhile. */
    private static final int STALE_READ_ATTEMPTS = 3;

    private final EntityContext<T> ctx;
    private final AtomicBoolean decodeErrorLogged = new AtomicBoolean();

    EntryReader(EntityContext<T> ctx) {
        this.ctx = ctx;
    }

    /**
     * What Redis said about an id.
     *
     * @param hit a value or a tombstone, already offered to L1 (what to return); null on a miss
     * @param expect on a miss, what an unversioned fill may expect ({@link FillExpectation#DO_NOT_FILL} on a hit)
     * @param error Redis did not answer
     */
    record Lookup(L1Entry hit, FillExpectation expect, boolean error) {
        static final Lookup ERROR = new Lookup(null, FillExpectation.DO_NOT_FILL, true);
        private static final Lookup ABSENT = new Lookup(null, FillExpectation.ABSENT, false);
        private static final Lookup UNFILLABLE = new Lookup(null, FillExpectation.DO_NOT_FILL, false);

        static Lookup hit(L1Entry entry) {
            return new Lookup(entry, FillExpectation.DO_NOT_FILL, false);
        }

        static Lookup miss(FillExpectation expect) {
            if (expect == FillExpectation.ABSENT) {
                return ABSENT;
            }
            return expect == FillExpectation.DO_NOT_FILL ? UNFILLABLE : new Lookup(null, expect, false);
        }
    }

    /** One HMGET of the entry, counted at L2; retried when the reply is older than an invalidation seen meanwhile. */
    Lookup read(String id, byte[] key) {
        for (int attempt = 1; ; attempt++) {
            long epoch = ctx.freshness().epoch();
            Map<String, byte[]> hash;
            try {
                hash = ctx.l2().read(key);
            } catch (L2Unavailable e) {
                ctx.metrics().l2Errors.increment();
                return Lookup.ERROR;
            } catch (RedisCommandExecutionException e) {
                ctx.metrics().l2Misses.increment();
                decodeError("Redis refused to read the entry (" + e.getMessage() + ")", null);
                return Lookup.UNFILLABLE;
            }
            Decoded d = decode(hash);
            if (d.entry() == null) {
                ctx.metrics().l2Misses.increment();
                return Lookup.miss(d.expect());
            }
            LocalCache.Offer offer = ctx.l1().offerVersioned(id, d.entry(), epoch);
            if (!offer.stale()) {
                ctx.metrics().l2Hits.increment();
                return Lookup.hit(offer.entry());
            }
            ctx.metrics().l1Rejected.increment();
            if (attempt >= STALE_READ_ATTEMPTS) {
                ctx.metrics().l2Misses.increment();
                return Lookup.UNFILLABLE;
            }
        }
    }

    /** An entry seen while acquiring or waiting for a lease (not counted as a get), read at {@code epoch}. */
    Lookup examine(String id, Map<String, byte[]> hash, long epoch) {
        Decoded d = decode(hash);
        if (d.entry() == null) {
            return Lookup.miss(d.expect());
        }
        LocalCache.Offer offer = ctx.l1().offerVersioned(id, d.entry(), epoch);
        if (!offer.stale()) {
            return Lookup.hit(offer.entry());
        }
        ctx.metrics().l1Rejected.increment();
        return Lookup.UNFILLABLE;
    }

    /**
     * A decoded HMGET reply: an L1 entry (value or tombstone), or none and what an unversioned fill may expect
     * (absent, a fence, or {@link FillExpectation#DO_NOT_FILL} for something this client cannot read).
     */
    record Decoded(L1Entry entry, FillExpectation expect) {
        static final Decoded ABSENT = new Decoded(null, FillExpectation.ABSENT);
        static final Decoded INVALID = new Decoded(null, FillExpectation.DO_NOT_FILL);

        private static Decoded of(L1Entry entry) {
            return new Decoded(entry, FillExpectation.DO_NOT_FILL);
        }
    }

    Decoded decode(Map<String, byte[]> hash) {
        CacheEntry entry;
        try {
            Optional<CacheEntry> decoded = CacheEntry.decode(hash);
            if (decoded.isEmpty()) {
                return Decoded.ABSENT;
            }
            entry = decoded.get();
        } catch (IllegalArgumentException e) {
            decodeError("Redis holds something that is not a cachepipe entry: " + e.getMessage(), null);
            return Decoded.INVALID;
        }
        return switch (entry.state()) {
            case TOMBSTONE -> Decoded.of(L1Entry.notFound(entry.version()));
            case FENCE -> new Decoded(null, FillExpectation.fence(entry.version()));
            case VALUE -> {
                if (!ctx.codec().accepts(entry.contentType())) {
                    decodeError(
                            "entry has content type " + entry.contentType() + ", which " + ctx.codec()
                                    + " does not accept",
                            null);
                    yield Decoded.INVALID;
                }
                try {
                    T value = ctx.codec().decode(entry.payload());
                    yield Decoded.of(L1Entry.value(entry.version(), Objects.requireNonNull(value, "decoded")));
                } catch (RuntimeException e) {
                    decodeError("cannot decode an entry with " + ctx.codec(), e);
                    yield Decoded.INVALID;
                }
            }
        };
    }

    /** Counts a payload this client cannot read; logs the first one at WARN. */
    void decodeError(String what, Throwable cause) {
        ctx.metrics().decodeErrors.increment();
        if (decodeErrorLogged.compareAndSet(false, true)) {
            log.warn(
                    "Entity type {}: {}{}; such reads count as misses (logged once; see"
                            + " cachepipe.client.decode.errors)",
                    ctx.entityType(),
                    what,
                    cause == null ? "" : ": " + Redact.describe(cause));
        } else if (log.isDebugEnabled()) {
            log.debug("Entity type {}: {}", ctx.entityType(), what);
        }
    }
}
