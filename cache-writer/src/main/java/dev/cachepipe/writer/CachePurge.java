package dev.cachepipe.writer;

import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.writer.internal.purge.PurgeDriver;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Drops a whole entity type, or the ids of one type that start with a prefix, from Redis and from every client's L1:
 * the operation behind {@code cachepipe purge}, and the API a backfill job calls when it finishes.
 *
 * <p>How a purge runs:
 *
 * <ol>
 *   <li><b>After the pipeline</b> (unless {@link Request#waitForPipeline()} is zero): it notes the end offsets of the
 *       entity type's source topics and waits until the topology's consumer group has committed them, then notes
 *       the end offsets of the mutations topic and waits until the writer's group has committed those. So every event
 *       published before the purge started, on every partition, is in Redis before the purge looks at it, and is
 *       purged with the rest. If the pipeline does not get there within the wait, nothing is changed ({@link
 *       Outcome#PIPELINE_BEHIND}).
 *   <li><b>Fences</b>: it scans Redis ({@code SCAN} with {@code MATCH <keyPrefix>:<entityType>:<idPrefix>*}, on every
 *       master of a cluster; never {@code KEYS}) and turns each value into an invalidation fence at its own version
 *       ({@code purge_entries.lua}: each key's version is read and its fence written in one script, up to 256 keys of
 *       a page per call, so no write can land in between; in a cluster whose slots moved during the scan, it scans
 *       again until they held still). Readers miss and load; a write of that version or lower is
 *       refused from then on, and a newer event (one published after the purge started) is applied over the fence as
 *       usual. Tombstones and fences are left as they are.
 *   <li><b>Announces</b>: one record on every partition of the invalidations topic, which clients apply by dropping
 *       the type's (or the prefix's) entries from L1, values they loaded themselves included (see {@link
 *       RedisLayout#PURGE_HEADER} for the format: the {@code CacheInvalidation} schema is unchanged, and clients that
 *       do not know purges ignore the record).
 * </ol>
 *
 * <p>Running it twice is safe: the second run finds fences and changes nothing in Redis (it announces again). A dry
 * run only counts.
 */
public final class CachePurge {
    /** How a purge ended. */
    public enum Outcome {
        /** Every matching entry was examined and the purge announced. */
        COMPLETED,
        /** A dry run: entries counted, nothing changed. */
        DRY_RUN,
        /** Stopped before the end; what was fenced so far was announced. */
        CANCELLED,
        /** The pipeline had not applied the events published before the purge within the wait: nothing changed. */
        PIPELINE_BEHIND
    }

    /**
     * What to purge.
     *
     * @param entityType the entity type
     * @param idPrefix only ids that start with this ({@code ""}: every id of the type)
     * @param fenceTtl how long the fences live (the entity type's tombstone TTL)
     * @param dryRun count only
     * @param topologyGroupId the topology's consumer group ({@code application.id}), waited for with {@code
     *     sourceTopics}
     * @param sourceTopics the entity type's source topics
     * @param waitForPipeline how long to wait for the pipeline to apply what was published before the purge; {@link
     *     Duration#ZERO}: do not wait (purge what Redis holds now)
     */
    public record Request(
            String entityType,
            String idPrefix,
            Duration fenceTtl,
            boolean dryRun,
            String topologyGroupId,
            List<String> sourceTopics,
            Duration waitForPipeline) {
        public Request {
            if (!RedisLayout.isValidEntityType(entityType)) {
                throw new IllegalArgumentException("entityType must match [a-z0-9_-]{1,64}, got " + entityType);
            }
            Objects.requireNonNull(idPrefix, "idPrefix");
            if (fenceTtl == null || fenceTtl.toMillis() <= 0) {
                throw new IllegalArgumentException("fenceTtl must be at least 1 ms, got " + fenceTtl);
            }
            sourceTopics = List.copyOf(sourceTopics);
            if (waitForPipeline == null || waitForPipeline.isNegative()) {
                throw new IllegalArgumentException("waitForPipeline must be zero or positive, got " + waitForPipeline);
            }
            if (!waitForPipeline.isZero()) {
                Objects.requireNonNull(topologyGroupId, "topologyGroupId");
            }
        }

        /** A purge that does not wait for the pipeline (the entries Redis holds now). */
        public static Request now(String entityType, String idPrefix, Duration fenceTtl) {
            return new Request(entityType, idPrefix, fenceTtl, false, null, List.of(), Duration.ZERO);
        }

        /** The same request, counting only. */
        public Request asDryRun() {
            return new Request(entityType, idPrefix, fenceTtl, true, topologyGroupId, sourceTopics, waitForPipeline);
        }
    }

    /**
     * Where a purge stands.
     *
     * @param matched entries found by the scan (values, fences and tombstones of the type and prefix; a key that a
     *     resharding moved from a master scanned already to one not scanned yet is counted twice)
     * @param fenced values turned into fences (in a dry run: values that would be)
     * @param newer always 0: the first release read versions in one call and fenced in another, gated on the version
     *     read, and counted here the values a newer event overwrote in between; the fence is now taken in the same
     *     script as the read, so there is no in between (kept so that callers built against that release still run)
     * @param unchanged fences and tombstones, left as they are
     * @param gone keys that expired or went away between the scan and the fence
     * @param elapsed time since the scan started (waiting for the pipeline excluded)
     */
    public record Progress(
            long matched, long fenced, @Deprecated long newer, long unchanged, long gone, Duration elapsed) {
        /** Entries examined per second. */
        public double ratePerSecond() {
            double s = elapsed.toNanos() / 1e9;
            return s <= 0 ? 0 : matched / s;
        }
    }

    /**
     * @param outcome how it ended
     * @param progress the final counts
     * @param startedAt when the purge started (before waiting for the pipeline)
     * @param announcedPartitions partitions of the invalidations topic the purge was announced on (0 if not)
     * @param detail why it did not complete, or {@code ""}
     */
    public record Result(
            Outcome outcome, Progress progress, Instant startedAt, int announcedPartitions, String detail) {}

    private CachePurge() {}

    /**
     * Runs a purge (see the class comment) and returns how it ended. Counts into {@code registry}: {@value
     * WriterMeters#PURGES}{@code {entity_type, outcome}} and {@value WriterMeters#PURGE_ENTRIES}{@code {entity_type,
     * outcome}}.
     *
     * @param config the writer's settings: Kafka, topics, its group id (waited for) and the key prefix (required)
     * @param redis the Redis (standalone or cluster) to purge
     * @param listener called after each scanned page, on the calling thread
     * @param cancelled polled between pages
     * @throws io.lettuce.core.RedisException if Redis fails
     * @throws org.apache.kafka.common.KafkaException if Kafka fails (the purge may then be run again)
     */
    public static Result run(
            WriterConfig config,
            RedisTarget redis,
            Request request,
            MeterRegistry registry,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        Objects.requireNonNull(config, "config");
        if (config.keyPrefix() == null) {
            throw new IllegalArgumentException("a purge needs the key prefix: config.keyPrefix() was null");
        }
        return new PurgeDriver(
                        config,
                        Objects.requireNonNull(redis, "redis"),
                        Objects.requireNonNull(request, "request"),
                        Objects.requireNonNull(registry, "registry"))
                .run(Objects.requireNonNull(listener, "listener"), Objects.requireNonNull(cancelled, "cancelled"));
    }
}
