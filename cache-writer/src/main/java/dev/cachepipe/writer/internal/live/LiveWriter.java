package dev.cachepipe.writer.internal.live;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.writer.CacheRebuild;
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
import dev.cachepipe.writer.internal.replay.RebuildMetrics;
import dev.cachepipe.writer.internal.replay.SelfHealing;
import dev.cachepipe.writer.internal.replay.WatermarkMetrics;
import dev.cachepipe.writer.internal.replay.WatermarkReplays;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live driver behind {@link dev.cachepipe.writer.CacheWriter}; not API.
 *
 * <p>One iteration: poll → {@link Coalescer} → {@link ApplyEngine#write} (pipelined script calls retried until every
 * one has a definite reply) → the previous batch's invalidations are awaited (retried until all are acknowledged) and
 * that batch is committed through the {@link OffsetLedger} (partitions still assigned only) → this batch's
 * invalidations are handed to the producer, and the next poll and Redis round trip overlap with their acknowledgement
 * (an empty poll, a rebalance or the shutdown finishes them too). While a retry waits, {@link GroupWait}
 * keeps the group membership alive; once a partition of the batch was revoked or lost meanwhile, the retries stop and
 * the batch is dropped ({@link OwnedWait}). Nothing is committed before Redis and Kafka acknowledged everything up to
 * it.
 */
public final class LiveWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("dev.cachepipe.writer.CacheWriter");

    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** The longest the writer leaves acknowledged offsets uncommitted while it is busy. */
    static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);

    private final WriterConfig config;
    private final Lifecycle lifecycle = new Lifecycle();
    private final RedisConnector connector;
    private final RedisBatchWriter redis;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Announcer announcer;
    private final WriterMetrics metrics;
    private final RebuildMetrics rebuildMetrics; // null without self-healing
    private final SelfHealing healing; // null without self-healing
    private final Health redisHealth = new Health("Redis", log, this::redisBack);
    private final Health kafkaHealth = new Health("Kafka", log);
    /** Mutations written with a schema this writer does not know (a newer topology): it needs an upgrade. */
    private final Health schemaHealth = new Health("Mutation schema", log);

    private final GroupWait groupWait;
    private final OffsetLedger ledger;
    private final IdleProbes probes;
    private final Coalescer coalescer;
    private final ApplyEngine engine;
    private final WatermarkMetrics watermarkMetrics;
    private final Watermarks watermarks;
    private boolean released; // guarded by this: the clients were closed
    /** The last batch written to Redis, while Kafka acknowledges its invalidations (writer thread only). */
    private InFlight inFlight;

    private long lastCommitNanos = System.nanoTime();

    public LiveWriter(WriterConfig config, RedisTarget redisUri, MeterRegistry registry) {
        this.config = config;
        this.connector = RedisConnector.create(
                redisUri, config.redisTimeout(), config.retryBackoffMin(), config.retryBackoffMax());
        this.redis = new RedisBatchWriter(connector, config.redisTimeout(), List.of(Watermarks.RAISE));
        KafkaConsumer<String, byte[]> c = null;
        WriterMetrics m = null;
        try {
            c = new KafkaConsumer<>(
                    KafkaClients.liveConsumer(config), new StringDeserializer(), new ByteArrayDeserializer());
            this.groupWait = new GroupWait(c, lifecycle);
            m = new WriterMetrics(registry, this::healthy);
            this.announcer = new Announcer(
                            () -> new KafkaProducer<>(
                                    KafkaClients.producer(config), new StringSerializer(), new ByteArraySerializer()),
                            config.invalidationsTopic(),
                            retryLoop(kafkaHealth, m::kafkaRetry),
                            m::published)
                    .open();
        } catch (RuntimeException e) {
            if (c != null) {
                c.close(Duration.ZERO);
            }
            if (m != null) {
                m.close();
            }
            connector.close();
            throw e;
        }
        this.consumer = c;
        this.metrics = m;
        this.ledger = new OffsetLedger(consumer, config.groupId(), kafkaHealth, groupWait::paused);
        this.probes = new IdleProbes(redis, consumer, redisHealth, kafkaHealth);
        this.coalescer = new Coalescer(AvroSerde.of(CacheMutation.class), new Coalescer.Rules() {
            @Override
            public boolean maybeApplied(TopicPartition partition, long offset) {
                return ledger.inherited(partition, offset);
            }
        });
        this.engine = new ApplyEngine(redis, retryLoop(redisHealth, metrics::redisRetry), announcer, new Hooks());
        this.rebuildMetrics = config.selfHealing() ? new RebuildMetrics(registry) : null;
        this.healing = config.selfHealing() ? new SelfHealing(config, connector, rebuildMetrics, log) : null;
        this.watermarkMetrics = new WatermarkMetrics(registry);
        this.watermarks = new Watermarks(
                config,
                watermarkMetrics,
                config.selfHealing() ? new WatermarkReplays(config, connector, watermarkMetrics, log) : null,
                log);
    }

    /** The ledger's rebalance listener, and the watermarks learn what this writer owns. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (inFlight != null && partitions.stream().anyMatch(inFlight.partitions()::contains)) {
                finishInFlightOnce(); // acknowledged: committed below with the revoked partitions
            }
            ledger.onPartitionsRevoked(partitions);
            watermarks.removed(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            ledger.onPartitionsAssigned(partitions);
            // the committed offsets the ledger read: a Redis whose watermark is below one went back in time
            Map<TopicPartition, Long> committed = ledger.committedAtAssignment(partitions);
            watermarks.assigned(partitions, committed, endOffsets(partitions));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (inFlight != null && partitions.stream().anyMatch(inFlight.partitions()::contains)) {
                inFlight = null; // dropped, not committed: its partitions are someone else's now
            }
            ledger.onPartitionsLost(partitions);
            watermarks.removed(partitions);
        }
    }

    /** The end offsets of newly assigned partitions, for the watermarks (empty if Kafka does not answer now). */
    private Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return Map.of();
        }
        try {
            return consumer.endOffsets(partitions, Duration.ofSeconds(10));
        } catch (WakeupException | org.apache.kafka.common.errors.InterruptException e) {
            throw e;
        } catch (org.apache.kafka.common.KafkaException e) {
            log.debug(
                    "No end offsets for {} (their watermarks are not compared with them): {}",
                    partitions,
                    e.toString());
            return Map.of();
        }
    }

    private RetryLoop retryLoop(Health health, Runnable onRetry) {
        return new RetryLoop(config.retryBackoffMin(), config.retryBackoffMax(), health, onRetry, new OwnedWait());
    }

    /**
     * How a batch's retries wait: as {@link GroupWait} does (the rebalance listener runs in its polls), and they stop
     * as soon as a partition of the batch was revoked or lost: its new owner writes it, a late write here could undo
     * that owner's newer writes (after their tombstones expired).
     */
    private final class OwnedWait implements RetryLoop.Waiter {
        @Override
        public boolean stopped() {
            return groupWait.stopped() || !ledger.disowned().isEmpty();
        }

        @Override
        public void step(Duration atMost) {
            groupWait.step(atMost);
        }
    }

    /** What the live writer does around each batch the engine applies. */
    private final class Hooks implements ApplyEngine.Hooks {
        @Override
        public void attempted(RedisBatchWriter.Attempt attempt) {
            probes.redisContacted();
            if (attempt.sent() > 0) {
                metrics.redisLatency(attempt.latencyNanos());
            }
        }

        @Override
        public void written(List<PendingWrite> writes) {
            for (PendingWrite w : writes) {
                metrics.write(w.outcome(), w.entityType());
                if (w.changed()) {
                    metrics.freshness(w.mutation().getOccurredAt().toEpochMilli(), w.ackAtMillis());
                }
            }
        }
    }

    /** Runs the loop on the calling thread until {@link #close()} is called from another thread. */
    public void run() {
        lifecycle.start();
        log.info(
                "Cache writer starting: group {}, {} -> Redis {} -> {}",
                config.groupId(),
                config.mutationsTopic(),
                redis.endpoint(),
                config.invalidationsTopic());
        try {
            consumer.subscribe(List.of(config.mutationsTopic()), new Rebalance());
            String failure = redis.ensureConnected();
            if (failure != null) {
                redisHealth.down(failure);
            }
            while (!lifecycle.closing()) {
                commitIfDue();
                ConsumerRecords<String, byte[]> records = consumer.poll(POLL_TIMEOUT);
                updateLag();
                if (records.isEmpty()) {
                    finishInFlight(); // nothing more came: commit the last batch now
                    commit();
                    probes.probeIfDue();
                } else {
                    process(records);
                }
                if (healing != null && redisHealth.available()) {
                    healing.maybeCheck(redis);
                }
                if (redisHealth.available()) {
                    watermarks.tick(redis);
                }
            }
        } catch (WakeupException e) {
            if (!lifecycle.closing()) {
                lifecycle.fail("unexpected wakeup");
                throw e;
            }
        } catch (RuntimeException | Error e) {
            lifecycle.fail(Redact.describe(e));
            log.error("Cache writer stopped: {}", Redact.describe(e), e);
            throw e;
        } finally {
            shutDownFromRunner();
        }
    }

    private void process(ConsumerRecords<String, byte[]> records) {
        CoalescedBatch batch = coalescer.coalesce(records);
        batch.skipped()
                .forEach(s -> log.warn(
                        "Skipping mutation record at {}-{}@{}: {}",
                        s.partition().topic(),
                        s.partition().partition(),
                        s.offset(),
                        s.reason()));
        metrics.batch(batch.records(), batch.coalesced(), batch.skipped().size());
        Watermarks.Raise raise = watermarks.raise(batch.nextOffsets(), redis.shards(config.keyPrefix()));
        List<PendingWrite> announce;
        ledger.batchStarted(records.partitions());
        try {
            announce = engine.write(batch.writes(), raise.trailer());
            if (!ledger.disowned().isEmpty()) {
                metrics.batchDisowned();
                rewindOwned(records);
                announce = null; // dropped: nothing is announced or committed
            } else if (announce != null) {
                watermarks.raised(raise);
            }
        } finally {
            ledger.batchEnded();
            groupWait.resume();
        }
        // The previous batch's invalidations went to Kafka while this batch was read and written to Redis: they are
        // acknowledged (and that batch committed) before anything of this batch is announced, so a key's
        // invalidations keep their order.
        boolean previous = finishInFlight();
        if (announce == null || !previous) {
            return; // closing, dropped, or the previous batch is unfinished: nothing of this one may be committed
        }
        if (!consumer.assignment().containsAll(records.partitions())) {
            // revoked or lost while the previous batch was finished: dropped like a batch disowned in flight
            metrics.batchDisowned();
            rewindOwned(records);
            return;
        }
        inFlight = new InFlight(engine.announce(announce), batch.nextOffsets(), Set.copyOf(records.partitions()));
        if (inFlight.announcement() == null) {
            inFlight = null;
            return; // closing
        }
        if (batch.blocked().isEmpty()) {
            schemaHealth.up();
        } else {
            finishInFlight(); // commit what came before the blocked record before waiting
            commit();
            holdBlocked(batch.blocked());
        }
    }

    /** A batch written to Redis whose invalidations Kafka has not acknowledged yet: not committed until it has. */
    private record InFlight(
            Announcer.Announcement announcement,
            Map<TopicPartition, Long> nextOffsets,
            Set<TopicPartition> partitions) {}

    /**
     * Waits until Kafka acknowledged the batch in flight's invalidations (retrying while its partitions stay owned),
     * then lets the ledger commit it. False if the writer stopped or the batch was disowned first: it is not committed
     * (its partitions' next owner, or this writer after a restart, writes and announces it again).
     */
    private boolean finishInFlight() {
        InFlight f = inFlight;
        if (f == null) {
            return true;
        }
        inFlight = null;
        ledger.batchStarted(f.partitions());
        try {
            boolean done = f.announcement().finish();
            if (!ledger.disowned().isEmpty()) {
                metrics.batchDisowned();
                return true; // its new owner commits it; this writer goes on with its other partitions
            }
            if (done) {
                ledger.acknowledged(f.nextOffsets());
                commitIfDue();
            }
            return done;
        } finally {
            ledger.batchEnded();
            groupWait.resume();
        }
    }

    /**
     * In a rebalance callback or on the way out, where no retry loop may run: a flush, and the batch in flight is
     * committed if Kafka acknowledged it all, else dropped (reprocessed by whoever owns its partitions next).
     */
    private void finishInFlightOnce() {
        InFlight f = inFlight;
        inFlight = null;
        if (f != null && f.announcement().finishOnce()) {
            ledger.acknowledged(f.nextOffsets());
        }
    }

    /**
     * A dropped batch's partitions that stayed assigned throughout (a cooperative rebalance took only others) are read
     * again from the batch's first records; those that were revoked or lost start from the committed offsets.
     */
    private void rewindOwned(ConsumerRecords<String, byte[]> records) {
        Set<TopicPartition> assigned = consumer.assignment();
        for (TopicPartition tp : records.partitions()) {
            if (assigned.contains(tp) && !ledger.disowned().contains(tp)) {
                consumer.seek(tp, records.records(tp).get(0).offset());
            }
        }
    }

    /** Commits what the ledger holds; a refusal counts as a Kafka retry. */
    private void commit() {
        lastCommitNanos = System.nanoTime();
        if (!ledger.commitPending()) {
            metrics.kafkaRetry();
        }
    }

    /**
     * Commits unless the last commit is less than {@link #COMMIT_INTERVAL} ago: at a few records per poll, a
     * synchronous commit per batch cost a round trip (and a write to the offsets topic) per event. What is not
     * committed yet is at most written again after a crash (the scripts are idempotent); a rebalance, an idle poll and
     * the shutdown commit at once.
     */
    private void commitIfDue() {
        if (System.nanoTime() - lastCommitNanos >= COMMIT_INTERVAL.toNanos()) {
            commit();
        }
    }

    /**
     * Rewinds each blocked partition to its record with an unknown schema, so that nothing after it is committed or
     * lost, reports it and waits before reading again: a newer topology wrote it, and an upgraded writer (another
     * instance of the group, or this one after its upgrade) will apply it.
     */
    private void holdBlocked(Map<TopicPartition, Long> blocked) {
        Set<TopicPartition> assigned = consumer.assignment();
        blocked.forEach((tp, offset) -> {
            if (assigned.contains(tp)) {
                consumer.seek(tp, offset);
            }
        });
        schemaHealth.down("the mutation at " + blocked + " was written with a CacheMutation schema this writer does"
                + " not know; upgrade this cachepipe instance (its partitions wait, nothing is skipped)");
        try {
            groupWait.await(config.retryBackoffMax());
        } finally {
            groupWait.resume();
        }
    }

    /** Redis answers again after an outage: it may have restarted without its data, so the marker is checked now. */
    private void redisBack() {
        if (healing != null) {
            healing.checkSoon();
        }
    }

    /** Records not yet read by this writer, summed over its partitions (from the last fetch, no remote call). */
    private void updateLag() {
        long lag = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) {
                lag += l.getAsLong();
            }
        }
        metrics.lag(lag);
    }

    /** Whether a self-healing rebuild runs now. */
    public boolean rebuilding() {
        return healing != null && healing.rebuilding();
    }

    /** The progress of the current or last self-healing rebuild, or null. */
    public CacheRebuild.Progress rebuildProgress() {
        return rebuildMetrics == null ? null : rebuildMetrics.last();
    }

    /** True while running and Redis, Kafka and the mutation schema are fine. */
    public boolean healthy() {
        return lifecycle.running() && redisHealth.available() && kafkaHealth.available() && schemaHealth.available();
    }

    /** {@code ok}, or why {@link #healthy()} is false. */
    public String healthReason() {
        String notRunning = lifecycle.notRunningReason();
        if (notRunning != null) {
            return notRunning;
        }
        List<String> reasons = new ArrayList<>(3);
        for (Health h : List.of(redisHealth, kafkaHealth, schemaHealth)) {
            if (h.failure() != null) {
                reasons.add(h.failure());
            }
        }
        return reasons.isEmpty() ? "ok" : String.join("; ", reasons);
    }

    /** Stops the loop (waking it from {@code poll()}), waits for it and releases every client. Idempotent. */
    @Override
    public void close() {
        Lifecycle.CloseFrom from = lifecycle.close();
        if (from == Lifecycle.CloseFrom.ALREADY) {
            return;
        }
        try {
            if (from == Lifecycle.CloseFrom.RUNNING) {
                consumer.wakeup();
                if (!lifecycle.awaitExit(CLOSE_TIMEOUT)) {
                    log.warn("The writer loop did not stop within {}; closing its clients anyway", CLOSE_TIMEOUT);
                }
            } else {
                consumer.close(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            releaseClients();
            metrics.close();
            if (rebuildMetrics != null) {
                rebuildMetrics.close();
            }
            watermarkMetrics.close();
        }
    }

    private void shutDownFromRunner() {
        try {
            if (!lifecycle.failed()) {
                finishInFlightOnce();
            }
            if (ledger.hasPending() && !lifecycle.failed()) {
                try {
                    commit();
                } catch (WakeupException e) {
                    commit(); // the wakeup flag was still set; it is cleared now
                }
            }
        } catch (RuntimeException e) {
            log.warn("Could not commit the last offsets (they will be reprocessed): {}", Redact.describe(e));
        } finally {
            try {
                // leave the group even as a static member, so that the others take the partitions over at once
                consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                        .withTimeout(Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
                log.warn("Closing the consumer failed: {}", Redact.describe(e));
            }
            releaseClients();
            lifecycle.exited();
            log.info("Cache writer stopped");
        }
    }

    /** Called by the runner on its way out and by close(); the first call releases. */
    private synchronized void releaseClients() {
        if (released) {
            return;
        }
        released = true;
        if (healing != null) {
            healing.close();
        }
        watermarks.close();
        announcer.close();
        redis.close();
        connector.close();
    }
}
