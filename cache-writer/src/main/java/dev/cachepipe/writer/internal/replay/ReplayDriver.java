package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.CacheRebuild.Outcome;
import dev.cachepipe.writer.CacheRebuild.Progress;
import dev.cachepipe.writer.WriterConfig;
import dev.cachepipe.writer.internal.apply.Announcer;
import dev.cachepipe.writer.internal.apply.ApplyEngine;
import dev.cachepipe.writer.internal.apply.CoalescedBatch;
import dev.cachepipe.writer.internal.apply.Coalescer;
import dev.cachepipe.writer.internal.apply.Health;
import dev.cachepipe.writer.internal.apply.KafkaClients;
import dev.cachepipe.writer.internal.apply.PendingWrite;
import dev.cachepipe.writer.internal.apply.RedisBatchWriter;
import dev.cachepipe.writer.internal.apply.RetryLoop;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replay driver behind {@link CacheRebuild}; not API. One instance runs one rebuild on the calling thread: the
 * marker/lease protocol ({@link RebuildLease}), a bounded {@link ReplaySource}, and the shared {@link ApplyEngine}
 * with a connection of its own (from the caller's {@link RedisConnector}), waiting cancellably.
 */
public final class ReplayDriver {
    private static final Logger log = LoggerFactory.getLogger("dev.cachepipe.writer.CacheRebuild");

    /** Whether the rebuild takes part in the marker protocol. */
    enum Mode {
        /** A partial rebuild: the marker is neither read nor written. */
        NONE,
        /** The caller took the lease already (the writer's self-healing). */
        ACQUIRED,
        /** Take the lease even if the marker says complete ({@code cachepipe rebuild}). */
        FORCE
    }

    private final WriterConfig config;
    private final RedisConnector connector;
    private final String entityType;
    private final String keyBase;
    private final ReplayMetrics metrics;
    private final String holder;
    private final Map<TopicPartition, ReplaySource.Range> ranges; // null: the whole topic

    ReplayDriver(
            WriterConfig config, RedisConnector connector, String entityType, ReplayMetrics metrics, String holder) {
        this(config, connector, entityType, metrics, holder, null);
    }

    /** A driver that replays only {@code ranges} of the mutations topic (run it with {@link Mode#NONE}). */
    ReplayDriver(
            WriterConfig config,
            RedisConnector connector,
            ReplayMetrics metrics,
            String holder,
            Map<TopicPartition, ReplaySource.Range> ranges) {
        this(config, connector, null, metrics, holder, Map.copyOf(ranges));
    }

    private ReplayDriver(
            WriterConfig config,
            RedisConnector connector,
            String entityType,
            ReplayMetrics metrics,
            String holder,
            Map<TopicPartition, ReplaySource.Range> ranges) {
        this.ranges = ranges;
        this.config = config;
        this.connector = connector;
        this.entityType = entityType;
        this.keyBase = entityType == null ? null : RedisLayout.keyBase(config.keyPrefix(), entityType);
        this.metrics = metrics;
        this.holder = holder;
    }

    /** {@link CacheRebuild#run}: a full rebuild takes the lease by force, a partial one ignores the marker. */
    public static CacheRebuild.Result runStandalone(
            WriterConfig config,
            RedisURI redisUri,
            String entityType,
            MeterRegistry registry,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        try (RebuildMetrics metrics = new RebuildMetrics(registry);
                RedisConnector connector = RedisConnector.create(
                        redisUri, config.redisTimeout(), config.retryBackoffMin(), config.retryBackoffMax())) {
            ReplayDriver r =
                    new ReplayDriver(config, connector, entityType, metrics, RebuildLease.holder("cachepipe rebuild"));
            Mode mode = entityType == null ? Mode.FORCE : Mode.NONE;
            return r.run(mode, RebuildLease.newToken(), listener, cancelled);
        }
    }

    /** Runs the rebuild. Releases the lease unless it completed. */
    CacheRebuild.Result run(Mode mode, String token, Consumer<Progress> listener, BooleanSupplier cancelled) {
        try (RedisBatchWriter redis = new RedisBatchWriter(connector, config.redisTimeout())) {
            return run(redis, mode, token, listener, cancelled);
        }
    }

    private CacheRebuild.Result run(
            RedisBatchWriter redis, Mode mode, String token, Consumer<Progress> listener, BooleanSupplier cancelled) {
        long t0 = System.nanoTime();
        RetryLoop.Waiter waiter = new CancellableSleep(cancelled);
        ReplayCounts counts = new ReplayCounts(metrics);
        RebuildLease lease = null;
        boolean holdsLease = false;
        boolean started = false;
        try {
            if (mode != Mode.NONE) {
                Marker marker = retrying(
                        "reach Redis",
                        () -> Marker.over(redis, config.keyPrefix(), config.redisTimeout()),
                        redis,
                        waiter);
                if (marker == null) {
                    return new CacheRebuild.Result(Outcome.CANCELLED, empty(t0));
                }
                lease = new RebuildLease(marker, token);
                holdsLease = mode == Mode.ACQUIRED;
                if (mode == Mode.FORCE) {
                    RebuildLease l = lease;
                    Long r = retrying("take the rebuild lease", () -> l.begin(true, holder), redis, waiter);
                    if (r == null) {
                        return new CacheRebuild.Result(Outcome.CANCELLED, empty(t0));
                    }
                    if (r == Marker.BEGIN_BUSY) {
                        return new CacheRebuild.Result(Outcome.BUSY, empty(t0));
                    }
                    holdsLease = true;
                }
            }
            try (ReplaySource source = new ReplaySource(config);
                    Announcer announcer = announcer(waiter, counts)) {
                if (ranges != null) {
                    source.open(ranges);
                } else {
                    source.open();
                }
                counts.started(source.total());
                started = true;
                if (ranges != null) {
                    log.info(
                            "Replaying {} records of {} that Redis lost: {}",
                            source.total(),
                            config.mutationsTopic(),
                            ranges);
                } else {
                    log.info(
                            "Rebuilding Redis from {}{}: {} records in {} partitions (writes at or after the committed"
                                    + " offsets of group {} are announced)",
                            config.mutationsTopic(),
                            entityType == null ? "" : " (entity type " + entityType + " only)",
                            source.total(),
                            source.partitions(),
                            config.groupId());
                }
                ApplyEngine engine =
                        new ApplyEngine(redis, retryLoop("Rebuild: Redis", waiter), announcer, hooks(source, counts));
                Outcome outcome = replay(source, engine, lease, counts, listener, cancelled);
                if (outcome == Outcome.COMPLETED && lease != null) {
                    Boolean ok = retrying("mark Redis complete", lease::complete, redis, waiter);
                    if (ok == null) {
                        outcome = Outcome.CANCELLED;
                    } else {
                        holdsLease = false;
                        outcome = ok ? Outcome.COMPLETED : Outcome.LEASE_LOST;
                    }
                }
                Progress p = counts.progress();
                metrics.finished(outcome, p.elapsed());
                return new CacheRebuild.Result(outcome, p);
            }
        } catch (RuntimeException | Error e) {
            if (started) {
                metrics.failed();
            }
            throw e;
        } finally {
            if (holdsLease) {
                lease.releaseQuietly(); // over the rebuild's connection, before it closes
            }
        }
    }

    /** Reads, coalesces and applies batch after batch until every partition reached its end. */
    private Outcome replay(
            ReplaySource source,
            ApplyEngine engine,
            RebuildLease lease,
            ReplayCounts counts,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        Coalescer coalescer = new Coalescer(AvroSerde.of(CacheMutation.class), rules(source));
        listener.accept(counts.progress());
        while (!source.done()) {
            if (cancelled.getAsBoolean()) {
                return Outcome.CANCELLED;
            }
            if (lease != null && !lease.renewIfDue()) {
                return Outcome.LEASE_LOST;
            }
            CoalescedBatch batch = coalescer.coalesce(source.poll());
            if (!batch.blocked().isEmpty()) {
                // a newer instance's mutation: skipping it would lose it, and the marker would say complete
                throw new IllegalStateException("the mutation at " + batch.blocked()
                        + " has a schema this writer does not know: upgrade it, then rebuild");
            }
            batch.skipped()
                    .forEach(s ->
                            log.debug("Skipping mutation record at {}@{}: {}", s.partition(), s.offset(), s.reason()));
            counts.filtered(batch.filtered() + batch.skipped().size());
            if (!engine.apply(batch.writes())) {
                return Outcome.CANCELLED;
            }
            if (counts.read(source.advance()) || !batch.writes().isEmpty()) {
                listener.accept(counts.report());
            }
        }
        listener.accept(counts.progress());
        return Outcome.COMPLETED;
    }

    /** Only the records before the captured end; of one entity type if asked; each with the TTL it has left. */
    private Coalescer.Rules rules(ReplaySource source) {
        return new Coalescer.Rules() {
            @Override
            public boolean inScope(ConsumerRecord<String, byte[]> record) {
                return source.inScope(record);
            }

            @Override
            public boolean wantedKey(String recordKey) {
                return keyBase == null || recordKey == null || recordKey.startsWith(keyBase);
            }

            @Override
            public boolean wanted(CacheMutation mutation) {
                return entityType == null || entityType.equals(mutation.getEntityType());
            }

            @Override
            public CacheMutation adjust(CacheMutation m) {
                return remainingTtl(m, System.currentTimeMillis());
            }
        };
    }

    /**
     * {@code m} with the TTL it has left, {@code occurredAt + ttl - now} (at most {@code ttl}); one whose TTL ran out
     * already is still written, with {@link ReplayCounts#EXPIRED_TTL_MILLIS}, so that it keeps an older version of its
     * key from coming back (see {@link CacheRebuild}).
     */
    static CacheMutation remainingTtl(CacheMutation m, long nowMillis) {
        long left = m.getOccurredAt().toEpochMilli() + m.getTtlMillis() - nowMillis;
        long ttl = left <= 0 ? ReplayCounts.EXPIRED_TTL_MILLIS : Math.min(m.getTtlMillis(), left);
        return ttl == m.getTtlMillis()
                ? m
                : CacheMutation.newBuilder(m).setTtlMillis(ttl).build();
    }

    /** Counts the outcomes, and announces only what the live writer may not have announced yet. */
    private static ApplyEngine.Hooks hooks(ReplaySource source, ReplayCounts counts) {
        return new ApplyEngine.Hooks() {
            @Override
            public void written(List<PendingWrite> writes) {
                counts.written(writes);
            }

            @Override
            public boolean announces(PendingWrite write) {
                return !source.announcedBefore(write.partition(), write.offset());
            }
        };
    }

    /** The invalidations producer is created when the first invalidation is due: most rebuilds announce nothing. */
    private Announcer announcer(RetryLoop.Waiter waiter, ReplayCounts counts) {
        return new Announcer(
                () -> new KafkaProducer<>(
                        KafkaClients.producer(config), new StringSerializer(), new ByteArraySerializer()),
                config.invalidationsTopic(),
                retryLoop("Rebuild: Kafka", waiter),
                counts::published);
    }

    private RetryLoop retryLoop(String dependency, RetryLoop.Waiter waiter) {
        return new RetryLoop(
                config.retryBackoffMin(), config.retryBackoffMax(), new Health(dependency, log), () -> {}, waiter);
    }

    /** Calls {@code action} until it returns non-null without throwing; null if cancelled first. */
    private <T> T retrying(String what, Supplier<T> action, RedisBatchWriter redis, RetryLoop.Waiter waiter) {
        AtomicReference<T> result = new AtomicReference<>();
        boolean done = retryLoop("Rebuild: Redis (to " + what + ")", waiter).run(() -> {
            try {
                result.set(action.get());
                if (result.get() != null) {
                    return null;
                }
                String failure = redis.ensureConnected();
                return failure != null ? failure : "no answer";
            } catch (RuntimeException e) {
                return Redact.describe(e);
            }
        });
        return done ? result.get() : null;
    }

    private static Progress empty(long t0) {
        return new Progress(0, 0, 0, 0, 0, 0, 0, 0, Duration.ofNanos(System.nanoTime() - t0));
    }
}
