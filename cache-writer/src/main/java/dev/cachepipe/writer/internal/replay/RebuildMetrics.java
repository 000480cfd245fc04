package dev.cachepipe.writer.internal.replay;

import static dev.cachepipe.writer.WriterMeters.*;

import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.WriterMeters;
import dev.cachepipe.writer.internal.apply.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rebuild's meters, all named {@code cachepipe.rebuild.*}: runs started and finished by outcome, whether one is
 * active, its progress, records by outcome. Removed from the registry on {@link #close()}. Thread-safe.
 */
public final class RebuildMetrics implements ReplayMetrics, AutoCloseable {
    private final MeterSet meters;
    private final Map<String, Counter> finished = new ConcurrentHashMap<>();
    private final Counter started;
    private final Counter applied;
    private final Counter stale;
    private final Counter duplicate;
    private final Counter expired;
    private final Counter invalidations;
    private final Counter guards;
    private final Timer duration;
    private volatile boolean active;
    private volatile double progress;
    private volatile long remaining;
    private volatile CacheRebuild.Progress last;

    public RebuildMetrics(MeterRegistry registry) {
        meters = new MeterSet(registry);
        started = meters.counter(REBUILD_STARTED, "Rebuilds of Redis from the mutations topic that started");
        for (CacheRebuild.Outcome o : CacheRebuild.Outcome.values()) {
            if (o != CacheRebuild.Outcome.BUSY) {
                finished(WriterMeters.rebuildOutcomeTag(o)); // registered up front: every outcome is visible at 0
            }
        }
        finished(REBUILD_FAILED);
        applied = records(WriteOutcome.APPLIED);
        stale = records(WriteOutcome.STALE);
        duplicate = records(WriteOutcome.DUPLICATE);
        expired = meters.counter(
                REBUILD_EXPIRED, "Rebuild writes applied although their TTL had run out (written with a 1 ms TTL)");
        invalidations = meters.counter(
                REBUILD_INVALIDATIONS_PUBLISHED,
                "Invalidations a rebuild published for writes that may not have been announced yet");
        guards = meters.counter(
                REBUILD_GUARDS,
                "Guards (a fence one version below a key's newest) the first pass of rebuilds applied, so that the record"
                        + " pass writes nothing older");
        duration = meters.timer(REBUILD_DURATION, "Duration of completed rebuilds");
        meters.gauge(
                REBUILD_ACTIVE, "1 while a rebuild runs in this process, else 0", null, this, m -> m.active ? 1 : 0);
        meters.gauge(
                REBUILD_PROGRESS,
                "Fraction (0 to 1) of the current or last rebuild's records read",
                null,
                this,
                m -> m.progress);
        meters.gauge(
                REBUILD_REMAINING, "Records the current rebuild has still to read", "records", this, m -> m.remaining);
    }

    private Counter records(WriteOutcome outcome) {
        return meters.counter(
                REBUILD_RECORDS,
                "Writes of rebuilds by outcome: applied, stale (Redis newer), duplicate (same version)",
                OUTCOME,
                outcome.tag());
    }

    private Counter finished(String outcome) {
        return finished.computeIfAbsent(
                outcome,
                o -> meters.counter(
                        REBUILD_FINISHED,
                        "Rebuilds that ended, by outcome: completed, lease_lost, cancelled, failed",
                        OUTCOME,
                        o));
    }

    @Override
    public void started(long total) {
        started.increment();
        active = true;
        progress = total == 0 ? 1.0 : 0.0;
        remaining = total;
    }

    @Override
    public void written(long appliedWrites, long staleWrites, long duplicateWrites, long expiredWrites) {
        applied.increment(appliedWrites);
        stale.increment(staleWrites);
        duplicate.increment(duplicateWrites);
        expired.increment(expiredWrites);
    }

    @Override
    public void guarded(long count) {
        guards.increment(count);
    }

    @Override
    public void published(long count) {
        invalidations.increment(count);
    }

    @Override
    public void progress(CacheRebuild.Progress p) {
        progress = p.fraction();
        remaining = Math.max(0, p.total() - p.read());
        last = p;
    }

    @Override
    public void finished(CacheRebuild.Outcome outcome, Duration elapsed) {
        finished(WriterMeters.rebuildOutcomeTag(outcome)).increment();
        if (outcome == CacheRebuild.Outcome.COMPLETED) {
            duration.record(elapsed);
            progress = 1.0;
            remaining = 0;
        }
        active = false;
    }

    @Override
    public void failed() {
        finished(REBUILD_FAILED).increment();
        active = false;
    }

    /** The progress of the current or last rebuild, or null if none ran. */
    public CacheRebuild.Progress last() {
        return last;
    }

    @Override
    public void close() {
        meters.close();
    }
}
