package dev.cachepipe.client.internal;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.client.CacheLoadException;
import dev.cachepipe.client.CacheStats;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.client.Loader;
import dev.cachepipe.client.internal.EntryReader.Decoded;
import java.nio.ByteBuffer;
import java.util.ArrayList;
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
import java.util.function.Supplier;

/**
 * The cache of one entity type: L1 ({@link LocalCache}) → L2 ({@link EntryReader} over {@link RedisL2}) → loader
 * ({@link LoadPath}: Redis load leases and version-gated fills), with single flight per id, and the invalidation hook
 * the listener calls. Not API.
 */
public final class DefaultEntityCache<T> implements EntityCache<T> {
    private final String entityType;
    private final Codec<T> codec;
    private final EntityKeys keys;
    private final LocalCache l1;
    private final RedisL2 l2;
    private final Freshness freshness;
    private final EntityMetrics metrics;
    private final EntryReader<T> reader;
    private final LoadPath<T> loads;
    private final long loadWaitNanos;
    private final ConcurrentHashMap<String, CompletableFuture<L1Entry>> flights = new ConcurrentHashMap<>();

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
        this.keys = EntityKeys.of(config.keyPrefix(), entityType);
        this.l1 = l1;
        this.l2 = l2;
        this.freshness = freshness;
        this.metrics = metrics;
        EntityContext<T> context = new EntityContext<>(entityType, codec, keys, l1, l2, freshness, metrics);
        this.reader = new EntryReader<>(context);
        this.loads = new LoadPath<>(context, reader, tokens, config);
        this.loadWaitNanos = config.loadWait().toNanos();
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

    /** The highest version of {@code id} L1 remembers from invalidations and evictions, or {@code null} (tests). */
    public Long peekWatermark(String id) {
        return l1.watermark(id);
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
        L1Entry hit = reader.read(id, keys.entry(id)).hit();
        return hit == null ? Optional.empty() : hit.optional();
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
            L1Entry r = loads.load(id, loader);
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
            return loads.load(id, loader).valueOrNull();
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
        List<byte[]> entryKeys = new ArrayList<>(missing.size());
        for (String id : missing) {
            entryKeys.add(keys.entry(id));
        }
        long epoch = freshness.epoch();
        List<Map<String, byte[]>> hashes;
        try {
            hashes = l2.readAll(entryKeys);
        } catch (L2Unavailable e) {
            metrics.l2Errors.add(missing.size());
            return Collections.unmodifiableMap(out);
        }
        for (int i = 0; i < missing.size(); i++) {
            String id = missing.get(i);
            Map<String, byte[]> hash = hashes.get(i);
            Decoded d = hash == null ? Decoded.INVALID : reader.decode(hash);
            L1Entry hit;
            if (d.entry() != null) {
                LocalCache.Offer offer = l1.offerVersioned(id, d.entry(), epoch);
                if (offer.stale()) {
                    metrics.l1Rejected.increment();
                    hit = reader.read(id, entryKeys.get(i)).hit(); // counts itself
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

    /**
     * Applies a purge of this entity type to L1: drops every entry, or those whose id starts with {@code idPrefix}; the
     * caller bumped the epoch first, so no read that started before can put a purged value back.
     */
    void purgeLocal(String idPrefix) {
        if (idPrefix.isEmpty()) {
            l1.clear();
        } else {
            l1.invalidatePrefix(idPrefix);
        }
    }

    /** Drops L1 (resync); the caller bumped the epoch first. */
    void clearLocal() {
        l1.clear();
    }

    private L1Entry decodeInline(CacheInvalidation inv, long version) {
        String contentType = inv.getContentType();
        if (!codec.accepts(contentType)) {
            reader.decodeError(
                    "inline payload has content type " + contentType + ", which " + codec + " does not accept", null);
            return null;
        }
        ByteBuffer buffer = inv.getPayload().duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        try {
            return L1Entry.value(version, Objects.requireNonNull(codec.decode(bytes), "decoded value"));
        } catch (RuntimeException e) {
            reader.decodeError("cannot decode an inline payload with " + codec, e);
            return null;
        }
    }

    private static void checkId(String id) {
        Objects.requireNonNull(id, "id");
        if (id.isEmpty()) {
            throw new IllegalArgumentException("id must not be empty");
        }
    }
}
