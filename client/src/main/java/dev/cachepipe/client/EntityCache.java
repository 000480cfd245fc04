package dev.cachepipe.client;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * Typed reads of one entity type: Caffeine L1 in this process, then Redis L2, then an optional loader.
 *
 * <p><b>Reads never go back in time.</b> Once a call returned version {@code n} of an entity, no call that starts
 * afterwards returns a version older than {@code n} from L1 or L2: L1 only moves forward, and a Redis reply older
 * than a version seen in an invalidation is neither cached nor returned.
 *
 * <p><b>Reads never break because the cache is down.</b> When Redis is unavailable, L1 hits are still served and
 * misses go to the loader (or are reported as empty by {@link #get(String)}); the failure is counted and logged once
 * per change of state. Every Redis call has a timeout.
 *
 * <p>Returned values are shared with other callers through L1: treat them as immutable.
 *
 * @param <T> the entity's Java type
 */
public interface EntityCache<T> {

    /** The entity type this cache reads. */
    String entityType();

    /**
     * The entity from L1, else from Redis.
     *
     * @return the value; empty when the entity was deleted (a tombstone, cached in L1 as a definite "not found") or
     *     when neither L1 nor Redis holds it (absent key, invalidation fence, Redis unavailable)
     * @throws IllegalArgumentException if {@code id} is empty
     */
    Optional<T> get(String id);

    /**
     * The entity from L1, else from Redis, else from {@code loader} (cache-aside), with stampede protection: one load
     * per key per client at a time, and across instances a short Redis lease so that one instance loads a cold key
     * while the others wait for its value.
     *
     * <p>The loaded value is written to Redis unless an invalidation overtook the load (then it is dropped, never
     * stored, and the newer state is returned when Redis has it). A loader's "not found" is not written to Redis (only
     * the pipeline writes tombstones): it is cached in L1 until an invalidation or the L1 TTL removes it, and shared
     * with instances waiting on the same lease.
     *
     * @return the value, or {@code null} when the entity does not exist (a tombstone in Redis, or the loader said so)
     * @throws CacheLoadException if the loader failed (its exception is the cause), or if it returned, three times, a
     *     version older than one this client already returned or saw (no cause): an older version is never returned
     * @throws IllegalArgumentException if {@code id} is empty
     */
    T get(String id, Loader<T> loader);

    /**
     * The entities that L1 or Redis hold: L1 first, then one pipelined round trip to Redis for the rest. Deleted,
     * absent and fenced entities are left out of the map, and so is everything L1 does not hold while Redis is
     * unavailable.
     *
     * @return an unmodifiable map from id to value
     */
    Map<String, T> getAll(Collection<String> ids);

    /** Drops this client's L1 copy of {@code id} (Redis is not touched). */
    void invalidateLocal(String id);

    /** Counters of this entity type (listener fields are the client's). */
    CacheStats stats();
}
