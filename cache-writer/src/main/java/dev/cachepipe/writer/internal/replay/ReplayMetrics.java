package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.writer.CacheRebuild;
import java.time.Duration;

/**
 * Where a replay counts: {@link RebuildMetrics} for rebuilds ({@code cachepipe.rebuild.*}), {@link WatermarkMetrics}
 * for the replays of a Redis that went back ({@code cachepipe.writer.watermark.*}). Called from the replay's thread.
 */
interface ReplayMetrics {
    void started(long total);

    /** Writes the replay applied, by outcome; {@code expired} of the applied ones had no TTL left. */
    void written(long appliedWrites, long staleWrites, long duplicateWrites, long expiredWrites);

    /** Guard fences written by the first pass (see {@link ReplayDriver}). */
    void guarded(long count);

    void published(long count);

    void progress(CacheRebuild.Progress p);

    void finished(CacheRebuild.Outcome outcome, Duration elapsed);

    void failed();
}
