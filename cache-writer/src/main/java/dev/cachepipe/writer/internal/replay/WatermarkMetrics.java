package dev.cachepipe.writer.internal.replay;

import static dev.cachepipe.writer.WriterMeters.*;

import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.internal.apply.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;

/**
 * The watermarks' meters, all named {@code cachepipe.writer.watermark.*}: gaps found, replays started, records they
 * read, gaps open now. Removed from the registry on {@link #close()}. Thread-safe.
 */
public final class WatermarkMetrics implements ReplayMetrics, AutoCloseable {
    private final MeterSet meters;
    private final Counter gaps;
    private final Counter replays;
    private final Counter records;
    private volatile int openGaps;
    private long lastRead; // the replay thread's

    public WatermarkMetrics(MeterRegistry registry) {
        meters = new MeterSet(registry);
        gaps = meters.counter(
                WATERMARK_GAPS,
                "Partitions found behind in Redis: it went back in time (restart from an older snapshot, failover)");
        replays =
                meters.counter(WATERMARK_REPLAYS, "Replays of partitions that Redis lost part of, from its watermark");
        records = meters.counter(WATERMARK_REPLAYED_RECORDS, "Mutation records read by those replays");
        meters.gauge(
                WATERMARK_OPEN_GAPS,
                "Partitions of this writer whose lost part is not replayed yet",
                null,
                this,
                m -> m.openGaps);
    }

    /** A partition was found behind. */
    public void gap() {
        gaps.increment();
    }

    /** Partitions whose gap is open now. */
    public void openGaps(int partitions) {
        openGaps = partitions;
    }

    /** The records replays read so far (the counter's value). */
    public long replayedRecords() {
        return (long) records.count();
    }

    @Override
    public void started(long total) {
        replays.increment();
        lastRead = 0;
    }

    @Override
    public void written(long appliedWrites, long staleWrites, long duplicateWrites, long expiredWrites) {}

    @Override
    public void guarded(long count) {} // part of the replay's cost, not a separate figure

    @Override
    public void published(long count) {}

    @Override
    public void progress(CacheRebuild.Progress p) {
        if (p.read() > lastRead) {
            records.increment(p.read() - lastRead);
            lastRead = p.read();
        }
    }

    @Override
    public void finished(CacheRebuild.Outcome outcome, Duration elapsed) {}

    @Override
    public void failed() {}

    @Override
    public void close() {
        meters.close();
    }
}
