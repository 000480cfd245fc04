package dev.cachepipe.writer.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/** The writer's meters, all named {@code cachepipe.writer.*}. Removed from the registry on {@link #close()}. */
final class WriterMetrics implements AutoCloseable {
    static final String PREFIX = "cachepipe.writer.";

    private final MeterRegistry registry;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final Map<String, Counter> writes = new ConcurrentHashMap<>();
    private final DistributionSummary batchSize;
    private final Timer redisLatency;
    private final Timer freshness;
    private final Counter invalidationsPublished;
    private final Counter redisRetries;
    private final Counter kafkaRetries;
    private final Counter coalesced;
    private final Counter skipped;
    private volatile long lag;

    WriterMetrics(MeterRegistry registry, BooleanSupplier healthy) {
        this.registry = registry;
        batchSize = add(DistributionSummary.builder(PREFIX + "batch.size")
                .description("Records per polled batch")
                .baseUnit("records")
                .register(registry));
        redisLatency = add(Timer.builder(PREFIX + "redis.latency")
                .description("Time for one pipelined batch of script calls to be answered")
                .publishPercentiles(0.5, 0.99)
                .register(registry));
        freshness = add(Timer.builder(PREFIX + "freshness")
                .description("From the domain event's occurredAt to Redis acknowledging the write")
                .publishPercentiles(0.5, 0.95, 0.99)
                .register(registry));
        invalidationsPublished = add(Counter.builder(PREFIX + "invalidations.published")
                .description("Invalidations acknowledged by Kafka")
                .register(registry));
        redisRetries = add(retries("redis"));
        kafkaRetries = add(retries("kafka"));
        coalesced = add(Counter.builder(PREFIX + "coalesced")
                .description("Mutations dropped because a higher version of the same key was in the batch")
                .register(registry));
        skipped = add(Counter.builder(PREFIX + "skipped")
                .description("Mutation records that did not decode or could not be applied")
                .register(registry));
        add(Gauge.builder(PREFIX + "lag", this, m -> m.lag)
                .description("Mutation records not yet read by this writer, over its assigned partitions")
                .baseUnit("records")
                .strongReference(true)
                .register(registry));
        add(Gauge.builder(PREFIX + "healthy", healthy, h -> h.getAsBoolean() ? 1 : 0)
                .description("1 while Redis and Kafka are reachable, else 0")
                .strongReference(true)
                .register(registry));
    }

    private Counter retries(String stage) {
        return Counter.builder(PREFIX + "retries")
                .description("Retries after Redis or Kafka failed")
                .tag("stage", stage)
                .register(registry);
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    void write(String outcome, String entityType) {
        writes.computeIfAbsent(
                        outcome + '\0' + entityType,
                        k -> add(Counter.builder(PREFIX + "writes")
                                .description("Script calls by outcome: applied, stale (older than stored), duplicate")
                                .tag("outcome", outcome)
                                .tag("entity_type", entityType)
                                .register(registry)))
                .increment();
    }

    void batch(int records, int coalescedRecords, int skippedRecords) {
        batchSize.record(records);
        if (coalescedRecords > 0) {
            coalesced.increment(coalescedRecords);
        }
        if (skippedRecords > 0) {
            skipped.increment(skippedRecords);
        }
    }

    void redisLatency(long nanos) {
        redisLatency.record(Duration.ofNanos(nanos));
    }

    void freshness(long occurredAtMillis, long ackAtMillis) {
        freshness.record(Duration.ofMillis(Math.max(0, ackAtMillis - occurredAtMillis)));
    }

    void published(int count) {
        invalidationsPublished.increment(count);
    }

    void lag(long records) {
        lag = records;
    }

    void redisRetry() {
        redisRetries.increment();
    }

    void kafkaRetry() {
        kafkaRetries.increment();
    }

    @Override
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
        writes.clear();
    }
}
