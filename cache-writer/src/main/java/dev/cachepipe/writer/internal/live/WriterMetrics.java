package dev.cachepipe.writer.internal.live;

import static dev.cachepipe.writer.WriterMeters.*;

import dev.cachepipe.writer.WriteOutcome;
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
        batchSize = add(DistributionSummary.builder(BATCH_SIZE)
                .description("Records per polled batch")
                .baseUnit("records")
                .register(registry));
        redisLatency = add(Timer.builder(REDIS_LATENCY)
                .description("Time for one pipelined batch of script calls to be answered")
                .publishPercentiles(0.5, 0.99)
                .register(registry));
        freshness = add(Timer.builder(FRESHNESS)
                .description("From the domain event's occurredAt to Redis acknowledging the write")
                .publishPercentiles(0.5, 0.95, 0.99)
                .register(registry));
        invalidationsPublished = add(Counter.builder(INVALIDATIONS_PUBLISHED)
                .description("Invalidations acknowledged by Kafka")
                .register(registry));
        redisRetries = add(retries(STAGE_REDIS));
        kafkaRetries = add(retries(STAGE_KAFKA));
        coalesced = add(Counter.builder(COALESCED)
                .description("Mutations dropped because a higher version of the same key was in the batch")
                .register(registry));
        skipped = add(Counter.builder(SKIPPED)
                .description("Mutation records that did not decode or could not be applied")
                .register(registry));
        add(Gauge.builder(LAG, this, m -> m.lag)
                .description("Mutation records not yet read by this writer, over its assigned partitions")
                .baseUnit("records")
                .strongReference(true)
                .register(registry));
        add(Gauge.builder(HEALTHY, healthy, h -> h.getAsBoolean() ? 1 : 0)
                .description("1 while Redis and Kafka are reachable, else 0")
                .strongReference(true)
                .register(registry));
    }

    private Counter retries(String stage) {
        return Counter.builder(RETRIES)
                .description("Retries after Redis or Kafka failed")
                .tag(STAGE, stage)
                .register(registry);
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    void write(WriteOutcome outcome, String entityType) {
        writes.computeIfAbsent(
                        outcome.tag() + '\0' + entityType,
                        k -> add(Counter.builder(WRITES)
                                .description("Script calls by outcome: applied, stale (older than stored), duplicate")
                                .tag(OUTCOME, outcome.tag())
                                .tag(ENTITY_TYPE, entityType)
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
