package dev.cachepipe.client.internal;

import static dev.cachepipe.client.ClientMeters.*;

import dev.cachepipe.client.CacheStats;
import dev.cachepipe.client.ClientMeters;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one entity type, registered as {@link ClientMeters} with tag {@value ClientMeters#ENTITY}. Not API. */
public final class EntityMetrics {
    private final ClientMetrics client;
    private final LocalCache l1;

    final LongAdder l1Hits = new LongAdder();
    final LongAdder l1Misses = new LongAdder();
    final LongAdder l2Hits = new LongAdder();
    final LongAdder l2Misses = new LongAdder();
    final LongAdder l2Errors = new LongAdder();
    final LongAdder loaderHits = new LongAdder();
    final LongAdder loaderMisses = new LongAdder();
    final LongAdder loadFailures = new LongAdder();
    final LongAdder loadTimeNanos = new LongAdder();
    final LongAdder fillsStored = new LongAdder();
    final LongAdder fillsDropped = new LongAdder();
    final LongAdder fillErrors = new LongAdder();
    final LongAdder l1Rejected = new LongAdder();
    final LongAdder invalidationsUpdated = new LongAdder();
    final LongAdder invalidationsEvicted = new LongAdder();
    final LongAdder invalidationsStale = new LongAdder();
    final LongAdder invalidationsNotCached = new LongAdder();
    final LongAdder fillsBehind = new LongAdder();
    final LongAdder decodeErrors = new LongAdder();
    final LongAdder leasesAcquired = new LongAdder();
    final LongAdder leasesWaited = new LongAdder();
    final LongAdder leaseWaitTimeouts = new LongAdder();
    private final Timer loadFound;
    private final Timer loadNotFound;
    private final Timer loadFailed;

    EntityMetrics(ClientMetrics client, String entityType, LocalCache l1) {
        this.client = client;
        this.l1 = l1;
        Tags e = Tags.of(ENTITY, entityType);
        String getsDoc = "Gets by level (l1, l2, loader) and result (hit, miss, error)";
        client.counter(GETS, getsDoc, l1Hits, e.and(LEVEL, LEVEL_L1, RESULT, RESULT_HIT));
        client.counter(GETS, getsDoc, l1Misses, e.and(LEVEL, LEVEL_L1, RESULT, RESULT_MISS));
        client.counter(GETS, getsDoc, l2Hits, e.and(LEVEL, LEVEL_L2, RESULT, RESULT_HIT));
        client.counter(GETS, getsDoc, l2Misses, e.and(LEVEL, LEVEL_L2, RESULT, RESULT_MISS));
        client.counter(GETS, getsDoc, l2Errors, e.and(LEVEL, LEVEL_L2, RESULT, RESULT_ERROR));
        client.counter(GETS, getsDoc, loaderHits, e.and(LEVEL, LEVEL_LOADER, RESULT, RESULT_HIT));
        client.counter(GETS, getsDoc, loaderMisses, e.and(LEVEL, LEVEL_LOADER, RESULT, RESULT_MISS));
        client.counter(GETS, getsDoc, loadFailures, e.and(LEVEL, LEVEL_LOADER, RESULT, RESULT_ERROR));
        String fillsDoc = "Loaded values written to Redis (stored), refused by the fill script because an invalidation"
                + " overtook the load (dropped), neither stored nor returned because older than a version the client already"
                + " saw (behind), or failed";
        client.counter(FILLS, fillsDoc, fillsStored, e.and(RESULT, RESULT_STORED));
        client.counter(FILLS, fillsDoc, fillsDropped, e.and(RESULT, RESULT_DROPPED));
        client.counter(FILLS, fillsDoc, fillErrors, e.and(RESULT, RESULT_ERROR));
        client.counter(FILLS, fillsDoc, fillsBehind, e.and(RESULT, RESULT_BEHIND));
        client.counter(
                L1_REJECTED,
                "Values read or loaded but not put into L1 because an invalidation overtook them",
                l1Rejected,
                e.and(REASON, REASON_STALE));
        String invDoc = "Invalidations by effect on L1: updated in place, evicted, ignored as stale, not cached";
        client.counter(INVALIDATIONS, invDoc, invalidationsUpdated, e.and(RESULT, RESULT_UPDATED));
        client.counter(INVALIDATIONS, invDoc, invalidationsEvicted, e.and(RESULT, RESULT_EVICTED));
        client.counter(INVALIDATIONS, invDoc, invalidationsStale, e.and(RESULT, RESULT_STALE));
        client.counter(INVALIDATIONS, invDoc, invalidationsNotCached, e.and(RESULT, RESULT_NOT_CACHED));
        client.counter(
                DECODE_ERRORS,
                "Payloads the codec could not decode (or whose content type it does not" + " accept)",
                decodeErrors,
                e);
        String leasesDoc = "Load leases acquired, waited on (another instance was loading), or waited on in vain";
        client.counter(LEASES, leasesDoc, leasesAcquired, e.and(RESULT, RESULT_ACQUIRED));
        client.counter(LEASES, leasesDoc, leasesWaited, e.and(RESULT, RESULT_WAITED));
        client.counter(LEASES, leasesDoc, leaseWaitTimeouts, e.and(RESULT, RESULT_WAIT_TIMEOUT));
        client.gauge(L1_SIZE, "Entries in L1 (estimated)", l1, LocalCache::size, e);
        String loadDoc = "Time spent in loaders";
        this.loadFound = client.timer(LOAD_LATENCY, loadDoc, e.and(RESULT, RESULT_HIT));
        this.loadNotFound = client.timer(LOAD_LATENCY, loadDoc, e.and(RESULT, RESULT_MISS));
        this.loadFailed = client.timer(LOAD_LATENCY, loadDoc, e.and(RESULT, RESULT_ERROR));
    }

    void loaded(boolean found, long nanos) {
        (found ? loaderHits : loaderMisses).increment();
        loadTimeNanos.add(nanos);
        (found ? loadFound : loadNotFound).record(nanos, TimeUnit.NANOSECONDS);
    }

    void loadFailed(long nanos) {
        loadFailures.increment();
        loadTimeNanos.add(nanos);
        loadFailed.record(nanos, TimeUnit.NANOSECONDS);
    }

    void invalidation(LocalCache.InvalidationResult result) {
        switch (result) {
            case UPDATED -> invalidationsUpdated.increment();
            case EVICTED -> invalidationsEvicted.increment();
            case STALE -> invalidationsStale.increment();
            case NOT_CACHED -> invalidationsNotCached.increment();
        }
    }

    CacheStats snapshot() {
        return new CacheStats(
                l1Hits.sum(),
                l1Misses.sum(),
                l2Hits.sum(),
                l2Misses.sum(),
                l2Errors.sum(),
                loaderHits.sum(),
                loaderMisses.sum(),
                loadFailures.sum(),
                loadTimeNanos.sum(),
                fillsStored.sum(),
                fillsDropped.sum() + fillsBehind.sum() + l1Rejected.sum(),
                invalidationsUpdated.sum() + invalidationsEvicted.sum(),
                invalidationsStale.sum(),
                client.resyncs(),
                l1.size(),
                client.listenerLag());
    }
}
