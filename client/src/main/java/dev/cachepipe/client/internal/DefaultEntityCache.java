package dev.cachepipe.client.internal;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.client.CacheLoadException;
import dev.cachepipe.client.CacheStats;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.client.Loaded;
import dev.cachepipe.client.Loader;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.schemas.Redact;
import io.lettuce.core.RedisCommandExecutionException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache of one entity type: L1 ({@link LocalCache}) → L2 ({@link RedisL2}) → loader, with single flight per id,
 * Redis load leases, version-gated fills and the invalidation hook the listener calls. Not API.
 *
 * <p>Lease key: {@code <keyPrefix>::lease:<entityType>:<entityId>}. The empty segment after the prefix cannot occur in
 * an entry key (prefix segments and entity types are never empty), so leases never collide with entries, for any
 * entity type. A lease holds a random token for {@code leaseTime}; a loader's "not found" replaces it with {@code
 * !notfound} for {@code leaseTime} so that waiting instances learn it too.
 */
public final class DefaultEntityCache<T> implements EntityCache<T> {
    private static final Logger log = LoggerFactory.getLogger(DefaultEntityCache.class);

    /** Lease value left for waiting instances when the loader found nothing. */
    static final byte[] NOT_FOUND_MARKER = "!notfound".getBytes(StandardCharsets.US_ASCII);
    /** How often a read retries Redis when its reply was older than an invalidation seen meanwhile. */
    private static final int STALE_READ_ATTEMPTS = 3;

    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String entityType;
    private final Codec<T> codec;
    private final String keyBase;
    private final String leaseBase;
    private final LocalCache l1;
    private final RedisL2 l2;
    private final Freshness freshness;
    private final EntityMetrics metrics;
    private final TokenSource tokens;
    private final long leaseMillis;
    private final long loadWaitNanos;
    private final long fillTtlMillis;
    private final ConcurrentHashMap<String, CompletableFuture<L1Entry>> flights = new ConcurrentHashMap<>();
    private final AtomicBoolean decodeErrorLogged = new AtomicBoolean();
    private final AtomicBoolean fillErrorLogged = new AtomicBoolean();

    public DefaultEntityCache(
            String entityType,
            Codec<T> codec,
            ClientConfig config,
            LocalCache l1,
            RedisL2 l2,
            Freshness freshness,
            EntityMetrics metrics,
            TokenSource tokens) {
        this.entityType = entityType;
        this.codec = codec;
        this.keyBase = config.keyPrefix() + ':' + entityType + ':';
        this.leaseBase = leaseKeyBase(config.keyPrefix(), entityType);
        this.l1 = l1;
        this.l2 = l2;
        this.freshness = freshness;
        this.metrics = metrics;
        this.tokens = tokens;
        this.leaseMillis = Math.max(1, config.leaseTime().toMillis());
        this.loadWaitNanos = config.loadWait().toNanos();
        this.fillTtlMillis = Math.max(1, config.fillTtl().toMillis());
    }

    /** {@code <keyPrefix>::lease:<entityType>:}, to which the entity id is appended. */
    public static String leaseKeyBase(String keyPrefix, String entityType) {
        return keyPrefix + "::lease:" + entityType + ':';
    }

    @Override
    public String entityType() {
        return entityType;
    }

    public Codec<T> codec() {
        return codec;
    }

    /** L1's entry for {@code id} without counting or loading (tests, tools). */
    public L1Entry peekLocal(String id) {
        return l1.get(id);
    }

    // ---------------------------------------------------------------------------------------------------- get(id)

    @Override
    public Optional<T> get(String id) {
        checkId(id);
        L1Entry e = l1.get(id);
        if (e != null) {
            metrics.l1Hits.increment();
            return e.optional();
        }
        metrics.l1Misses.increment();
        Lookup lookup = readL2(id, key(id));
        return lookup.hit == null ? Optional.empty() : lookup.hit.optional();
    }

    // ------------------------------------------------------------------------------------------ get(id, loader)

    @Override
    public T get(String id, Loader<T> loader) {
        checkId(id);
        Objects.requireNonNull(loader, "loader");
        L1Entry e = l1.get(id);
        if (e != null) {
            metrics.l1Hits.increment();
            return e.valueOrNull();
        }
        metrics.l1Misses.increment();
        CompletableFuture<L1Entry> mine = new CompletableFuture<>();
        CompletableFuture<L1Entry> leader = flights.putIfAbsent(id, mine);
        if (leader != null) {
            return follow(id, leader, loader);
        }
        try {
            L1Entry r = lead(id, loader);
            mine.complete(r);
            return r.valueOrNull();
        } catch (RuntimeException | Error t) {
            mine.completeExceptionally(t);
            throw t;
        } finally {
            flights.remove(id, mine);
        }
    }

    /** Waits for the load another caller in this client runs; after {@code loadWait} loads itself. */
    private T follow(String id, CompletableFuture<L1Entry> leader, Loader<T> loader) {
        try {
            return leader.get(loadWaitNanos, TimeUnit.NANOSECONDS).valueOrNull();
        } catch (TimeoutException e) {
            return lead(id, loader).valueOrNull();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new CacheLoadException("loading " + entityType + " '" + id + "' failed", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheLoadException("interrupted while waiting for " + entityType + " '" + id + "'", e);
        }
    }

    /** Redis, then a lease (or wait for another instance's value), then the loader and the fill. */
    private L1Entry lead(String id, Loader<T> loader) {
        byte[] key = key(id);
        Lookup lookup = readL2(id, key);
        if (lookup.hit != null) {
            return lookup.hit;
        }
        if (lookup.error) {
            return loadWithoutRedis(id, loader);
        }
        String expect = lookup.expect;
        byte[] leaseKey = leaseKey(id);
        byte[] token = null;
        long deadline = System.nanoTime() + loadWaitNanos;
        boolean waited = false;
        lease:
        while (true) {
            byte[] candidate = tokens.next();
            long epoch = freshness.epoch();
            RedisL2.Acquire acquire;
            try {
                acquire = l2.tryAcquire(leaseKey, candidate, leaseMillis, key);
            } catch (L2Unavailable e) {
                return loadWithoutRedis(id, loader);
            } catch (RedisCommandExecutionException e) {
                break; // e.g. a read-only replica: load without a lease
            }
            Seen seen = examine(id, acquire.entry(), epoch);
            if (acquire.acquired()) {
                metrics.leasesAcquired.increment();
                token = candidate;
                if (seen.hit != null) {
                    releaseQuietly(leaseKey, token, null);
                    return seen.hit;
                }
                expect = seen.expect;
                break;
            }
            if (seen.hit != null) {
                return seen.hit;
            }
            expect = seen.expect;
            if (!waited) {
                metrics.leasesWaited.increment();
                waited = true;
            }
            long backoff = MIN_BACKOFF_NANOS;
            while (true) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    metrics.leaseWaitTimeouts.increment();
                    break lease; // load without a lease; the fill is still gated
                }
                sleepNanos(Math.min(backoff, remaining));
                backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
                long pollEpoch = freshness.epoch();
                RedisL2.Poll poll;
                try {
                    poll = l2.poll(leaseKey, key);
                } catch (L2Unavailable e) {
                    return loadWithoutRedis(id, loader);
                } catch (RedisCommandExecutionException e) {
                    break lease;
                }
                Seen s = examine(id, poll.entry(), pollEpoch);
                if (s.hit != null) {
                    return s.hit;
                }
                expect = s.expect;
                if (poll.lease() == null) {
                    continue lease; // the holder is done (or gone) and left no value: try to take over
                }
                if (Arrays.equals(poll.lease(), NOT_FOUND_MARKER)) {
                    return L1Entry.notFound(L1Entry.UNVERSIONED);
                }
            }
        }
        return loadAndFill(id, loader, key, expect, leaseKey, token);
    }

    private L1Entry loadAndFill(String id, Loader<T> loader, byte[] key, String expect, byte[] leaseKey, byte[] token) {
        long epochBeforeLoad = freshness.epoch();
        Long watermarkBeforeLoad = l1.watermark(id);
        Loaded<T> loaded;
        try {
            loaded = runLoader(id, loader);
        } catch (RuntimeException | Error e) {
            if (token != null) {
                releaseQuietly(leaseKey, token, null);
            }
            throw e;
        }
        if (!loaded.found()) {
            // Not written to Redis: only the pipeline writes tombstones. Shared with waiting instances via the lease.
            if (token != null) {
                releaseQuietly(leaseKey, token, NOT_FOUND_MARKER);
            }
            return offerLoaded(id, L1Entry.notFound(L1Entry.UNVERSIONED), epochBeforeLoad, watermarkBeforeLoad);
        }
        T value = loaded.value();
        long version;
        String fillExpect;
        if (loaded.versioned()) {
            version = loaded.version();
            fillExpect = "*";
        } else if (expect != null) {
            fillExpect = expect;
            version = expect.isEmpty() ? 0 : Long.parseLong(expect);
        } else {
            // Redis holds something this client cannot read: leave it alone.
            if (token != null) {
                releaseQuietly(leaseKey, token, null);
            }
            return offerLoaded(id, L1Entry.value(L1Entry.UNVERSIONED, value), epochBeforeLoad, watermarkBeforeLoad);
        }
        byte[] payload;
        try {
            payload = codec.encode(value);
        } catch (RuntimeException e) {
            metrics.fillErrors.increment();
            logFillError("cannot encode the loaded value with " + codec, e);
            if (token != null) {
                releaseQuietly(leaseKey, token, null);
            }
            return offerLoaded(id, entryOf(loaded), epochBeforeLoad, watermarkBeforeLoad);
        }
        long epoch = freshness.epoch();
        long reply;
        try {
            reply = l2.fill(
                    key,
                    version,
                    fillExpect,
                    payload,
                    codec.contentType(),
                    System.currentTimeMillis(),
                    fillTtlMillis,
                    token == null ? null : leaseKey,
                    token);
        } catch (L2Unavailable e) {
            metrics.fillErrors.increment();
            return offerLoaded(id, entryOf(loaded), epochBeforeLoad, watermarkBeforeLoad);
        } catch (RedisCommandExecutionException e) {
            metrics.fillErrors.increment();
            logFillError("Redis refused the fill", e);
            if (token != null) {
                releaseQuietly(leaseKey, token, null);
            }
            return offerLoaded(id, entryOf(loaded), epochBeforeLoad, watermarkBeforeLoad);
        }
        if (reply == ClientScript.STORED) {
            metrics.fillsStored.increment();
            L1Entry stored = L1Entry.value(version, value);
            LocalCache.Offer offer = l1.offerVersioned(id, stored, epoch);
            if (offer.stale()) {
                metrics.l1Rejected.increment();
                return stored; // an invalidation newer than the fill arrived meanwhile: return, do not cache
            }
            return offer.entry();
        }
        // An invalidation overtook the load: the fill was dropped. Return the newer state if Redis has one.
        metrics.fillsDropped.increment();
        Lookup again = readL2(id, key);
        if (again.hit != null) {
            return again.hit;
        }
        return entryOf(loaded);
    }

    /** Redis is unavailable: load, and keep the value in L1 unless an invalidation arrived during the load. */
    private L1Entry loadWithoutRedis(String id, Loader<T> loader) {
        long epoch = freshness.epoch();
        Long watermark = l1.watermark(id);
        Loaded<T> loaded = runLoader(id, loader);
        L1Entry entry = loaded.found() ? entryOf(loaded) : L1Entry.notFound(L1Entry.UNVERSIONED);
        return offerLoaded(id, entry, epoch, watermark);
    }

    private L1Entry offerLoaded(String id, L1Entry entry, long epoch, Long watermarkBefore) {
        LocalCache.Offer offer = l1.offerLoaded(id, entry, epoch, watermarkBefore);
        if (offer.stale()) {
            metrics.l1Rejected.increment();
            return entry;
        }
        return offer.entry();
    }

    private L1Entry entryOf(Loaded<T> loaded) {
        return L1Entry.value(loaded.versioned() ? loaded.version() : L1Entry.UNVERSIONED, loaded.value());
    }

    private Loaded<T> runLoader(String id, Loader<T> loader) {
        long t0 = System.nanoTime();
        Loaded<T> loaded;
        try {
            loaded = loader.load(id);
        } catch (RuntimeException | Error e) {
            metrics.loadFailed(System.nanoTime() - t0);
            throw e;
        } catch (Exception e) {
            metrics.loadFailed(System.nanoTime() - t0);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new CacheLoadException("the loader of " + entityType + " failed for '" + id + "'", e);
        }
        if (loaded == null) {
            metrics.loadFailed(System.nanoTime() - t0);
            throw new CacheLoadException(
                    "the loader of " + entityType + " returned null for '" + id + "'; return Loaded.notFound()"
                            + " for an entity that does not exist",
                    null);
        }
        metrics.loaded(loaded.found(), System.nanoTime() - t0);
        return loaded;
    }

    // --------------------------------------------------------------------------------------------------- getAll

    @Override
    public Map<String, T> getAll(Collection<String> ids) {
        Objects.requireNonNull(ids, "ids");
        Set<String> unique = new LinkedHashSet<>(ids);
        Map<String, T> out = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String id : unique) {
            checkId(id);
            L1Entry e = l1.get(id);
            if (e != null) {
                metrics.l1Hits.increment();
                if (e.found()) {
                    out.put(id, e.valueOrNull());
                }
            } else {
                metrics.l1Misses.increment();
                missing.add(id);
            }
        }
        if (missing.isEmpty()) {
            return Collections.unmodifiableMap(out);
        }
        List<byte[]> keys = new ArrayList<>(missing.size());
        for (String id : missing) {
            keys.add(key(id));
        }
        long epoch = freshness.epoch();
        List<Map<String, byte[]>> hashes;
        try {
            hashes = l2.readAll(keys);
        } catch (L2Unavailable e) {
            metrics.l2Errors.add(missing.size());
            return Collections.unmodifiableMap(out);
        }
        for (int i = 0; i < missing.size(); i++) {
            String id = missing.get(i);
            Map<String, byte[]> hash = hashes.get(i);
            Decoded d = hash == null ? Decoded.INVALID : decode(hash);
            L1Entry hit;
            if (d.entry != null) {
                LocalCache.Offer offer = l1.offerVersioned(id, d.entry, epoch);
                if (offer.stale()) {
                    metrics.l1Rejected.increment();
                    hit = readL2(id, keys.get(i)).hit; // counts itself
                } else {
                    metrics.l2Hits.increment();
                    hit = offer.entry();
                }
            } else {
                metrics.l2Misses.increment();
                hit = null;
            }
            if (hit != null && hit.found()) {
                out.put(id, hit.valueOrNull());
            }
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public void invalidateLocal(String id) {
        checkId(id);
        l1.invalidate(id);
    }

    @Override
    public CacheStats stats() {
        return metrics.snapshot();
    }

    // ------------------------------------------------------------------------------------------- invalidations

    /** Applies one invalidation of this entity type to L1 (listener thread). */
    public LocalCache.InvalidationResult applyInvalidation(CacheInvalidation inv) {
        long version = inv.getVersion();
        Supplier<L1Entry> replacement = switch (inv.getOp()) {
            case UPSERT -> inv.getPayload() == null ? null : () -> decodeInline(inv, version);
            case DELETE -> () -> L1Entry.notFound(version);
            case INVALIDATE -> null;
        };
        LocalCache.InvalidationResult result = l1.onInvalidation(inv.getEntityId(), version, replacement);
        metrics.invalidation(result);
        return result;
    }

    /** Drops L1 (resync); the caller bumped the epoch first. */
    void clearLocal() {
        l1.clear();
    }

    private L1Entry decodeInline(CacheInvalidation inv, long version) {
        String contentType = inv.getContentType();
        if (!codec.accepts(contentType)) {
            decodeError(
                    "inline payload has content type " + contentType + ", which " + codec + " does not accept", null);
            return null;
        }
        ByteBuffer buffer = inv.getPayload().duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        try {
            return L1Entry.value(version, Objects.requireNonNull(codec.decode(bytes), "decoded value"));
        } catch (RuntimeException e) {
            decodeError("cannot decode an inline payload with " + codec, e);
            return null;
        }
    }

    // ------------------------------------------------------------------------------------------------- Redis reads

    /**
     * What Redis said about an id.
     *
     * @param hit a value or a tombstone, already offered to L1 (what to return); null on a miss
     * @param expect for an unversioned fill: {@code ""} absent, a fence's version, or {@code null} (do not fill)
     * @param error Redis did not answer
     */
    private record Lookup(L1Entry hit, String expect, boolean error) {
        static final Lookup ERROR = new Lookup(null, null, true);
        static final Lookup ABSENT = new Lookup(null, "", false);
        static final Lookup UNFILLABLE = new Lookup(null, null, false);
    }

    /** One HMGET of the entry, counted at L2; retried when the reply is older than an invalidation seen meanwhile. */
    private Lookup readL2(String id, byte[] key) {
        for (int attempt = 1; ; attempt++) {
            long epoch = freshness.epoch();
            Map<String, byte[]> hash;
            try {
                hash = l2.read(key);
            } catch (L2Unavailable e) {
                metrics.l2Errors.increment();
                return Lookup.ERROR;
            } catch (RedisCommandExecutionException e) {
                metrics.l2Misses.increment();
                decodeError("Redis refused to read the entry (" + e.getMessage() + ")", null);
                return Lookup.UNFILLABLE;
            }
            Decoded d = decode(hash);
            if (d.entry == null) {
                metrics.l2Misses.increment();
                return d.fence != null
                        ? new Lookup(null, d.fence, false)
                        : d.absent ? Lookup.ABSENT : Lookup.UNFILLABLE;
            }
            LocalCache.Offer offer = l1.offerVersioned(id, d.entry, epoch);
            if (!offer.stale()) {
                metrics.l2Hits.increment();
                return new Lookup(offer.entry(), null, false);
            }
            metrics.l1Rejected.increment();
            if (attempt >= STALE_READ_ATTEMPTS) {
                metrics.l2Misses.increment();
                return Lookup.UNFILLABLE;
            }
        }
    }

    /** An entry seen while acquiring or waiting for a lease (not counted as a get). */
    private record Seen(L1Entry hit, String expect) {}

    private Seen examine(String id, Map<String, byte[]> hash, long epoch) {
        Decoded d = decode(hash);
        if (d.entry != null) {
            LocalCache.Offer offer = l1.offerVersioned(id, d.entry, epoch);
            if (!offer.stale()) {
                return new Seen(offer.entry(), null);
            }
            metrics.l1Rejected.increment();
            return new Seen(null, null);
        }
        return new Seen(null, d.fence != null ? d.fence : d.absent ? "" : null);
    }

    /** A decoded HMGET reply: an L1 entry (value or tombstone), a fence's version, absent, or invalid. */
    private record Decoded(L1Entry entry, String fence, boolean absent) {
        static final Decoded ABSENT = new Decoded(null, null, true);
        static final Decoded INVALID = new Decoded(null, null, false);
    }

    private Decoded decode(Map<String, byte[]> hash) {
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
            case TOMBSTONE -> new Decoded(L1Entry.notFound(entry.version()), null, false);
            case FENCE -> new Decoded(null, Long.toString(entry.version()), false);
            case VALUE -> {
                if (!codec.accepts(entry.contentType())) {
                    decodeError(
                            "entry has content type " + entry.contentType() + ", which " + codec + " does not accept",
                            null);
                    yield Decoded.INVALID;
                }
                try {
                    T value = codec.decode(entry.payload());
                    yield new Decoded(
                            L1Entry.value(entry.version(), Objects.requireNonNull(value, "decoded")), null, false);
                } catch (RuntimeException e) {
                    decodeError("cannot decode an entry with " + codec, e);
                    yield Decoded.INVALID;
                }
            }
        };
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private void releaseQuietly(byte[] leaseKey, byte[] token, byte[] marker) {
        try {
            l2.release(leaseKey, token, marker, leaseMillis);
        } catch (RuntimeException e) {
            // The lease expires by itself after leaseTime.
            log.debug("releasing a lease of {} failed: {}", entityType, Redact.describe(e));
        }
    }

    private void decodeError(String what, Throwable cause) {
        metrics.decodeErrors.increment();
        if (decodeErrorLogged.compareAndSet(false, true)) {
            log.warn(
                    "Entity type {}: {}{}; such reads count as misses (logged once; see"
                            + " cachepipe.client.decode.errors)",
                    entityType,
                    what,
                    cause == null ? "" : ": " + Redact.describe(cause));
        } else if (log.isDebugEnabled()) {
            log.debug("Entity type {}: {}", entityType, what);
        }
    }

    private void logFillError(String what, Throwable cause) {
        if (fillErrorLogged.compareAndSet(false, true)) {
            log.warn(
                    "Entity type {}: {}: {}; loaded values are returned but not stored (logged once; see"
                            + " cachepipe.client.fills)",
                    entityType,
                    what,
                    Redact.describe(cause));
        }
    }

    private byte[] key(String id) {
        return (keyBase + id).getBytes(StandardCharsets.UTF_8);
    }

    private byte[] leaseKey(String id) {
        return (leaseBase + id).getBytes(StandardCharsets.UTF_8);
    }

    private static void checkId(String id) {
        Objects.requireNonNull(id, "id");
        if (id.isEmpty()) {
            throw new IllegalArgumentException("id must not be empty");
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheLoadException("interrupted while waiting for another instance's load", e);
        }
    }
}
