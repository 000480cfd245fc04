package dev.cachepipe.app.demo;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.util.concurrent.TimeUnit;

/** Reads the cache writer's {@code cachepipe.writer.*} meters from a registry (0 while a meter is not there yet). */
final class WriterStats {
    static final String WRITES = "cachepipe.writer.writes";
    static final String INVALIDATIONS = "cachepipe.writer.invalidations.published";
    static final String FRESHNESS = "cachepipe.writer.freshness";

    private final MeterRegistry registry;

    WriterStats(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Script calls with {@code outcome} ({@code applied}, {@code stale}, {@code duplicate}), all entity types. */
    long writes(String outcome) {
        return (long) registry.find(WRITES).tag("outcome", outcome).counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    long invalidations() {
        Counter c = registry.find(INVALIDATIONS).counter();
        return c == null ? 0 : (long) c.count();
    }

    /** The freshness percentile {@code p} (e.g. 0.99) in milliseconds, or -1 if not known. */
    double freshnessMillis(double p) {
        Timer t = registry.find(FRESHNESS).timer();
        if (t == null || t.count() == 0) {
            return -1;
        }
        for (ValueAtPercentile v : t.takeSnapshot().percentileValues()) {
            if (Math.abs(v.percentile() - p) < 1e-9) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return -1;
    }
}
