package dev.cachepipe.app.demo;

import dev.cachepipe.app.ops.Metrics;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.WriterMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Reads the cache writer's {@link WriterMeters} from a registry (0 while a meter is not there yet), for the demo's
 * progress line and for tests.
 */
public final class WriterStats {
    private final MeterRegistry registry;

    public WriterStats(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Script calls that came to {@code outcome}, all entity types. */
    public long writes(WriteOutcome outcome) {
        return (long) registry.find(WriterMeters.WRITES).tag(WriterMeters.OUTCOME, outcome.tag()).counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    /** Invalidations Kafka acknowledged. */
    public long invalidations() {
        Counter c = registry.find(WriterMeters.INVALIDATIONS_PUBLISHED).counter();
        return c == null ? 0 : (long) c.count();
    }

    /** The freshness percentile {@code p} (e.g. 0.99) in milliseconds, or -1 if not known. */
    public double freshnessMillis(double p) {
        return Metrics.percentileMillis(registry.find(WriterMeters.FRESHNESS).timer(), p);
    }
}
