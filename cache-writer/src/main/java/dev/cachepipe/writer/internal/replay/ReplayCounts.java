package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.writer.CacheRebuild.Progress;
import dev.cachepipe.writer.internal.apply.PendingWrite;
import java.time.Duration;
import java.util.List;

/** What one rebuild has done so far; rebuild thread only. */
final class ReplayCounts {
    /** The TTL of a write whose TTL had run out already (see {@link dev.cachepipe.writer.CacheRebuild}). */
    static final long EXPIRED_TTL_MILLIS = 1;

    private final ReplayMetrics metrics;
    private long t0 = System.nanoTime();
    private long total;
    private long read;
    private long applied;
    private long stale;
    private long duplicate;
    private long expired;
    private long filtered;
    /** Added to on the producer's I/O thread as acknowledgements arrive. */
    private final java.util.concurrent.atomic.LongAdder invalidations = new java.util.concurrent.atomic.LongAdder();

    ReplayCounts(ReplayMetrics metrics) {
        this.metrics = metrics;
    }

    /** The replay starts now (the clients are connected and the offsets known), with {@code total} records. */
    void started(long total) {
        this.total = total;
        this.t0 = System.nanoTime();
        metrics.started(total);
    }

    /** Records read so far; true if that changed. */
    boolean read(long read) {
        boolean changed = read != this.read;
        this.read = read;
        return changed;
    }

    void filtered(int records) {
        filtered += records;
    }

    /** Records skipped because a newer one of the same key follows: counted as stale (Redis would refuse them). */
    void superseded(int records) {
        if (records > 0) {
            stale += records;
            metrics.written(0, records, 0, 0);
        }
    }

    /** Counts the outcomes of a batch whose writes all have a definite reply. */
    void written(List<PendingWrite> writes) {
        long a = 0;
        long st = 0;
        long d = 0;
        long ex = 0;
        for (PendingWrite w : writes) {
            switch (w.outcome()) {
                case APPLIED -> {
                    a++;
                    if (w.mutation().getTtlMillis() == EXPIRED_TTL_MILLIS) {
                        ex++;
                    }
                }
                case STALE -> st++;
                case DUPLICATE -> d++;
            }
        }
        applied += a;
        stale += st;
        duplicate += d;
        expired += ex;
        metrics.written(a, st, d, ex);
    }

    void published(int count) {
        invalidations.add(count);
        metrics.published(count);
    }

    /** The progress now, also kept as the metrics' last. */
    Progress report() {
        Progress p = progress();
        metrics.progress(p);
        return p;
    }

    Progress progress() {
        return new Progress(
                total,
                read,
                applied,
                stale,
                duplicate,
                expired,
                filtered,
                invalidations.sum(),
                Duration.ofNanos(System.nanoTime() - t0));
    }
}
