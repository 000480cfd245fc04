package dev.cachepipe.writer;

import java.util.Locale;

/**
 * Names and tags of the meters the cache writer and its rebuilds register: the contract that dashboards, {@code
 * cachepipe stats}, the demo and tests compile against instead of retyping strings. Tag values of {@code outcome} are
 * {@link WriteOutcome#tag()} for writes and {@link #rebuildOutcomeTag} for finished rebuilds.
 */
public final class WriterMeters {
    /** Prefix of the live writer's meters. */
    public static final String WRITER_PREFIX = "cachepipe.writer.";

    /** Counter: script calls, tags {@link #OUTCOME} ({@link WriteOutcome}) and {@link #ENTITY_TYPE}. */
    public static final String WRITES = WRITER_PREFIX + "writes";
    /** Distribution summary: records per polled batch. */
    public static final String BATCH_SIZE = WRITER_PREFIX + "batch.size";
    /** Timer (p50, p99 published): time for one pipelined batch of script calls to be answered. */
    public static final String REDIS_LATENCY = WRITER_PREFIX + "redis.latency";
    /** Timer (p50, p95, p99 published): from the domain event's occurredAt to Redis acknowledging the write. */
    public static final String FRESHNESS = WRITER_PREFIX + "freshness";
    /** Counter: invalidations acknowledged by Kafka. */
    public static final String INVALIDATIONS_PUBLISHED = WRITER_PREFIX + "invalidations.published";
    /** Counter: retries after Redis or Kafka failed, tag {@link #STAGE} ({@link #STAGE_REDIS}, {@link #STAGE_KAFKA}). */
    public static final String RETRIES = WRITER_PREFIX + "retries";
    /** Counter: mutations dropped because a higher version of the same key was in the batch. */
    public static final String COALESCED = WRITER_PREFIX + "coalesced";
    /** Counter: mutation records that did not decode or could not be applied. */
    public static final String SKIPPED = WRITER_PREFIX + "skipped";
    /**
     * Counter: batches dropped before they were fully written and announced, because a partition of theirs was revoked
     * or lost meanwhile (their new owner writes them; nothing of theirs is committed).
     */
    public static final String BATCHES_DISOWNED = WRITER_PREFIX + "batches.disowned";
    /** Gauge: mutation records not yet read by this writer, over its assigned partitions. */
    public static final String LAG = WRITER_PREFIX + "lag";
    /** Gauge: 1 while Redis and Kafka are reachable, else 0. */
    public static final String HEALTHY = WRITER_PREFIX + "healthy";

    /** Prefix of the meters of the watermarks, which find and replay what a Redis that went back in time lost. */
    public static final String WATERMARK_PREFIX = WRITER_PREFIX + "watermark.";

    /** Counter: partitions found behind in Redis (its watermark below what the writer knows it wrote or committed). */
    public static final String WATERMARK_GAPS = WATERMARK_PREFIX + "gaps";
    /** Counter: replays of such gaps that started (each covers the gaps open then, from each watermark on). */
    public static final String WATERMARK_REPLAYS = WATERMARK_PREFIX + "replays";
    /** Counter: mutation records those replays read (the offsets they covered). */
    public static final String WATERMARK_REPLAYED_RECORDS = WATERMARK_PREFIX + "replayed.records";
    /** Gauge: partitions of this writer whose gap is open (found, not yet replayed). */
    public static final String WATERMARK_OPEN_GAPS = WATERMARK_PREFIX + "open.gaps";

    /** Prefix of the rebuilds' meters (self-healing and {@code cachepipe rebuild}). */
    public static final String REBUILD_PREFIX = "cachepipe.rebuild.";

    /** Counter: rebuilds that started. */
    public static final String REBUILD_STARTED = REBUILD_PREFIX + "started";
    /** Counter: rebuilds that ended, tag {@link #OUTCOME} ({@link #rebuildOutcomeTag}). */
    public static final String REBUILD_FINISHED = REBUILD_PREFIX + "finished";
    /** Counter: writes of rebuilds, tag {@link #OUTCOME} ({@link WriteOutcome}). */
    public static final String REBUILD_RECORDS = REBUILD_PREFIX + "records";
    /** Counter: rebuild writes applied although their TTL had run out (written with a 1 ms TTL). */
    public static final String REBUILD_EXPIRED = REBUILD_PREFIX + "expired";
    /**
     * Counter: guards the first pass of a rebuild wrote, a fence one version below a key's newest version, so that the
     * record pass writes nothing older; only for a range of more keys than the first pass notes in memory (see {@link
     * CacheRebuild}).
     */
    public static final String REBUILD_GUARDS = REBUILD_PREFIX + "guards";
    /** Counter: invalidations a rebuild published for writes that may not have been announced yet. */
    public static final String REBUILD_INVALIDATIONS_PUBLISHED = REBUILD_PREFIX + "invalidations.published";
    /** Timer: duration of completed rebuilds. */
    public static final String REBUILD_DURATION = REBUILD_PREFIX + "duration";
    /** Gauge: 1 while a rebuild runs in this process. */
    public static final String REBUILD_ACTIVE = REBUILD_PREFIX + "active";
    /** Gauge: fraction (0 to 1) of the current or last rebuild's records read. */
    public static final String REBUILD_PROGRESS = REBUILD_PREFIX + "progress";
    /** Gauge: records the current rebuild has still to read. */
    public static final String REBUILD_REMAINING = REBUILD_PREFIX + "remaining";

    /** Counter: purges ({@code cachepipe purge}, {@link CachePurge}) that ended, tags {@code entity_type}, {@link #OUTCOME}. */
    public static final String PURGES = "cachepipe.purges";
    /**
     * Counter: entries purges examined, tags {@code entity_type} and {@link #OUTCOME} {@code fenced},
     * {@code unchanged} (a fence or tombstone already), {@code gone} (expired or deleted since the scan).
     */
    public static final String PURGE_ENTRIES = "cachepipe.purge.entries";

    /** Tag: what a write or a rebuild came to. */
    public static final String OUTCOME = "outcome";
    /** Tag: the entity type of a write ({@code other} for a name that is not a valid entity type). */
    public static final String ENTITY_TYPE = "entity_type";
    /** Tag: which dependency a retry waited for. */
    public static final String STAGE = "stage";
    /** {@link #STAGE} value: Redis. */
    public static final String STAGE_REDIS = "redis";
    /** {@link #STAGE} value: Kafka. */
    public static final String STAGE_KAFKA = "kafka";
    /** {@link #OUTCOME} value of {@link #REBUILD_FINISHED} for a rebuild that threw. */
    public static final String REBUILD_FAILED = "failed";

    private WriterMeters() {}

    /** The {@link #OUTCOME} tag of {@link #REBUILD_FINISHED}: {@code completed}, {@code lease_lost}, ... */
    public static String rebuildOutcomeTag(CacheRebuild.Outcome outcome) {
        return outcome.name().toLowerCase(Locale.ROOT);
    }
}
