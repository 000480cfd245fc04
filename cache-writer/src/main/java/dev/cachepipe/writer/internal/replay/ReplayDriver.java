package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.CacheRebuild.Outcome;
import dev.cachepipe.writer.CacheRebuild.Progress;
import dev.cachepipe.writer.WriteOutcome;
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
import dev.cachepipe.writer.internal.apply.Shard;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.ObjLongConsumer;
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
 *
 * <p><b>Two passes, so that no key is ever served a state older than the newest the replayed records hold.</b>
 * Coalescing works per poll: reading once, from the oldest record on, an upsert would be written (and served) before
 * the delete that follows it in a later poll, and a delete whose tombstone TTL has run out (written with 1 ms) would
 * end up serving nothing only after the upsert had been served. So:
 *
 * <ol>
 *   <li><b>First pass</b>: read the range once and note, in memory, the newest version of each key ({@link
 *       ReplayIndex}); nothing is written. A range of more keys than {@value #INDEX_MAX_KEYS_PROPERTY} allows
 *       ({@value #DEFAULT_INDEX_MAX_KEYS} by default, 0: never) is read again instead, writing for each record of
 *       version {@code v > 0} a <b>guard</b>, a fence at {@code v - 1} ({@link #guardOf}), version-gated like every
 *       write: each key ends up holding a fence just below its newest version (or something newer a live writer wrote
 *       meanwhile). A fence is a miss for readers (they load from the source); it is never served as a value. Nothing
 *       is announced or counted.
 *   <li><b>Record pass</b>: read the same range again ({@link ReplaySource#rewind}) and apply the records (TTL left;
 *       expired ones with 1 ms). With the index, only each key's newest record is written: an older one is skipped
 *       and counted as stale (Redis would refuse it once the newest is there), so no older state is ever written, and
 *       Redis runs one script per key instead of two per record. With guards, every record older than its key's
 *       newest meets a version at or above its own and changes nothing; the newest replaces the guard. Either way an
 *       expired newest state is written too and is gone 1 ms later: nothing older comes back.
 * </ol>
 *
 * <p>Memory stays bounded: the index up to its limit (some 64 MB at the default, never more than an eighth of the
 * heap), else one poll at a time. The price is reading the range twice, or three times with guards (plus one more
 * small write per key). A guard the second pass never reaches (cancelled, lease lost) is a fence that expires after
 * {@link #GUARD_TTL_MILLIS}: readers load meanwhile, and the next rebuild replaces it.
 */
public final class ReplayDriver {
    private static final Logger log = LoggerFactory.getLogger("dev.cachepipe.writer.CacheRebuild");

    /**
     * How long a guard of the first pass lives if the second pass never replaces it (a rebuild cancelled or whose
     * lease was lost in between): a fence, so readers miss and load until then. The second pass replaces every guard
     * it reaches within this time, so a rebuild must not take longer than this.
     */
    static final long GUARD_TTL_MILLIS = Duration.ofHours(24).toMillis();

    /** JVM property: the most keys the first pass keeps in memory; beyond, or at 0, it writes guards instead. */
    public static final String INDEX_MAX_KEYS_PROPERTY = "cachepipe.rebuild.indexMaxKeys";

    /** The most keys the first pass keeps in memory unless the property says otherwise (see {@link #indexMaxKeys}). */
    static final int DEFAULT_INDEX_MAX_KEYS = 500_000;

    /** Heap a key of the index takes, about: a key of 30 characters, its version, a {@code HashMap} node. */
    static final long INDEX_BYTES_PER_KEY = 128;

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
    /** The keys replayed and the marker used: every key and the one marker, or one shard of a cluster. */
    private final Shard shard;

    private final String keyBase;
    private final ReplayMetrics metrics;
    private final String holder;
    private final Map<TopicPartition, ReplaySource.Range> ranges; // null: the whole topic

    ReplayDriver(
            WriterConfig config, RedisConnector connector, String entityType, ReplayMetrics metrics, String holder) {
        this(config, connector, entityType, metrics, holder, null);
    }

    /**
     * A driver that replays only {@code ranges} of the mutations topic, writing only the keys of {@code keys} (run it
     * with {@link Mode#NONE}).
     */
    ReplayDriver(
            WriterConfig config,
            RedisConnector connector,
            ReplayMetrics metrics,
            String holder,
            Map<TopicPartition, ReplaySource.Range> ranges,
            Shard keys) {
        this(config, connector, null, metrics, holder, Map.copyOf(ranges), keys);
    }

    /**
     * A driver that rebuilds one {@code shard} of a cluster (its keys only, its marker), run by self-healing with
     * {@link Mode#ACQUIRED}.
     */
    ReplayDriver(WriterConfig config, RedisConnector connector, Shard shard, ReplayMetrics metrics, String holder) {
        this(config, connector, null, metrics, holder, null, shard);
    }

    private ReplayDriver(
            WriterConfig config,
            RedisConnector connector,
            String entityType,
            ReplayMetrics metrics,
            String holder,
            Map<TopicPartition, ReplaySource.Range> ranges) {
        this(config, connector, entityType, metrics, holder, ranges, Shard.whole());
    }

    private ReplayDriver(
            WriterConfig config,
            RedisConnector connector,
            String entityType,
            ReplayMetrics metrics,
            String holder,
            Map<TopicPartition, ReplaySource.Range> ranges,
            Shard shard) {
        this.ranges = ranges;
        this.shard = shard;
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
            RedisTarget redisUri,
            String entityType,
            MeterRegistry registry,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        try (RebuildMetrics metrics = new RebuildMetrics(registry);
                RedisConnector connector = RedisConnector.create(
                        redisUri, config.redisTimeout(), config.retryBackoffMin(), config.retryBackoffMax())) {
            String holder = RebuildLease.holder("cachepipe rebuild");
            if (entityType == null && connector.isCluster()) {
                return runPerShard(config, connector, metrics, holder, listener, cancelled);
            }
            ReplayDriver r = new ReplayDriver(config, connector, entityType, metrics, holder);
            Mode mode = entityType == null ? Mode.FORCE : Mode.NONE;
            return r.run(mode, RebuildLease.newToken(), listener, cancelled);
        }
    }

    /**
     * A full rebuild of a cluster: shard after shard, each under its own marker's lease and writing only its keys; stops
     * at the first shard that does not complete.
     */
    private static CacheRebuild.Result runPerShard(
            WriterConfig config,
            RedisConnector connector,
            RebuildMetrics metrics,
            String holder,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        List<Shard> shards;
        try (RedisBatchWriter redis = new RedisBatchWriter(connector, config.redisTimeout())) {
            shards = redis.shards(config.keyPrefix());
        }
        if (shards == null) {
            throw new IllegalStateException("cannot reach Redis at " + connector.endpoint());
        }
        CacheRebuild.Result last = null;
        for (Shard shard : shards) {
            last = new ReplayDriver(config, connector, shard, metrics, holder)
                    .run(Mode.FORCE, RebuildLease.newToken(), listener, cancelled);
            if (last.outcome() != Outcome.COMPLETED) {
                return last;
            }
        }
        return last;
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
                        () -> Marker.over(redis, config.keyPrefix(), shard, config.redisTimeout()),
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
                            "Rebuilding {} from {}{}: {} records in {} partitions (writes at or after the committed"
                                    + " offsets of group {} are announced)",
                            shard.describe(),
                            config.mutationsTopic(),
                            entityType == null ? "" : " (entity type " + entityType + " only)",
                            source.total(),
                            source.partitions(),
                            config.groupId());
                }
                RetryLoop redisRetry = retryLoop("Rebuild: Redis", waiter);
                ApplyEngine guards = new ApplyEngine(redis, redisRetry, announcer, GUARD_HOOKS);
                ApplyEngine engine = new ApplyEngine(redis, redisRetry, announcer, hooks(source, counts));
                listener.accept(counts.progress());
                int maxKeys = indexMaxKeys();
                ReplayIndex index = maxKeys > 0 ? new ReplayIndex(maxKeys) : null;
                Outcome outcome = index == null ? null : index(source, index, lease, cancelled);
                if (outcome == null) {
                    if (index != null) {
                        log.info(
                                "Rebuild: more than {} keys in the range: reading it again to write guards instead (JVM"
                                        + " property {})",
                                maxKeys,
                                INDEX_MAX_KEYS_PROPERTY);
                        index = null;
                        source.rewind();
                    }
                    outcome = guard(source, guards, lease, cancelled);
                }
                if (outcome == Outcome.COMPLETED) {
                    source.rewind();
                    outcome = replay(source, engine, lease, counts, listener, cancelled, index);
                }
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

    /**
     * {@link #INDEX_MAX_KEYS_PROPERTY}, else {@link #DEFAULT_INDEX_MAX_KEYS} but no more keys than an eighth of the
     * heap holds (at {@link #INDEX_BYTES_PER_KEY} each): {@code run}'s default heap of 256 MB takes 262,144.
     */
    static int indexMaxKeys() {
        Integer set = Integer.getInteger(INDEX_MAX_KEYS_PROPERTY);
        if (set != null) {
            return Math.max(0, set);
        }
        long heapShare = Runtime.getRuntime().maxMemory() / 8 / INDEX_BYTES_PER_KEY;
        return (int) Math.min(DEFAULT_INDEX_MAX_KEYS, heapShare);
    }

    /**
     * The first pass, in memory: the newest version of every key of the range; nothing is written. Null if the range
     * holds more keys than the index takes (the guards are written instead).
     */
    private Outcome index(ReplaySource source, ReplayIndex index, RebuildLease lease, BooleanSupplier cancelled) {
        long t0 = System.nanoTime();
        Coalescer coalescer = new Coalescer(AvroSerde.of(CacheMutation.class), rules(source));
        while (!source.done()) {
            if (cancelled.getAsBoolean()) {
                return Outcome.CANCELLED;
            }
            if (lease != null && !lease.renewIfDue()) {
                return Outcome.LEASE_LOST;
            }
            CoalescedBatch batch = coalescer.coalesce(source.poll());
            refuseBlocked(batch);
            source.advance();
            for (PendingWrite w : batch.writes()) {
                if (!index.offer(w.mutation().getKey(), w.version())) {
                    return null;
                }
            }
        }
        log.info(
                "Rebuild: first pass done after {} ms: the newest version of {} keys read; second pass: each key's"
                        + " newest record",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                index.keys());
        return Outcome.COMPLETED;
    }

    /** A newer instance's mutation: skipping it would lose it, and the marker would say complete. */
    private static void refuseBlocked(CoalescedBatch batch) {
        if (!batch.blocked().isEmpty()) {
            throw new IllegalStateException("the mutation at " + batch.blocked()
                    + " has a schema this writer does not know: upgrade it, then rebuild");
        }
    }

    /**
     * The first pass: for every key, a guard (see {@link #guardOf}) at one below the highest version the replayed
     * records hold for it, so that the second pass writes no state older than the newest one. Writes nothing but
     * guards, announces nothing, counts nothing but the guards it logs.
     */
    private Outcome guard(ReplaySource source, ApplyEngine guards, RebuildLease lease, BooleanSupplier cancelled) {
        Coalescer.Rules rules = rules(source);
        Coalescer coalescer = new Coalescer(AvroSerde.of(CacheMutation.class), new Coalescer.Rules() {
            @Override
            public boolean inScope(ConsumerRecord<String, byte[]> record) {
                return rules.inScope(record);
            }

            @Override
            public boolean wantedKey(String recordKey) {
                return rules.wantedKey(recordKey);
            }

            @Override
            public boolean wanted(CacheMutation mutation) {
                // version 0 has no older version to keep out
                return rules.wanted(mutation) && mutation.getVersion() > 0;
            }

            @Override
            public CacheMutation adjust(CacheMutation mutation) {
                return guardOf(mutation);
            }
        });
        long t0 = System.nanoTime();
        long[] applied = {0};
        Outcome outcome = pass(source, coalescer, guards, lease, cancelled, (batch, read) -> {
            long n = batch.writes().stream()
                    .filter(w -> w.outcome() == WriteOutcome.APPLIED)
                    .count();
            applied[0] += n;
            metrics.guarded(n);
        });
        log.info(
                "Rebuild: first pass {} after {} ms: {} guards written (a fence one below a key's newest version in the"
                        + " topic, where Redis held nothing newer); second pass: the records themselves",
                outcome == Outcome.COMPLETED ? "done" : "stopped (" + outcome + ")",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                applied[0]);
        return outcome;
    }

    /**
     * A guard for {@code m}: a fence one version below it, living {@link #GUARD_TTL_MILLIS}. The second pass replaces
     * it with {@code m} itself (a higher version), while every older record of the key meets a version at or above
     * its own and changes nothing, and readers meanwhile miss (and load from the source) instead of being served an
     * older state.
     */
    static CacheMutation guardOf(CacheMutation m) {
        // a new record with every field set, not newBuilder(m), which deep-copies the payload it then drops
        return new CacheMutation(
                m.getKey(),
                m.getEntityType(),
                m.getEntityId(),
                m.getVersion() - 1,
                MutationOp.FENCE,
                m.getOccurredAt(),
                GUARD_TTL_MILLIS,
                null,
                null,
                false,
                m.getEventId());
    }

    /**
     * The second pass: reads, coalesces and applies the records themselves, counted and announced; with the {@code
     * index} of the first pass only each key's newest (the older ones count as stale).
     */
    private Outcome replay(
            ReplaySource source,
            ApplyEngine engine,
            RebuildLease lease,
            ReplayCounts counts,
            Consumer<Progress> listener,
            BooleanSupplier cancelled,
            ReplayIndex index) {
        Coalescer coalescer = new Coalescer(AvroSerde.of(CacheMutation.class), rules(source, index));
        Outcome outcome = pass(source, coalescer, engine, lease, cancelled, (batch, read) -> {
            counts.filtered(batch.filtered() + batch.skipped().size());
            counts.superseded(batch.superseded());
            if (counts.read(read) || !batch.writes().isEmpty()) {
                listener.accept(counts.report());
            }
        });
        if (outcome == Outcome.COMPLETED) {
            listener.accept(counts.progress());
        }
        return outcome;
    }

    /**
     * Reads, coalesces and applies batch after batch until every partition reached its end. Two batches overlap: while
     * Redis runs one batch's scripts, the next is read and decoded, then sent before the first one's replies are
     * collected (and its writes announced).
     */
    private Outcome pass(
            ReplaySource source,
            Coalescer coalescer,
            ApplyEngine engine,
            RebuildLease lease,
            BooleanSupplier cancelled,
            ObjLongConsumer<CoalescedBatch> applied) {
        InFlight previous = null;
        while (!source.done()) {
            if (cancelled.getAsBoolean()) {
                return Outcome.CANCELLED;
            }
            if (lease != null && !lease.renewIfDue()) {
                return Outcome.LEASE_LOST;
            }
            CoalescedBatch batch = coalescer.coalesce(source.poll());
            refuseBlocked(batch);
            batch.skipped()
                    .forEach(s ->
                            log.debug("Skipping mutation record at {}@{}: {}", s.partition(), s.offset(), s.reason()));
            long read = source.advance(); // the records read so far
            InFlight current = new InFlight(batch, engine.startWrite(batch.writes()), read);
            if (previous != null && !previous.finish(engine, applied)) {
                current.abandon(engine);
                return Outcome.CANCELLED;
            }
            previous = current;
        }
        if (previous != null && !previous.finish(engine, applied)) {
            return Outcome.CANCELLED;
        }
        return Outcome.COMPLETED;
    }

    /** A batch whose scripts are on their way to Redis. */
    private record InFlight(CoalescedBatch batch, RedisBatchWriter.Sent sent, long read) {
        /** Collects the replies (retrying what failed), announces, reports; false if the driver stopped first. */
        boolean finish(ApplyEngine engine, ObjLongConsumer<CoalescedBatch> applied) {
            List<PendingWrite> changed = engine.finishWrite(batch.writes(), sent);
            if (changed == null) {
                return false;
            }
            dev.cachepipe.writer.internal.apply.Announcer.Announcement a = engine.announce(changed);
            if (a == null || !a.finish()) {
                return false;
            }
            applied.accept(batch, read);
            return true;
        }

        /** The driver stops: the replies are collected (so that nothing is left pending on the connection), no more. */
        void abandon(ApplyEngine engine) {
            if (sent != null) {
                engine.redis().end(sent);
            }
        }
    }

    /** Only the records before the captured end; of one entity type if asked; each with the TTL it has left. */
    private Coalescer.Rules rules(ReplaySource source) {
        return rules(source, null);
    }

    /** The same, and with the first pass's {@code index} (if not null) each key's newest record only. */
    private Coalescer.Rules rules(ReplaySource source, ReplayIndex index) {
        return new Coalescer.Rules() {
            @Override
            public boolean inScope(ConsumerRecord<String, byte[]> record) {
                return source.inScope(record);
            }

            @Override
            public boolean wantedKey(String recordKey) {
                return recordKey == null
                        || ((keyBase == null || recordKey.startsWith(keyBase)) && shard.owns(recordKey));
            }

            @Override
            public boolean wanted(CacheMutation mutation) {
                return entityType == null || entityType.equals(mutation.getEntityType());
            }

            @Override
            public boolean superseded(CacheMutation mutation) {
                return index != null && index.superseded(mutation.getKey(), mutation.getVersion());
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
        if (ttl != m.getTtlMillis()) {
            m.setTtlMillis(ttl); // the record was decoded for this write alone: no copy (newBuilder deep-copies)
        }
        return m;
    }

    /** The guards of the first pass: nothing counted, nothing announced (a guard is not news for L1). */
    private static final ApplyEngine.Hooks GUARD_HOOKS = new ApplyEngine.Hooks() {
        @Override
        public boolean announces(PendingWrite write) {
            return false;
        }
    };

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
