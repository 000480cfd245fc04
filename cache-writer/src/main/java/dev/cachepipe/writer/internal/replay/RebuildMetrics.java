package dev.cachepipe.writer.internal.replay;

import static dev.cachepipe.writer.WriterMeters.*;

import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.WriterMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The rebuild's meters, all named {@code cachepipe.rebuild.*}: runs started and finished by outcome, whether one is
 * active, its progress, records by outcome. Removed from the registry on {@link #close()}. Thread-safe.
 */
public final class RebuildMetrics implements AutoCloseable {
    private final MeterRegistry registry;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final java.util.Map<String, Counter> finished = new java.util.concurrent.ConcurrentHashMap<>();
    private final Counter started;
    private final Counter applied;
    private final Counter stale;
    private final Counter duplicate;
    private final Counter expired;
    private final Counter invalidations;
    private final Timer duration;
    private volatile boolean active;
    private volatile double progress;
    private volatile long remaining;
    private volatile CacheRebuild.Progress last;

    public RebuildMetrics(MeterRegistry registry) {
        this.registry = registry;
        started = add(Counter.builder(REBUILD_STARTED)
                .description("Rebuilds of Redis from the mutations topic that started")
                .register(registry));
        for (CacheRebuild.Outcome o : CacheRebuild.Outcome.values()) {
            if (o != CacheRebuild.Outcome.BUSY) {
                finished(o); // registered up front, so that every outcome is visible at 0
            }
        }
        finished(REBUILD_FAILED);
        applied = records(WriteOutcome.APPLIED);
        stale = records(WriteOutcome.STALE);
        duplicate = records(WriteOutcome.DUPLICATE);
        expired = add(Counter.builder(REBUILD_EXPIRED)
                .description("Rebuild writes applied although their TTL had run out (written with a 1 ms TTL)")
                .register(registry));
        invalidations = add(Counter.builder(REBUILD_INVALIDATIONS_PUBLISHED)
                .description("Invalidations a rebuild published for writes that may not have been announced yet")
                .register(registry));
        duration = add(Timer.builder(REBUILD_DURATION)
                .description("Duration of completed rebuilds")
                .register(registry));
        add(Gauge.builder(REBUILD_ACTIVE, this, m -> m.active ? 1 : 0)
                .description("1 while a rebuild runs in this process, else 0")
                .strongReference(true)
                .register(registry));
        add(Gauge.builder(REBUILD_PROGRESS, this, m -> m.progress)
                .description("Fraction (0 to 1) of the current or last rebuild's records read")
                .strongReference(true)
                .register(registry));
        add(Gauge.builder(REBUILD_REMAINING, this, m -> m.remaining)
                .description("Records the current rebuild has still to read")
                .baseUnit("records")
                .strongReference(true)
                .register(registry));
    }

    private Counter records(WriteOutcome outcome) {
        return add(Counter.builder(REBUILD_RECORDS)
                .description("Writes of rebuilds by outcome: applied, stale (Redis newer), duplicate (same version)")
                .tag(OUTCOME, outcome.tag())
                .register(registry));
    }

    private Counter finished(CacheRebuild.Outcome o) {
        return finished(WriterMeters.rebuildOutcomeTag(o));
    }

    private Counter finished(String outcome) {
        return finished.computeIfAbsent(
                outcome,
                o -> add(Counter.builder(REBUILD_FINISHED)
                        .description("Rebuilds that ended, by outcome: completed, lease_lost, cancelled, failed")
                        .tag(OUTCOME, o)
                        .register(registry)));
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    void started(long total) {
        started.increment();
        active = true;
        progress = total == 0 ? 1.0 : 0.0;
        remaining = total;
    }

    /** Writes a rebuild applied, by outcome; {@code expired} of the applied ones had no TTL left. */
    void written(long appliedWrites, long staleWrites, long duplicateWrites, long expiredWrites) {
        applied.increment(appliedWrites);
        stale.increment(staleWrites);
        duplicate.increment(duplicateWrites);
        expired.increment(expiredWrites);
    }

    void published(long count) {
        invalidations.increment(count);
    }

    void progress(CacheRebuild.Progress p) {
        progress = p.fraction();
        remaining = Math.max(0, p.total() - p.read());
        last = p;
    }

    void finished(CacheRebuild.Outcome outcome, Duration elapsed) {
        finished(outcome).increment();
        if (outcome == CacheRebuild.Outcome.COMPLETED) {
            duration.record(elapsed);
            progress = 1.0;
            remaining = 0;
        }
        active = false;
    }

    void failed() {
        finished(REBUILD_FAILED).increment();
        active = false;
    }

    /** The progress of the current or last rebuild, or null if none ran. */
    public CacheRebuild.Progress last() {
        return last;
    }

    @Override
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
    }
}
