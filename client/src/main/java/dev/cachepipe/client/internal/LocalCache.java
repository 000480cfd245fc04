package dev.cachepipe.client.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The L1 of one entity type: a Caffeine cache of {@link L1Entry} by entity id whose versions only move forward, plus
 * the highest version seen per recently invalidated id (the <em>watermark</em>): from invalidations, and from L1
 * entries evicted by size, expiry or {@link #invalidate}. Not API.
 *
 * <p>Readers and the listener change an id's entry only inside {@code compute} on that id, and the listener raises
 * the watermark before it computes, so a Redis reply that was read before an invalidation and is older than it
 * can never land in L1 after the invalidation was applied: either the reader computes first (and the listener then
 * evicts or replaces its entry) or it sees the raised watermark.
 */
public final class LocalCache {
    /** What an invalidation did to L1. */
    public enum InvalidationResult {
        /** The entry was replaced in place (inline payload, or a deletion). */
        UPDATED,
        /** The entry was older and was evicted. */
        EVICTED,
        /** L1 already held this version or a newer one. */
        STALE,
        /** L1 held nothing for the id. */
        NOT_CACHED
    }

    /**
     * What to do with a value offered to L1.
     *
     * @param entry what the caller should return (the offered entry, or a newer one L1 already held); {@code null}
     *     when the offer was stale
     * @param cached whether the offered entry is now in L1
     */
    public record Offer(L1Entry entry, boolean cached) {
        static final Offer STALE = new Offer(null, false);

        /** The offered value is older than an invalidation seen meanwhile: neither cache nor return it. */
        public boolean stale() {
            return entry == null;
        }
    }

    private final Cache<String, L1Entry> cache; // null when L1 is off
    private final Cache<String, Long> watermarks;
    private final Freshness freshness;

    /**
     * @param maximumSize maximum entries; 0 turns L1 off (watermarks are still kept for monotonic reads)
     * @param expireAfterWrite lifetime of an entry since it was written or updated
     * @param watermarkMaximumSize how many recently invalidated ids to remember
     * @param watermarkExpiry how long to remember one
     * @param ticker time source (a fake one in tests)
     * @param executor where Caffeine runs maintenance ({@code Runnable::run} in tests)
     */
    public LocalCache(
            long maximumSize,
            Duration expireAfterWrite,
            long watermarkMaximumSize,
            Duration watermarkExpiry,
            Ticker ticker,
            Executor executor,
            Freshness freshness) {
        this.freshness = Objects.requireNonNull(freshness, "freshness");
        this.watermarks = Caffeine.newBuilder()
                .maximumSize(watermarkMaximumSize)
                .expireAfterWrite(watermarkExpiry)
                .ticker(ticker)
                .executor(executor)
                .<String, Long>evictionListener((id, version, cause) -> {
                    if (cause == RemovalCause.SIZE) {
                        // A watermark that a read in flight might still need is gone: cache none of those reads.
                        freshness.bump();
                    }
                })
                .build();
        this.cache = maximumSize == 0
                ? null
                : Caffeine.newBuilder()
                        .maximumSize(maximumSize)
                        .expireAfterWrite(expireAfterWrite)
                        .ticker(ticker)
                        .executor(executor)
                        // Runs atomically with the removal: a read in flight that is older than the evicted
                        // entry sees the raised watermark and is neither cached nor returned.
                        .<String, L1Entry>evictionListener((id, entry, cause) -> {
                            if (id != null && entry != null) {
                                raise(id, entry.version());
                            }
                        })
                        .build();
    }

    private void raise(String id, long version) {
        if (version != L1Entry.UNVERSIONED) {
            watermarks.asMap().merge(id, version, Math::max);
        }
    }

    /** Whether L1 is on at all ({@code l1MaximumSize > 0}). */
    public boolean enabled() {
        return cache != null;
    }

    /** The entry for {@code id}, or {@code null}. */
    public L1Entry get(String id) {
        return cache == null ? null : cache.getIfPresent(id);
    }

    /** The highest version seen for {@code id} recently (invalidations, evicted entries), or {@code null}. */
    public Long watermark(String id) {
        return watermarks.getIfPresent(id);
    }

    /**
     * The highest version of {@code id} this client holds in L1 or remembers (returned, invalidated, evicted), or
     * {@link L1Entry#UNVERSIONED}: a loaded value older than this must be neither cached nor returned.
     */
    public long floor(String id) {
        L1Entry current = get(id);
        Long wm = watermarks.getIfPresent(id);
        long floor = current == null ? L1Entry.UNVERSIONED : current.version();
        return wm == null ? floor : Math.max(floor, wm);
    }

    /**
     * Offers a value read from Redis (or stored there by a fill) at a known version.
     *
     * @param epochAtStart {@link Freshness#epoch()} taken before the Redis command was sent
     */
    public Offer offerVersioned(String id, L1Entry candidate, long epochAtStart) {
        return offer(id, candidate, epochAtStart, false, null);
    }

    /**
     * Offers a loaded value that Redis did not version (Redis unavailable, or the fill not stored): stale if any
     * invalidation for {@code id} arrived since {@code watermarkAtStart} was taken (before the load), or if the
     * entry is versioned and older than the watermark.
     */
    public Offer offerLoaded(String id, L1Entry candidate, long epochAtStart, Long watermarkAtStart) {
        return offer(id, candidate, epochAtStart, true, watermarkAtStart);
    }

    private Offer offer(
            String id, L1Entry candidate, long epochAtStart, boolean unchangedSince, Long watermarkAtStart) {
        if (cache == null) {
            Long wm = watermarks.getIfPresent(id);
            if (isStale(candidate, wm, unchangedSince, watermarkAtStart)) {
                return Offer.STALE;
            }
            raise(id, candidate.version()); // returned without L1: remember its version (monotonic reads)
            return new Offer(candidate, false);
        }
        Offer[] out = new Offer[1];
        cache.asMap().compute(id, (k, current) -> {
            if (current != null && current.version() >= candidate.version()) {
                out[0] = new Offer(current, false);
                return current;
            }
            if (isStale(candidate, watermarks.getIfPresent(k), unchangedSince, watermarkAtStart)) {
                out[0] = Offer.STALE;
                return current;
            }
            if (!freshness.canCache(epochAtStart)) {
                // L1 is being cleared (resync) or is off: return the value, keep only its version.
                raise(k, candidate.version());
                out[0] = new Offer(candidate, false);
                return null;
            }
            out[0] = new Offer(candidate, true);
            return candidate;
        });
        if (out[0].cached() && !freshness.canCache(epochAtStart)) {
            // A resync started while we computed; its invalidateAll may have passed this id already.
            cache.asMap().remove(id, candidate);
            raise(id, candidate.version());
            return new Offer(candidate, false);
        }
        return out[0];
    }

    private static boolean isStale(L1Entry candidate, Long watermark, boolean unchangedSince, Long watermarkAtStart) {
        if (watermark != null && candidate.version() != L1Entry.UNVERSIONED && candidate.version() < watermark) {
            return true;
        }
        return unchangedSince && !Objects.equals(watermark, watermarkAtStart);
    }

    /**
     * Applies an invalidation of {@code id} at {@code version}: raises the watermark, then replaces an older L1 entry
     * with {@code replacement.get()} (an inline payload or a deletion), or evicts it when the replacement is {@code
     * null} or yields {@code null}.
     */
    public InvalidationResult onInvalidation(String id, long version, Supplier<L1Entry> replacement) {
        watermarks.asMap().merge(id, version, Math::max);
        if (cache == null) {
            return InvalidationResult.NOT_CACHED;
        }
        InvalidationResult[] out = {InvalidationResult.NOT_CACHED};
        // compute, not computeIfPresent: Caffeine's computeIfPresent returns at once when it finds no node, without
        // waiting for a reader's compute that is inserting one right now (an older version the listener must see).
        cache.asMap().compute(id, (k, current) -> {
            if (current == null) {
                return null;
            }
            if (current.version() >= version) {
                out[0] = InvalidationResult.STALE;
                return current;
            }
            L1Entry next = replacement == null ? null : replacement.get();
            out[0] = next == null ? InvalidationResult.EVICTED : InvalidationResult.UPDATED;
            return next;
        });
        return out[0];
    }

    /**
     * Drops the entry for {@code id}, remembering its version as the watermark so that a read in flight cannot put
     * back (or return) an older one.
     */
    public void invalidate(String id) {
        if (cache != null) {
            cache.asMap().compute(id, (k, current) -> {
                if (current != null) {
                    raise(k, current.version());
                }
                return null;
            });
        }
    }

    /**
     * Drops the entries whose id starts with {@code idPrefix} (a purge), remembering their versions like {@link
     * #invalidate}; call {@link Freshness#bump()} first. Walks L1.
     */
    public void invalidatePrefix(String idPrefix) {
        if (cache == null) {
            return;
        }
        for (String id : List.copyOf(cache.asMap().keySet())) {
            if (id.startsWith(idPrefix)) {
                invalidate(id);
            }
        }
    }

    /** Drops every entry (resync); call {@link Freshness#bump()} first. */
    public void clear() {
        if (cache != null) {
            cache.invalidateAll();
        }
    }

    /** Estimated number of entries. */
    public long size() {
        return cache == null ? 0 : cache.estimatedSize();
    }

    /** Runs pending maintenance (tests). */
    public void cleanUp() {
        if (cache != null) {
            cache.cleanUp();
        }
        watermarks.cleanUp();
    }
}
