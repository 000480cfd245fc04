package dev.cachepipe.writer.internal.apply;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;

/**
 * Meters registered together and removed together ({@link #close()}): what a driver's metrics class registers
 * through. Names come from {@link dev.cachepipe.writer.WriterMeters}. Thread-safe.
 */
public final class MeterSet implements AutoCloseable {
    private final MeterRegistry registry;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();

    public MeterSet(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A counter; {@code tags} are key, value pairs. */
    public Counter counter(String name, String description, String... tags) {
        return add(Counter.builder(name).description(description).tags(tags).register(registry));
    }

    /** A timer publishing these percentiles (none: no percentile gauges). */
    public Timer timer(String name, String description, double... percentiles) {
        Timer.Builder timer = Timer.builder(name).description(description);
        if (percentiles.length > 0) {
            timer.publishPercentiles(percentiles);
        }
        return add(timer.register(registry));
    }

    public DistributionSummary summary(String name, String description, String baseUnit) {
        return add(DistributionSummary.builder(name)
                .description(description)
                .baseUnit(baseUnit)
                .register(registry));
    }

    /** A gauge of {@code value(state)}, holding {@code state} strongly; {@code baseUnit} may be null. */
    public <T> void gauge(String name, String description, String baseUnit, T state, ToDoubleFunction<T> value) {
        add(Gauge.builder(name, state, value)
                .description(description)
                .baseUnit(baseUnit)
                .strongReference(true)
                .register(registry));
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    /** Removes every meter of this set from the registry. */
    @Override
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
    }
}
