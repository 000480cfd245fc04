package dev.cachepipe.writer;

import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.writer.internal.replay.ReplayDriver;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Rebuilds Redis from the compacted mutations topic: the replay that heals Redis after data loss. Used by the
 * {@link CacheWriter} by itself (self-healing) and by the {@code cachepipe rebuild} command.
 *
 * <p>How a rebuild runs:
 *
 * <ul>
 *   <li>It reads every partition of the mutations topic from the beginning up to the end offsets captured when it
 *       starts, with its own consumer (assigned partitions, no consumer group, no commits). Everything after those
 *       offsets is the live writer's job.
 *   <li>It writes with the writer's version-gated scripts, so racing live writes is safe: whichever write lands
 *       first, Redis ends with the highest version, and never goes back.
 *   <li>It reads that range twice, so that no key is served a state older than the newest the range holds, even
 *       briefly (coalescing works per poll): the first pass notes each key's newest version in memory, then the
 *       record pass writes only each key's newest record. A range of more keys than the first pass notes (500,000 by
 *       default, at most an eighth of the heap; JVM property {@code cachepipe.rebuild.indexMaxKeys}) is read once
 *       more instead to write guards, a fence one version below each key's newest, and the record pass writes the
 *       records, of which only each key's newest gets past its guard (see the driver).
 *   <li>Each entry gets the TTL it has left, {@code occurredAt + ttl - now} (at most {@code ttl}). A mutation whose
 *       TTL has already run out is still written, with a 1 ms TTL, instead of being skipped: the topic's head is not
 *       compacted yet, so an older version of the same key may precede it, and only the newer (expired) write keeps
 *       that older one from coming back (an expired delete must still win over the upsert before it).
 *   <li>Invalidations: a write the rebuild applies is announced only if its offset is at or past the writer group's
 *       committed offset when the rebuild started. Everything before that offset was announced already when the live
 *       writer first wrote it (the writer commits only after publishing), and the rebuild restores exactly those
 *       versions, so L1 caches need no news; announcing them again would flood every client with evictions. Writes at
 *       or past the committed offset may not have been announced yet: if the rebuild applies one first, the live
 *       writer then finds the same version stored and treats it as a duplicate, so the rebuild announces it.
 *   <li>The marker {@code <keyPrefix>:@cachepipe} (a HASH) says that Redis holds a complete data set: its
 *       {@code epoch} field is written only after a full rebuild replayed everything, and only if its lease was not
 *       lost meanwhile (a lease renewed by the rebuild; it is lost if Redis loses its data again). A writer that finds
 *       no epoch (Redis lost its data, or is new) takes the lease and rebuilds; others wait for it. A partial rebuild
 *       ({@code entityType} given) never touches the marker.
 * </ul>
 */
public final class CacheRebuild {
    /** How a rebuild ended. */
    public enum Outcome {
        /** Every mutation up to the captured end offsets was replayed (and the marker written, if full). */
        COMPLETED,
        /** Another rebuild holds the lease; nothing was done. */
        BUSY,
        /** The lease was lost while rebuilding (Redis lost its data again): the result cannot be trusted. */
        LEASE_LOST,
        /** Stopped before the end. */
        CANCELLED
    }

    /**
     * Where a rebuild stands.
     *
     * @param total records (offsets) to replay, all partitions
     * @param read records read so far
     * @param applied writes that changed Redis
     * @param stale writes refused because Redis holds a newer version, and records skipped because a newer one of the
     *     same key follows in the range
     * @param duplicate writes refused because Redis holds the same version
     * @param expired applied writes whose TTL had run out already (written with a 1 ms TTL, see above)
     * @param filtered records of other entity types ({@code entityType} given), or that did not decode
     * @param invalidations invalidations published for writes that may not have been announced yet
     * @param elapsed time since the replay started (once the Kafka clients were connected and the offsets known)
     */
    public record Progress(
            long total,
            long read,
            long applied,
            long stale,
            long duplicate,
            long expired,
            long filtered,
            long invalidations,
            Duration elapsed) {

        /** {@code read / total}, 1 when there is nothing to read. */
        public double fraction() {
            return total <= 0 ? 1.0 : Math.min(1.0, (double) read / total);
        }

        /** Records read per second. */
        public double ratePerSecond() {
            double s = elapsed.toNanos() / 1e9;
            return s <= 0 ? 0 : read / s;
        }
    }

    /** The outcome and the final progress. */
    public record Result(Outcome outcome, Progress progress) {}

    private CacheRebuild() {}

    /** The marker key for {@code keyPrefix}: {@code <keyPrefix>:@cachepipe}. */
    public static String markerKey(String keyPrefix) {
        return RedisLayout.markerKey(Objects.requireNonNull(keyPrefix, "keyPrefix"));
    }

    /**
     * Replays the mutations topic of {@code config} into Redis on the calling thread.
     *
     * @param config the writer's configuration; its {@code keyPrefix} must be set, its {@code groupId} names the
     *     group whose committed offsets decide which writes are announced
     * @param entityType only this entity type, or {@code null} for all (a full rebuild, which takes the lease
     *     even if the marker says complete, and writes the marker when done)
     * @param registry where the {@code cachepipe.rebuild.*} meters go (removed again at the end)
     * @param listener called on the calling thread after every batch
     * @param cancelled polled between batches; true stops the rebuild ({@link Outcome#CANCELLED})
     * @throws IllegalStateException if the mutations topic does not exist or Kafka fails
     */
    public static Result run(
            WriterConfig config,
            RedisURI redisUri,
            String entityType,
            MeterRegistry registry,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        return run(
                config,
                RedisTarget.of(Objects.requireNonNull(redisUri, "redisUri")),
                entityType,
                registry,
                listener,
                cancelled);
    }

    /** As {@link #run(WriterConfig, RedisURI, String, MeterRegistry, Consumer, BooleanSupplier)}, for a cluster too. */
    public static Result run(
            WriterConfig config,
            RedisTarget redisUri,
            String entityType,
            MeterRegistry registry,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        Objects.requireNonNull(config, "config");
        if (config.keyPrefix() == null) {
            throw new IllegalArgumentException("a rebuild needs the key prefix: config.keyPrefix() was null");
        }
        return ReplayDriver.runStandalone(
                config,
                Objects.requireNonNull(redisUri, "redisUri"),
                entityType,
                Objects.requireNonNull(registry, "registry"),
                Objects.requireNonNull(listener, "listener"),
                Objects.requireNonNull(cancelled, "cancelled"));
    }
}
