package dev.cachepipe.client.internal;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.CacheStats;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.schemas.RedisLayout;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link CacheClient}: owns the Redis connection, the listener, the meters and the entity caches. Not API. */
public final class DefaultCacheClient implements CacheClient {
    private static final Logger log = LoggerFactory.getLogger(DefaultCacheClient.class);

    /** Recently invalidated or evicted ids remembered per entity type. */
    static final long WATERMARK_MAXIMUM_SIZE = 100_000;
    /**
     * How long one is remembered at least: far longer than any Redis reply can take to reach L1 (a read is bounded
     * by a few {@code redisTimeout}s).
     */
    static final Duration WATERMARK_MINIMUM_EXPIRY = Duration.ofSeconds(10);

    private final ClientConfig config;
    private final Freshness freshness = new Freshness();
    private final ClientMetrics metrics;
    private final RedisL2 l2;
    private final InvalidationListener listener;
    private final TokenSource tokens = new TokenSource();
    private final ConcurrentHashMap<String, DefaultEntityCache<?>> caches = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** L1's clock, sampled every millisecond (released on close). */
    private final Ticker ticker;

    public DefaultCacheClient(ClientConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        RedisL2[] redis = new RedisL2[1];
        this.metrics = new ClientMetrics(
                config.meterRegistry(), config.name(), freshness, () -> redis[0] != null && redis[0].available());
        InvalidationListener l = null;
        try {
            redis[0] = new RedisL2(config, metrics);
            this.l2 = redis[0];
            l2.start();
            l = new InvalidationListener(config, caches::get, this::clearL1, freshness, metrics);
            this.listener = l;
        } catch (RuntimeException e) {
            if (redis[0] != null) {
                redis[0].close();
            }
            metrics.close();
            throw e;
        }
        listener.start();
        if (!listener.awaitReady(config.kafkaTimeout())) {
            log.warn(
                    "Client {}: the invalidation listener is not positioned on {} after {}; L1 stays off (reads go"
                            + " to Redis) until it is",
                    config.name(),
                    config.invalidationsTopic(),
                    config.kafkaTimeout());
        }
        this.ticker = CoarseTicker.acquire();
        log.info("Started cachepipe client {}", config);
    }

    @Override
    public <T> EntityCache<T> entity(String entityType, Codec<T> codec) {
        Objects.requireNonNull(entityType, "entityType");
        Objects.requireNonNull(codec, "codec");
        if (closed.get()) {
            throw new IllegalStateException("client " + config.name() + " is closed");
        }
        if (!RedisLayout.isValidEntityType(entityType)) {
            throw new IllegalArgumentException("entityType must match [a-z0-9_-]{1,64} but was '" + entityType + "'");
        }
        DefaultEntityCache<?> cache = caches.computeIfAbsent(entityType, t -> newCache(t, codec));
        if (!cache.codec().equals(codec)) {
            throw new IllegalArgumentException("entity type '" + entityType + "' is already registered with "
                    + cache.codec() + " but was given " + codec);
        }
        @SuppressWarnings("unchecked")
        EntityCache<T> typed = (EntityCache<T>) cache;
        return typed;
    }

    private <T> DefaultEntityCache<T> newCache(String entityType, Codec<T> codec) {
        LocalCache l1 = new LocalCache(
                config.l1MaximumSize(),
                config.l1ExpireAfterWrite(),
                WATERMARK_MAXIMUM_SIZE,
                max(WATERMARK_MINIMUM_EXPIRY, config.redisTimeout().multipliedBy(20)),
                ticker,
                ForkJoinPool.commonPool(),
                freshness);
        return new DefaultEntityCache<>(
                entityType, codec, config, l1, l2, freshness, metrics.entity(entityType, l1), tokens);
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private void clearL1() {
        for (DefaultEntityCache<?> cache : caches.values()) {
            cache.clearLocal();
        }
    }

    @Override
    public CacheStats stats() {
        CacheStats sum =
                new CacheStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, metrics.resyncs(), 0, metrics.listenerLag());
        for (DefaultEntityCache<?> cache : caches.values()) {
            sum = sum.plus(cache.stats());
        }
        return sum;
    }

    /** Whether L1 is in use right now (tests, tools). */
    public boolean l1Enabled() {
        return freshness.enabled();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            listener.close();
        } finally {
            try {
                l2.close();
            } finally {
                CoarseTicker.release();
                metrics.close();
                log.info("Closed cachepipe client {}", config.name());
            }
        }
    }
}
