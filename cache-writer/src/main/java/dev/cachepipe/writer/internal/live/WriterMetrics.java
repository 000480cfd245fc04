package dev.cachepipe.writer.internal.live;

import static dev.cachepipe.writer.WriterMeters.*;

import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.internal.apply.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/** The live writer's meters, all named {@code cachepipe.writer.*}. Removed from the registry on {@link #close()}. */
final class WriterMetrics implements AutoCloseable {
    private final MeterSet meters;
    /** Per outcome (by ordinal), the counter of each entity type seen. */
    private final Map<String, Counter>[] writes;

    private final DistributionSummary batchSize;
    private final Timer redisLatency;
    private final Timer freshness;
    private final Counter invalidationsPublished;
    private final Counter redisRetries;
    private final Counter kafkaRetries;
    private final Counter coalesced;
    private final Counter skipped;
    private final Counter batchesDisowned;
    private volatile long lag;

    WriterMetrics(MeterRegistry registry, BooleanSupplier healthy) {
        meters = new MeterSet(registry);
        @SuppressWarnings("unchecked")
        Map<String, Counter>[] byOutcome = new Map[WriteOutcome.values().length];
        for (int i = 0; i < byOutcome.length; i++) {
            byOutcome[i] = new ConcurrentHashMap<>();
        }
        writes = byOutcome;
        batchSize = meters.summary(BATCH_SIZE, "Records per polled batch", "records");
        redisLatency =
                meters.timer(REDIS_LATENCY, "Time for one pipelined batch of script calls to be answered", 0.5, 0.99);
        freshness = meters.timer(
                FRESHNESS, "From the domain event's occurredAt to Redis acknowledging the write", 0.5, 0.95, 0.99);
        invalidationsPublished = meters.counter(INVALIDATIONS_PUBLISHED, "Invalidations acknowledged by Kafka");
        String retried = "Retries after Redis or Kafka failed";
        redisRetries = meters.counter(RETRIES, retried, STAGE, STAGE_REDIS);
        kafkaRetries = meters.counter(RETRIES, retried, STAGE, STAGE_KAFKA);
        coalesced = meters.counter(
                COALESCED, "Mutations dropped because a higher version of the same key was in the batch");
        skipped = meters.counter(SKIPPED, "Mutation records that did not decode or could not be applied");
        batchesDisowned = meters.counter(
                BATCHES_DISOWNED, "Batches dropped in flight because a partition of theirs was revoked or lost");
        meters.gauge(
                LAG,
                "Mutation records not yet read by this writer, over its assigned partitions",
                "records",
                this,
                m -> m.lag);
        meters.gauge(
                HEALTHY, "1 while Redis and Kafka are reachable, else 0", null, healthy, h -> h.getAsBoolean() ? 1 : 0);
    }

    /**
     * Counts a script call of {@code outcome} for {@code entityType}: a map lookup per call, the type validated once
     * ({@code other} for a type that is not a valid name: bad input must not create meters).
     */
    void write(WriteOutcome outcome, String entityType) {
        Map<String, Counter> byType = writes[outcome.ordinal()];
        Counter c = entityType == null ? null : byType.get(entityType);
        if (c == null) {
            String tag = RedisLayout.isValidEntityType(entityType) ? entityType : "other";
            c = byType.computeIfAbsent(
                    tag,
                    t -> meters.counter(
                            WRITES,
                            "Script calls by outcome: applied, stale (older than stored), duplicate",
                            OUTCOME,
                            outcome.tag(),
                            ENTITY_TYPE,
                            t));
        }
        c.increment();
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

    void batchDisowned() {
        batchesDisowned.increment();
    }

    @Override
    public void close() {
        meters.close();
        for (Map<String, Counter> byType : writes) {
            byType.clear();
        }
    }
}
