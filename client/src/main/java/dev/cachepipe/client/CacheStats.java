package dev.cachepipe.client;

/**
 * A snapshot of a client's or an entity cache's counters (monotonic since the client was built) and gauges. Every
 * {@code get} counts once at L1; an L1 miss then counts once at L2 (hit, miss or error) and, with a loader, once at the
 * loader (hit = found, miss = not found, or a failure). A tombstone is an L2 hit (a definite answer).
 *
 * @param l1Hits gets answered by L1 (values and cached "not found")
 * @param l1Misses gets that L1 could not answer
 * @param l2Hits reads answered by Redis (values and tombstones)
 * @param l2Misses reads that found nothing usable in Redis (absent key, fence, stale or undecodable entry)
 * @param l2Errors reads skipped or failed because Redis was unavailable or slow
 * @param loaderHits loads that returned a value
 * @param loaderMisses loads that returned "not found"
 * @param loadFailures loads that threw
 * @param totalLoadTimeNanos time spent in loaders
 * @param fillsStored loaded values written to Redis
 * @param staleFillsDropped loaded or read values refused because an invalidation overtook them (by the fill script
 *     in Redis or by L1), or because they were older than a version the client already saw
 * @param invalidationsApplied invalidations that updated or evicted an L1 entry
 * @param invalidationsStale invalidations ignored because L1 already held that version or a newer one
 * @param resyncs times the listener cleared L1 (lag, outage, offsets reset); the client's count
 * @param l1Size entries in L1 (estimated)
 * @param listenerLag invalidations published but not yet applied, at the last check; the client's
 */
public record CacheStats(
        long l1Hits,
        long l1Misses,
        long l2Hits,
        long l2Misses,
        long l2Errors,
        long loaderHits,
        long loaderMisses,
        long loadFailures,
        long totalLoadTimeNanos,
        long fillsStored,
        long staleFillsDropped,
        long invalidationsApplied,
        long invalidationsStale,
        long resyncs,
        long l1Size,
        long listenerLag) {

    public CacheStats {
        requireNonNegative("l1Hits", l1Hits);
        requireNonNegative("l1Misses", l1Misses);
        requireNonNegative("l2Hits", l2Hits);
        requireNonNegative("l2Misses", l2Misses);
        requireNonNegative("l2Errors", l2Errors);
        requireNonNegative("loaderHits", loaderHits);
        requireNonNegative("loaderMisses", loaderMisses);
        requireNonNegative("loadFailures", loadFailures);
        requireNonNegative("totalLoadTimeNanos", totalLoadTimeNanos);
        requireNonNegative("fillsStored", fillsStored);
        requireNonNegative("staleFillsDropped", staleFillsDropped);
        requireNonNegative("invalidationsApplied", invalidationsApplied);
        requireNonNegative("invalidationsStale", invalidationsStale);
        requireNonNegative("resyncs", resyncs);
        requireNonNegative("l1Size", l1Size);
        requireNonNegative("listenerLag", listenerLag);
    }

    /** All zero. */
    public static CacheStats empty() {
        return new CacheStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** Gets counted at L1 (hits plus misses). */
    public long requestCount() {
        return l1Hits + l1Misses;
    }

    /** {@code l1Hits / requestCount}, or 1.0 when there were no requests (as Caffeine's {@code hitRate}). */
    public double l1HitRate() {
        long requests = requestCount();
        return requests == 0 ? 1.0 : (double) l1Hits / requests;
    }

    /** Reads that went to L2 (hits, misses and errors). */
    public long l2RequestCount() {
        return l2Hits + l2Misses + l2Errors;
    }

    /** {@code l2Hits / l2RequestCount}, or 1.0 when L2 was never asked. */
    public double l2HitRate() {
        long requests = l2RequestCount();
        return requests == 0 ? 1.0 : (double) l2Hits / requests;
    }

    /** Loads that ran (found, not found or failed). */
    public long loadCount() {
        return loaderHits + loaderMisses + loadFailures;
    }

    /**
     * The sum of both snapshots' counters and sizes; the client-level fields ({@code resyncs}, {@code listenerLag})
     * take the larger value, as both snapshots describe the same listener.
     */
    public CacheStats plus(CacheStats other) {
        return new CacheStats(
                l1Hits + other.l1Hits,
                l1Misses + other.l1Misses,
                l2Hits + other.l2Hits,
                l2Misses + other.l2Misses,
                l2Errors + other.l2Errors,
                loaderHits + other.loaderHits,
                loaderMisses + other.loaderMisses,
                loadFailures + other.loadFailures,
                totalLoadTimeNanos + other.totalLoadTimeNanos,
                fillsStored + other.fillsStored,
                staleFillsDropped + other.staleFillsDropped,
                invalidationsApplied + other.invalidationsApplied,
                invalidationsStale + other.invalidationsStale,
                Math.max(resyncs, other.resyncs),
                l1Size + other.l1Size,
                Math.max(listenerLag, other.listenerLag));
    }

    private static void requireNonNegative(String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0 but was " + value);
        }
    }
}
