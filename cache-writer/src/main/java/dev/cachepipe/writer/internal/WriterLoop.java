package dev.cachepipe.writer.internal;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.InvalidationOp;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.writer.WriterConfig;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The implementation behind {@link dev.cachepipe.writer.CacheWriter}; not API.
 *
 * <p>One iteration: poll → decode and coalesce → pipelined script calls, retried with backoff until every one has
 * a definite reply → publish the invalidations of the writes that changed Redis, retried until all are acknowledged
 * → commit the batch's offsets (partitions still assigned only). While a retry waits, the assigned partitions are
 * paused and {@code poll()} keeps the group membership alive. Nothing is committed before Redis and Kafka
 * acknowledged everything up to it.
 */
public final class WriterLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("dev.cachepipe.writer.CacheWriter");

    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final Duration MAX_PAUSED_POLL = Duration.ofSeconds(1);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final long PROBE_INTERVAL_HEALTHY_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long PROBE_INTERVAL_UNHEALTHY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Duration KAFKA_PROBE_TIMEOUT = Duration.ofSeconds(2);

    private enum State {
        NEW,
        RUNNING,
        STOPPED
    }

    private final WriterConfig config;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final InvalidationSender invalidationSender;
    private final dev.cachepipe.support.redis.RedisConnector connector;
    private final RedisBatchWriter redis;
    private final WriterMetrics metrics;
    private final RebuildMetrics rebuildMetrics; // null without self-healing
    private final SelfHealing healing; // null without self-healing
    private final AvroSerde<CacheMutation> mutationSerde = AvroSerde.of(CacheMutation.class);
    private final Health redisHealth = new Health("Redis", log);
    private final Health kafkaHealth = new Health("Kafka", log);
    /** Mutations written with a schema this writer does not know (a newer topology): it needs an upgrade. */
    private final Health schemaHealth = new Health("Mutation schema", log);

    private final Map<TopicPartition, OffsetAndMetadata> pendingCommit = new HashMap<>();
    /** Per partition, the end offset when it was assigned: records before it may be a dead owner's work. */
    private final Map<TopicPartition, Long> inheritedUntil = new HashMap<>(); // writer thread only

    private final CountDownLatch runExited = new CountDownLatch(1);
    private final AtomicBoolean clientsClosed = new AtomicBoolean();

    private State state = State.NEW; // guarded by this
    private boolean closeCalled; // guarded by this
    private volatile boolean closing;
    private volatile String fatal;
    private boolean paused; // writer thread only
    private long lastRedisContactNanos = System.nanoTime(); // writer thread only
    private long lastKafkaContactNanos = System.nanoTime(); // writer thread only

    public WriterLoop(WriterConfig config, RedisURI redisUri, MeterRegistry registry) {
        this.config = config;
        this.connector = dev.cachepipe.support.redis.RedisConnector.create(
                redisUri, config.redisTimeout(), config.retryBackoffMin(), config.retryBackoffMax());
        this.redis = new RedisBatchWriter(connector, config.redisTimeout());
        KafkaConsumer<String, byte[]> c = null;
        try {
            c = new KafkaConsumer<>(consumerConfig(config), new StringDeserializer(), new ByteArrayDeserializer());
            this.producer =
                    new KafkaProducer<>(producerConfig(config), new StringSerializer(), new ByteArraySerializer());
        } catch (RuntimeException e) {
            if (c != null) {
                c.close(Duration.ZERO);
            }
            connector.close();
            throw e;
        }
        this.consumer = c;
        this.invalidationSender = new InvalidationSender(producer, config.invalidationsTopic());
        this.metrics = new WriterMetrics(registry, this::healthy);
        if (config.selfHealing()) {
            this.rebuildMetrics = new RebuildMetrics(registry);
            this.healing = new SelfHealing(config, redisUri, rebuildMetrics, log);
        } else {
            this.rebuildMetrics = null;
            this.healing = null;
        }
    }

    static Map<String, Object> consumerConfig(WriterConfig config) {
        Map<String, Object> m = new HashMap<>();
        m.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        m.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxBatchSize());
        putOwn(m, config.kafkaProperties(), ConsumerConfig.configNames(), ProducerConfig.configNames());
        m.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        m.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        m.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        m.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return m;
    }

    static Map<String, Object> producerConfig(WriterConfig config) {
        Map<String, Object> m = new HashMap<>();
        m.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // Bounded, so that an outage turns into a retry (and an unhealthy report) within seconds.
        m.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        m.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        m.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        putOwn(m, config.kafkaProperties(), ProducerConfig.configNames(), ConsumerConfig.configNames());
        m.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        m.put(ProducerConfig.ACKS_CONFIG, "all");
        m.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return m;
    }

    /** Copies the keys this client knows, and the keys neither client knows (plug-in settings). */
    static void putOwn(Map<String, Object> target, Map<String, String> props, Set<String> own, Set<String> other) {
        props.forEach((k, v) -> {
            if (own.contains(k) || !other.contains(k)) {
                target.put(k, v);
            }
        });
    }

    /** Runs the loop on the calling thread until {@link #close()} is called from another thread. */
    public void run() {
        synchronized (this) {
            if (state != State.NEW) {
                throw new IllegalStateException("run() may be called once, on a writer that is not closed; state was "
                        + state + (closeCalled ? " (closed)" : ""));
            }
            state = State.RUNNING;
        }
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
            while (!closing) {
                commitPending();
                ConsumerRecords<String, byte[]> records = consumer.poll(POLL_TIMEOUT);
                updateLag();
                if (records.isEmpty()) {
                    probeRedisIfIdle();
                    probeKafkaIfIdle();
                } else {
                    process(records);
                }
                if (healing != null && redisHealth.available()) {
                    healing.maybeCheck(redis);
                }
            }
        } catch (WakeupException e) {
            if (!closing) {
                fatal = "unexpected wakeup";
                throw e;
            }
        } catch (RuntimeException | Error e) {
            fatal = Redact.describe(e);
            log.error("Cache writer stopped: {}", fatal, e);
            throw e;
        } finally {
            shutDownFromRunner();
        }
    }

    private void process(ConsumerRecords<String, byte[]> records) {
        Batch batch = Batch.of(records, mutationSerde, inheritedUntil);
        metrics.batch(batch.records(), batch.coalesced(), batch.skipped());
        List<PendingWrite> writes = batch.writes();
        if (!writes.isEmpty()) {
            if (!writeToRedis(writes)) {
                return; // closing: nothing is committed
            }
            List<CacheInvalidation> invalidations = new ArrayList<>();
            for (PendingWrite w : writes) {
                metrics.write(w.outcome(), entityTypeTag(w.entityType));
                if (w.changed()) {
                    metrics.freshness(w.mutation.getOccurredAt().toEpochMilli(), w.ackAtMillis());
                    invalidations.add(invalidation(w));
                }
            }
            if (!invalidations.isEmpty() && !publish(invalidations)) {
                return;
            }
        }
        pendingCommit.putAll(batch.offsets());
        commitPending();
        if (batch.blocked().isEmpty()) {
            schemaHealth.up();
        } else {
            holdBlocked(batch.blocked());
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
            waitKeepingMembership(config.retryBackoffMax());
        } finally {
            resumeIfPaused();
        }
    }

    /** Sends until every write has a definite reply; false if the writer was closed first. */
    private boolean writeToRedis(List<PendingWrite> writes) {
        Backoff backoff = new Backoff(config.retryBackoffMin(), config.retryBackoffMax());
        try {
            while (!closing) {
                RedisBatchWriter.Attempt attempt = redis.attempt(writes);
                lastRedisContactNanos = System.nanoTime();
                if (attempt.sent() > 0) {
                    metrics.redisLatency(attempt.latencyNanos());
                }
                if (attempt.failed() == 0) {
                    redisUp();
                    return true;
                }
                redisHealth.down(attempt.failure());
                metrics.redisRetry();
                if (!waitKeepingMembership(backoff.next())) {
                    return false;
                }
            }
            return false;
        } finally {
            resumeIfPaused();
        }
    }

    /** Publishes until Kafka acknowledged every invalidation; false if the writer was closed first. */
    private boolean publish(List<CacheInvalidation> invalidations) {
        Backoff backoff = new Backoff(config.retryBackoffMin(), config.retryBackoffMax());
        List<CacheInvalidation> pending = invalidations;
        try {
            while (!closing) {
                InvalidationSender.Outcome outcome = invalidationSender.sendAll(pending);
                List<CacheInvalidation> failed = outcome.failed();
                String failure = outcome.failure();
                metrics.published(pending.size() - failed.size());
                if (failed.isEmpty()) {
                    kafkaHealth.up();
                    return true;
                }
                kafkaHealth.down(failed.size() + " invalidation(s) not published to " + config.invalidationsTopic()
                        + ": " + failure);
                metrics.kafkaRetry();
                pending = failed;
                if (!waitKeepingMembership(backoff.next())) {
                    return false;
                }
            }
            return false;
        } finally {
            resumeIfPaused();
        }
    }

    /** The invalidation announcing {@code w}, which Redis acknowledged at {@code w.ackAtMillis()}. */
    static CacheInvalidation invalidation(PendingWrite w) {
        CacheMutation m = w.mutation;
        boolean inline = m.getInlineInvalidation() && m.getOp() == MutationOp.UPSERT && m.getPayload() != null;
        return CacheInvalidation.newBuilder()
                .setKey(m.getKey())
                .setEntityType(m.getEntityType())
                .setEntityId(m.getEntityId())
                .setVersion(m.getVersion())
                .setOp(op(m.getOp()))
                .setOccurredAt(m.getOccurredAt())
                .setWrittenAt(Instant.ofEpochMilli(w.ackAtMillis()))
                .setContentType(inline ? m.getContentType() : null)
                .setPayload(inline ? m.getPayload().duplicate() : (ByteBuffer) null)
                .build();
    }

    private static InvalidationOp op(MutationOp op) {
        return switch (op) {
            case UPSERT -> InvalidationOp.UPSERT;
            case TOMBSTONE -> InvalidationOp.DELETE;
            case FENCE -> InvalidationOp.INVALIDATE;
        };
    }

    private static String entityTypeTag(String type) {
        return RedisLayout.isValidEntityType(type) ? type : "other";
    }

    /**
     * Waits {@code delay} while polling with every assigned partition paused, so the group membership (and
     * {@code max.poll.interval.ms}) stays satisfied. The caller resumes. False if the writer is closing.
     */
    private boolean waitKeepingMembership(Duration delay) {
        long deadline = System.nanoTime() + delay.toNanos();
        while (!closing) {
            pauseAssigned();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            ConsumerRecords<String, byte[]> stray =
                    consumer.poll(Duration.ofNanos(Math.min(left, MAX_PAUSED_POLL.toNanos())));
            if (!stray.isEmpty()) {
                // Should not happen (every partition is paused); never let the position skip past unprocessed records.
                for (TopicPartition tp : stray.partitions()) {
                    consumer.seek(tp, stray.records(tp).get(0).offset());
                }
            }
        }
        return false;
    }

    private void pauseAssigned() {
        paused = true;
        consumer.pause(consumer.assignment());
    }

    private void resumeIfPaused() {
        if (paused) {
            paused = false;
            if (!closing) {
                consumer.resume(consumer.paused());
            }
        }
    }

    private void commitPending() {
        if (pendingCommit.isEmpty()) {
            return;
        }
        pendingCommit.keySet().retainAll(consumer.assignment());
        if (pendingCommit.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(new HashMap<>(pendingCommit), COMMIT_TIMEOUT);
            pendingCommit.clear();
            kafkaHealth.up();
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // Kept: committed after the rebalance for the partitions this writer still owns.
            log.info("Offsets not committed during a rebalance; retrying for partitions still assigned after it");
        } catch (KafkaException e) {
            kafkaHealth.down("cannot commit offsets: " + Redact.describe(e));
            metrics.kafkaRetry();
        }
    }

    private void probeRedisIfIdle() {
        long interval = redisHealth.available() ? PROBE_INTERVAL_HEALTHY_NANOS : PROBE_INTERVAL_UNHEALTHY_NANOS;
        if (System.nanoTime() - lastRedisContactNanos < interval) {
            return;
        }
        String failure = redis.ping();
        lastRedisContactNanos = System.nanoTime();
        if (failure == null) {
            redisUp();
        } else {
            redisHealth.down(failure);
        }
    }

    /**
     * While idle, {@code poll()} says nothing when the brokers are gone: ask the cluster for its topics now and then
     * (a remote call every time), so that a Kafka outage shows in {@link #healthy()} even without traffic.
     */
    private void probeKafkaIfIdle() {
        long interval = kafkaHealth.available() ? PROBE_INTERVAL_HEALTHY_NANOS : PROBE_INTERVAL_UNHEALTHY_NANOS;
        if (System.nanoTime() - lastKafkaContactNanos < interval) {
            return;
        }
        try {
            consumer.listTopics(KAFKA_PROBE_TIMEOUT);
            kafkaHealth.up();
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            kafkaHealth.down("no answer from the Kafka cluster: " + Redact.describe(e));
        }
        lastKafkaContactNanos = System.nanoTime();
    }

    /** Redis answered; after an outage the marker is checked at once (it may have restarted without its data). */
    private void redisUp() {
        if (redisHealth.up() && healing != null) {
            healing.checkSoon();
        }
    }

    /** Records not yet read by this writer, summed over its partitions (from the last fetch, no remote call). */
    private void updateLag() {
        long lag = 0;
        for (TopicPartition tp : consumer.assignment()) {
            java.util.OptionalLong l = consumer.currentLag(tp);
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
    public dev.cachepipe.writer.CacheRebuild.Progress rebuildProgress() {
        return rebuildMetrics == null ? null : rebuildMetrics.last();
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            inheritedUntil.keySet().removeAll(partitions);
            // Offsets of fully acknowledged batches are still ours to commit.
            Map<TopicPartition, OffsetAndMetadata> mine = new HashMap<>();
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata o = pendingCommit.remove(tp);
                if (o != null) {
                    mine.put(tp, o);
                }
            }
            if (!mine.isEmpty()) {
                try {
                    consumer.commitSync(mine, COMMIT_TIMEOUT);
                } catch (WakeupException | InterruptException e) {
                    throw e;
                } catch (KafkaException e) {
                    log.warn(
                            "Could not commit offsets of revoked partitions {} (they will be reprocessed): {}",
                            mine.keySet(),
                            Redact.describe(e));
                }
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (paused) {
                consumer.pause(partitions);
            }
            // A partition someone committed before may come with records up to today's end that its last owner wrote
            // to Redis but died before announcing: for those, "same version already stored" counts as changed.
            if (!partitions.isEmpty()) {
                try {
                    java.util.Set<TopicPartition> owned = new java.util.HashSet<>();
                    consumer.committed(new java.util.HashSet<>(partitions), COMMIT_TIMEOUT)
                            .forEach((tp, offset) -> {
                                if (offset != null) {
                                    owned.add(tp);
                                }
                            });
                    if (!owned.isEmpty()) {
                        consumer.endOffsets(owned, COMMIT_TIMEOUT).forEach(inheritedUntil::put);
                    }
                } catch (WakeupException | InterruptException e) {
                    throw e;
                } catch (KafkaException e) {
                    log.debug("No end offsets for {}: {}", partitions, Redact.describe(e));
                }
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            pendingCommit.keySet().removeAll(partitions);
            inheritedUntil.keySet().removeAll(partitions);
        }
    }

    /** True while running and both Redis and Kafka answer. */
    public boolean healthy() {
        return isRunning()
                && !closing
                && redisHealth.available()
                && kafkaHealth.available()
                && schemaHealth.available();
    }

    /** {@code ok}, or why {@link #healthy()} is false. */
    public String healthReason() {
        String f = fatal;
        if (f != null) {
            return "stopped: " + f;
        }
        synchronized (this) {
            if (state == State.NEW) {
                return closeCalled ? "closed" : "not running: run() was not called yet";
            }
            if (state == State.STOPPED || closeCalled) {
                return "closed";
            }
        }
        List<String> reasons = new ArrayList<>(2);
        String r = redisHealth.failure();
        if (r != null) {
            reasons.add(r);
        }
        String k = kafkaHealth.failure();
        if (k != null) {
            reasons.add(k);
        }
        String sc = schemaHealth.failure();
        if (sc != null) {
            reasons.add(sc);
        }
        return reasons.isEmpty() ? "ok" : String.join("; ", reasons);
    }

    private synchronized boolean isRunning() {
        return state == State.RUNNING;
    }

    /** Stops the loop (waking it from {@code poll()}), waits for it and releases every client. Idempotent. */
    @Override
    public void close() {
        boolean wasRunning;
        synchronized (this) {
            if (closeCalled) {
                return;
            }
            closeCalled = true;
            closing = true;
            wasRunning = state == State.RUNNING;
            if (state == State.NEW) {
                state = State.STOPPED;
            }
        }
        try {
            if (wasRunning) {
                consumer.wakeup();
                if (!runExited.await(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    log.warn("The writer loop did not stop within {}; closing its clients anyway", CLOSE_TIMEOUT);
                }
            } else {
                consumer.close(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeClients();
            metrics.close();
            if (rebuildMetrics != null) {
                rebuildMetrics.close();
            }
        }
    }

    private void shutDownFromRunner() {
        try {
            if (!pendingCommit.isEmpty() && fatal == null) {
                try {
                    commitPending();
                } catch (WakeupException e) {
                    commitPending(); // the wakeup flag was still set; it is cleared now
                }
            }
        } catch (RuntimeException e) {
            log.warn("Could not commit the last offsets (they will be reprocessed): {}", Redact.describe(e));
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                log.warn("Closing the consumer failed: {}", Redact.describe(e));
            }
            closeClients();
            synchronized (this) {
                state = State.STOPPED;
            }
            runExited.countDown();
            log.info("Cache writer stopped");
        }
    }

    private void closeClients() {
        if (!clientsClosed.compareAndSet(false, true)) {
            return;
        }
        if (healing != null) {
            healing.close();
        }
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.warn("Closing the producer failed: {}", Redact.describe(e));
        }
        redis.close();
        connector.close();
    }
}
