package dev.cachepipe.writer;

import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.writer.internal.live.LiveWriter;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;

/**
 * Applies {@code CacheMutation} records to Redis with the version-gated scripts of {@link RedisScripts} and publishes
 * one {@code CacheInvalidation} per write that changed Redis.
 *
 * <p>Guarantees: a mutation's offset is committed only after Redis acknowledged its write (or a newer one of the
 * same key) and Kafka acknowledged its invalidation; an invalidation is published only after its write was
 * acknowledged, and at least once for every write that changed Redis. While Redis or Kafka is unavailable the
 * writer retries with exponential backoff, commits nothing, keeps its consumer-group membership and reports
 * {@link #healthy()} {@code false}.
 *
 * <p>Usage: construct, call {@link #run()} on a dedicated thread, call {@link #close()} from another thread to stop.
 *
 * <pre>{@code
 * CacheWriter writer = new CacheWriter(WriterConfig.defaults(bootstrap, "cachepipe.mutations",
 *         "cachepipe.invalidations"), RedisURI.create("redis://localhost:6379"), registry);
 * Thread t = new Thread(writer::run, "cache-writer");
 * t.start();
 * ...
 * writer.close(); // returns after run() has returned
 * }</pre>
 *
 * <p>Metrics ({@code cachepipe.writer.*}): {@code writes{outcome=applied|stale|duplicate, entity_type}},
 * {@code batch.size}, {@code redis.latency}, {@code freshness} (p50, p99), {@code invalidations.published},
 * {@code retries{stage=redis|kafka}}, {@code coalesced}, {@code skipped}, {@code lag}, {@code healthy} (1/0); with
 * self-healing on ({@link WriterConfig#keyPrefix()} set) also {@code cachepipe.rebuild.*} (see {@link CacheRebuild}).
 *
 * <p>Self-healing: with a key prefix configured the writer checks the marker {@code <keyPrefix>:@cachepipe} at
 * start-up, every {@link WriterConfig#markerCheckInterval()} and whenever Redis answers again after an outage; when
 * Redis has no complete data set (it lost its data, or is new) it rebuilds Redis from the mutations topic on a thread
 * of its own while its live writes go on.
 */
public final class CacheWriter implements AutoCloseable {
    private final LiveWriter loop;

    /**
     * Creates the Kafka clients and the Redis client; connects nothing yet.
     *
     * @param redisUri the Redis server; its password, if any, is never logged
     * @param registry where the {@code cachepipe.writer.*} meters are registered (removed again on close)
     */
    public CacheWriter(WriterConfig config, RedisURI redisUri, MeterRegistry registry) {
        this(config, RedisTarget.of(Objects.requireNonNull(redisUri, "redisUri")), registry);
    }

    /**
     * Creates the Kafka clients and the Redis client for {@code redis} (a standalone server or a cluster's seeds);
     * connects nothing yet.
     */
    public CacheWriter(WriterConfig config, RedisTarget redis, MeterRegistry registry) {
        this.loop = new LiveWriter(
                Objects.requireNonNull(config, "config"),
                Objects.requireNonNull(redis, "redis"),
                Objects.requireNonNull(registry, "registry"));
    }

    /**
     * Runs the loop on the calling thread; returns after {@link #close()} was called from another thread. Throws if
     * an unexpected error (e.g. Kafka authorization) stops it.
     *
     * @throws IllegalStateException if called twice or after close()
     */
    public void run() {
        loop.run();
    }

    /** Whether the loop runs and both Redis and Kafka answer. */
    public boolean healthy() {
        return loop.healthy();
    }

    /** {@code "ok"}, or why {@link #healthy()} is false (e.g. {@code "Redis unavailable: ..."}). */
    public String healthReason() {
        return loop.healthReason();
    }

    /** Whether a self-healing rebuild of Redis runs now (see {@link CacheRebuild}). */
    public boolean rebuilding() {
        return loop.rebuilding();
    }

    /** The progress of the current or last self-healing rebuild, if one ran. */
    public java.util.Optional<CacheRebuild.Progress> rebuildProgress() {
        return java.util.Optional.ofNullable(loop.rebuildProgress());
    }

    /** Stops {@link #run()}, waits for it to return and releases all clients. Idempotent. */
    @Override
    public void close() {
        loop.close();
    }
}
