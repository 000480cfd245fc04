package dev.cachepipe.client.internal;

import dev.cachepipe.client.CacheStats;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one entity type, registered as {@code cachepipe.client.*} meters with tag {@code entity}. Not API. */
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
        Tags e = Tags.of("entity", entityType);
        String gets = "gets";
        String getsDoc = "Gets by level (l1, l2, loader) and result (hit, miss, error)";
        client.counter(gets, getsDoc, l1Hits, e.and("level", "l1", "result", "hit"));
        client.counter(gets, getsDoc, l1Misses, e.and("level", "l1", "result", "miss"));
        client.counter(gets, getsDoc, l2Hits, e.and("level", "l2", "result", "hit"));
        client.counter(gets, getsDoc, l2Misses, e.and("level", "l2", "result", "miss"));
        client.counter(gets, getsDoc, l2Errors, e.and("level", "l2", "result", "error"));
        client.counter(gets, getsDoc, loaderHits, e.and("level", "loader", "result", "hit"));
        client.counter(gets, getsDoc, loaderMisses, e.and("level", "loader", "result", "miss"));
        client.counter(gets, getsDoc, loadFailures, e.and("level", "loader", "result", "error"));
        String fills = "fills";
        String fillsDoc = "Loaded values written to Redis (stored), refused by the fill script because an invalidation"
                + " overtook the load (dropped), or failed";
        client.counter(fills, fillsDoc, fillsStored, e.and("result", "stored"));
        client.counter(fills, fillsDoc, fillsDropped, e.and("result", "dropped"));
        client.counter(fills, fillsDoc, fillErrors, e.and("result", "error"));
        client.counter(
                "l1.rejected",
                "Values read or loaded but not put into L1 because an invalidation overtook them",
                l1Rejected,
                e.and("reason", "stale"));
        String inv = "invalidations";
        String invDoc = "Invalidations by effect on L1: updated in place, evicted, ignored as stale, not cached";
        client.counter(inv, invDoc, invalidationsUpdated, e.and("result", "updated"));
        client.counter(inv, invDoc, invalidationsEvicted, e.and("result", "evicted"));
        client.counter(inv, invDoc, invalidationsStale, e.and("result", "stale"));
        client.counter(inv, invDoc, invalidationsNotCached, e.and("result", "not_cached"));
        client.counter(
                "decode.errors",
                "Payloads the codec could not decode (or whose content type it does not" + " accept)",
                decodeErrors,
                e);
        String leases = "leases";
        String leasesDoc = "Load leases acquired, waited on (another instance was loading), or waited on in vain";
        client.counter(leases, leasesDoc, leasesAcquired, e.and("result", "acquired"));
        client.counter(leases, leasesDoc, leasesWaited, e.and("result", "waited"));
        client.counter(leases, leasesDoc, leaseWaitTimeouts, e.and("result", "wait_timeout"));
        client.gauge("l1.size", "Entries in L1 (estimated)", l1, LocalCache::size, e);
        String loadDoc = "Time spent in loaders";
        this.loadFound = client.timer("load.latency", loadDoc, e.and("result", "hit"));
        this.loadNotFound = client.timer("load.latency", loadDoc, e.and("result", "miss"));
        this.loadFailed = client.timer("load.latency", loadDoc, e.and("result", "error"));
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
                fillsDropped.sum() + l1Rejected.sum(),
                invalidationsUpdated.sum() + invalidationsEvicted.sum(),
                invalidationsStale.sum(),
                client.resyncs(),
                l1.size(),
                client.listenerLag());
    }
}
