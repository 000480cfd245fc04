package dev.cachepipe.writer.internal;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.UnknownSchemaException;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.CacheRebuild.Outcome;
import dev.cachepipe.writer.CacheRebuild.Progress;
import dev.cachepipe.writer.WriterConfig;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The implementation behind {@link CacheRebuild}; not API. One instance runs one rebuild on the calling thread, with
 * its own Redis connection, consumer (assigned, no group), admin client and producer.
 */
public final class Rebuilder {
    private static final Logger log = LoggerFactory.getLogger("dev.cachepipe.writer.CacheRebuild");

    /** How long a lease lasts without renewal; renewed every third of it. */
    static final Duration LEASE = Duration.ofSeconds(30);

    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(60);
    private static final long EXPIRED_TTL_MILLIS = 1;

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
    private final RedisURI redisUri;
    private final String entityType;
    private final String keyFilter;
    private final RebuildMetrics metrics;
    private final String holder;
    private final AvroSerde<CacheMutation> mutationSerde = AvroSerde.of(CacheMutation.class);

    Rebuilder(WriterConfig config, RedisURI redisUri, String entityType, RebuildMetrics metrics, String holder) {
        this.config = config;
        this.redisUri = redisUri;
        this.entityType = entityType;
        this.keyFilter = entityType == null ? null : config.keyPrefix() + ":" + entityType + ":";
        this.metrics = metrics;
        this.holder = holder;
    }

    /** {@code <keyPrefix>:@cachepipe}. */
    public static String markerKey(String keyPrefix) {
        return Marker.key(keyPrefix);
    }

    /** {@link CacheRebuild#run}: a full rebuild takes the lease by force, a partial one ignores the marker. */
    public static CacheRebuild.Result runStandalone(
            WriterConfig config,
            RedisURI redisUri,
            String entityType,
            MeterRegistry registry,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        try (RebuildMetrics metrics = new RebuildMetrics(registry)) {
            Rebuilder r = new Rebuilder(config, redisUri, entityType, metrics, holder("cachepipe rebuild"));
            return r.run(entityType == null ? Mode.FORCE : Mode.NONE, newToken(), listener, cancelled);
        }
    }

    static String newToken() {
        return UUID.randomUUID().toString();
    }

    /** {@code what on host pid N}, for the marker's lockHolder field and logs. */
    static String holder(String what) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "unknown host";
        }
        return what + " on " + host + " pid " + ProcessHandle.current().pid();
    }

    /** Runs the rebuild. Releases the lease unless it completed. */
    CacheRebuild.Result run(Mode mode, String token, Consumer<Progress> listener, BooleanSupplier cancelled) {
        long t0 = System.nanoTime();
        dev.cachepipe.support.redis.RedisConnector connector = dev.cachepipe.support.redis.RedisConnector.create(
                redisUri, config.redisTimeout(), config.retryBackoffMin(), config.retryBackoffMax());
        RedisBatchWriter redis = new RedisBatchWriter(connector, config.redisTimeout());
        Marker marker = null;
        boolean holdsLease = mode == Mode.ACQUIRED;
        boolean started = false;
        try {
            if (mode != Mode.NONE) {
                marker = retrying("reach Redis", () -> redis.marker(config.keyPrefix()), cancelled, redis);
                if (marker == null) {
                    return new CacheRebuild.Result(Outcome.CANCELLED, empty(t0));
                }
                if (mode == Mode.FORCE) {
                    Marker m = marker;
                    Long r = retrying(
                            "take the rebuild lease", () -> m.begin(token, LEASE, true, holder), cancelled, redis);
                    if (r == null) {
                        return new CacheRebuild.Result(Outcome.CANCELLED, empty(t0));
                    }
                    if (r == Marker.BEGIN_BUSY) {
                        return new CacheRebuild.Result(Outcome.BUSY, empty(t0));
                    }
                    holdsLease = true;
                }
            }
            try (Replay replay = new Replay(t0, redis)) {
                replay.prepare();
                metrics.started(replay.total);
                started = true;
                log.info(
                        "Rebuilding Redis from {}{}: {} records in {} partitions (writes at or after the committed"
                                + " offsets of group {} are announced)",
                        config.mutationsTopic(),
                        entityType == null ? "" : " (entity type " + entityType + " only)",
                        replay.total,
                        replay.end.size(),
                        config.groupId());
                Outcome outcome = replay.run(marker, token, listener, cancelled);
                if (outcome == Outcome.COMPLETED && marker != null) {
                    Marker m = marker;
                    String epoch = newToken();
                    Boolean ok = retrying("mark Redis complete", () -> m.complete(token, epoch), cancelled, redis);
                    if (ok == null) {
                        outcome = Outcome.CANCELLED;
                    } else {
                        holdsLease = false;
                        outcome = ok ? Outcome.COMPLETED : Outcome.LEASE_LOST;
                    }
                }
                Progress p = replay.progress();
                metrics.finished(outcome, p.elapsed());
                return new CacheRebuild.Result(outcome, p);
            }
        } catch (RuntimeException | Error e) {
            if (started) {
                metrics.failed();
            }
            throw e;
        } finally {
            if (holdsLease && marker != null) {
                try {
                    marker.release(token);
                } catch (RuntimeException e) {
                    log.debug("Could not release the rebuild lease (it expires by itself): {}", e.toString());
                }
            }
            redis.close();
            connector.close();
        }
    }

    private static Progress empty(long t0) {
        return new Progress(0, 0, 0, 0, 0, 0, 0, 0, Duration.ofNanos(System.nanoTime() - t0));
    }

    /** Calls {@code action} until it returns non-null without throwing; null if cancelled first. */
    private <T> T retrying(String what, Supplier<T> action, BooleanSupplier cancelled, RedisBatchWriter redis) {
        Backoff backoff = new Backoff(config.retryBackoffMin(), config.retryBackoffMax());
        boolean warned = false;
        while (!cancelled.getAsBoolean()) {
            String failure;
            try {
                T result = action.get();
                if (result != null) {
                    return result;
                }
                failure = redis.ensureConnected();
            } catch (RuntimeException e) {
                failure = Redact.describe(e);
            }
            if (!warned) {
                log.warn("Rebuild cannot {} yet, retrying: {}", what, failure);
                warned = true;
            }
            if (!sleep(backoff.next(), cancelled)) {
                return null;
            }
        }
        return null;
    }

    private static boolean sleep(Duration d, BooleanSupplier cancelled) {
        long deadline = System.nanoTime() + d.toNanos();
        while (!cancelled.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 100)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /** One coalesced write with where its record was. */
    private record Slot(PendingWrite write, TopicPartition partition, long offset) {}

    /** The Kafka side of one rebuild, and its counts. */
    private final class Replay implements AutoCloseable {
        private long t0; // from the end of prepare(): the rate is the replay's, not the clients' start-up
        private final KafkaConsumer<String, byte[]> consumer;
        private final Admin admin;
        private final RedisBatchWriter redis;
        private KafkaProducer<String, byte[]> producer;
        private InvalidationSender sender; // with the producer, created when the first invalidation is due
        private final Map<TopicPartition, Long> begin = new HashMap<>();
        private final Map<TopicPartition, Long> end = new HashMap<>();
        private final Map<TopicPartition, Long> announceFrom = new HashMap<>();
        private final Set<TopicPartition> remaining = new HashSet<>();
        private long total;
        private long read;
        private long applied;
        private long stale;
        private long duplicate;
        private long expired;
        private long filtered;
        private long invalidations;
        private long lastRenewNanos = System.nanoTime();
        private boolean redisWarned;

        Replay(long t0, RedisBatchWriter redis) {
            this.t0 = t0;
            this.redis = redis;
            KafkaConsumer<String, byte[]> c = null;
            try {
                c = new KafkaConsumer<>(consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer());
                this.admin = Admin.create(adminConfig());
            } catch (RuntimeException e) {
                if (c != null) {
                    c.close(CloseOptions.timeout(Duration.ZERO));
                }
                throw e;
            }
            this.consumer = c;
        }

        private Map<String, Object> consumerConfig() {
            Map<String, Object> m = new HashMap<>();
            WriterLoop.putOwn(m, config.kafkaProperties(), ConsumerConfig.configNames(), ProducerConfig.configNames());
            m.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG); // no group
            m.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
            m.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            m.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            m.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            m.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(config.maxBatchSize(), 500));
            m.put(
                    ConsumerConfig.CLIENT_ID_CONFIG,
                    "cachepipe-rebuild-" + UUID.randomUUID().toString().substring(0, 8));
            return m;
        }

        private Map<String, Object> adminConfig() {
            Map<String, Object> m = new HashMap<>();
            Set<String> known = new HashSet<>(ConsumerConfig.configNames());
            known.addAll(ProducerConfig.configNames());
            config.kafkaProperties().forEach((k, v) -> {
                if (AdminClientConfig.configNames().contains(k) || !known.contains(k)) {
                    m.put(k, v);
                }
            });
            m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
            return m;
        }

        /** Captures the offsets: the beginning, the end (where the rebuild stops) and the group's committed ones. */
        void prepare() {
            List<PartitionInfo> infos = consumer.partitionsFor(config.mutationsTopic(), KAFKA_TIMEOUT);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("the mutations topic " + config.mutationsTopic() + " does not exist");
            }
            List<TopicPartition> tps = infos.stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition()))
                    .toList();
            begin.putAll(consumer.beginningOffsets(tps, KAFKA_TIMEOUT));
            end.putAll(consumer.endOffsets(tps, KAFKA_TIMEOUT));
            Map<TopicPartition, OffsetAndMetadata> committed;
            try {
                committed = admin.listConsumerGroupOffsets(config.groupId())
                        .partitionsToOffsetAndMetadata()
                        .get(KAFKA_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException(
                        "cannot read the committed offsets of group " + config.groupId() + ": "
                                + Redact.describe(e.getCause()),
                        e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException(
                        "Kafka did not return the committed offsets of group " + config.groupId() + " within "
                                + KAFKA_TIMEOUT,
                        e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            for (TopicPartition tp : tps) {
                OffsetAndMetadata c = committed == null ? null : committed.get(tp);
                announceFrom.put(tp, c == null ? begin.get(tp) : c.offset());
                long b = begin.get(tp);
                long e = end.get(tp);
                if (e > b) {
                    remaining.add(tp);
                    total += e - b;
                }
            }
            consumer.assign(remaining);
            for (TopicPartition tp : remaining) {
                consumer.seek(tp, begin.get(tp));
            }
            t0 = System.nanoTime();
        }

        Outcome run(Marker marker, String token, Consumer<Progress> listener, BooleanSupplier cancelled) {
            listener.accept(progress());
            while (!remaining.isEmpty()) {
                if (cancelled.getAsBoolean()) {
                    return Outcome.CANCELLED;
                }
                if (marker != null && !renewIfDue(marker, token)) {
                    return Outcome.LEASE_LOST;
                }
                ConsumerRecords<String, byte[]> records = consumer.poll(POLL_TIMEOUT);
                List<Slot> slots = coalesce(records);
                if (!slots.isEmpty() && !apply(slots, cancelled)) {
                    return Outcome.CANCELLED;
                }
                for (TopicPartition tp : new ArrayList<>(remaining)) {
                    if (consumer.position(tp) >= end.get(tp)) {
                        remaining.remove(tp);
                        consumer.pause(List.of(tp));
                    }
                }
                long before = read;
                read = 0;
                for (TopicPartition tp : end.keySet()) {
                    long pos = remaining.contains(tp) ? consumer.position(tp) : end.get(tp);
                    read += Math.max(0, Math.min(pos, end.get(tp)) - begin.get(tp));
                }
                if (read != before || !slots.isEmpty()) {
                    Progress p = progress();
                    metrics.progress(p, 0, 0, 0, 0, 0);
                    listener.accept(p);
                }
            }
            listener.accept(progress());
            return Outcome.COMPLETED;
        }

        private boolean renewIfDue(Marker marker, String token) {
            if (System.nanoTime() - lastRenewNanos < LEASE.toNanos() / 3) {
                return true;
            }
            try {
                boolean ok = marker.renew(token, LEASE);
                lastRenewNanos = System.nanoTime();
                if (!ok) {
                    log.warn("The rebuild lost its lease: Redis lost its data again, or another instance took over");
                }
                return ok;
            } catch (RuntimeException e) {
                // Redis unreachable: the writes will wait for it; the lease is checked again next time
                return true;
            }
        }

        /** Decodes, filters and keeps the highest version per key; TTLs become what is left of them. */
        private List<Slot> coalesce(ConsumerRecords<String, byte[]> records) {
            Map<String, Slot> byKey = new LinkedHashMap<>();
            long now = System.currentTimeMillis();
            for (ConsumerRecord<String, byte[]> r : records) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (r.offset() >= end.get(tp)) {
                    continue; // the live writer's
                }
                if (keyFilter != null && r.key() != null && !r.key().startsWith(keyFilter)) {
                    filtered++;
                    continue;
                }
                CacheMutation m;
                try {
                    m = Batch.decode(r, mutationSerde);
                } catch (UnknownSchemaException e) {
                    // a newer instance's mutation: skipping it would lose it, and the marker would say complete
                    throw new IllegalStateException(
                            "the mutation at " + r.topic() + "-" + r.partition() + "@" + r.offset()
                                    + " has a schema this writer does not know: upgrade it, then rebuild",
                            e);
                } catch (SerializationException | IllegalArgumentException e) {
                    filtered++;
                    log.debug(
                            "Skipping mutation record at {}-{}@{}: {}",
                            r.topic(),
                            r.partition(),
                            r.offset(),
                            e.getMessage());
                    continue;
                }
                if (entityType != null && !entityType.equals(m.getEntityType())) {
                    filtered++;
                    continue;
                }
                Slot current = byKey.get(m.getKey());
                if (current != null && m.getVersion() < current.write().version()) {
                    continue;
                }
                long left = m.getOccurredAt().toEpochMilli() + m.getTtlMillis() - now;
                long ttl;
                if (left <= 0) {
                    ttl = EXPIRED_TTL_MILLIS;
                } else {
                    ttl = Math.min(m.getTtlMillis(), left);
                }
                CacheMutation adjusted = ttl == m.getTtlMillis()
                        ? m
                        : CacheMutation.newBuilder(m).setTtlMillis(ttl).build();
                byKey.put(m.getKey(), new Slot(new PendingWrite(adjusted), tp, r.offset()));
            }
            return new ArrayList<>(byKey.values());
        }

        /** Writes until every write has a definite reply, then announces; false if cancelled first. */
        private boolean apply(List<Slot> slots, BooleanSupplier cancelled) {
            List<PendingWrite> writes = slots.stream().map(Slot::write).toList();
            Backoff backoff = new Backoff(config.retryBackoffMin(), config.retryBackoffMax());
            while (true) {
                RedisBatchWriter.Attempt attempt = redis.attempt(writes);
                if (attempt.failed() == 0) {
                    if (redisWarned) {
                        log.info("Rebuild: Redis available again");
                        redisWarned = false;
                    }
                    break;
                }
                if (!redisWarned) {
                    log.warn("Rebuild: Redis unavailable, retrying: {}", attempt.failure());
                    redisWarned = true;
                }
                if (!sleep(backoff.next(), cancelled)) {
                    return false;
                }
            }
            long a = 0;
            long st = 0;
            long d = 0;
            long ex = 0;
            List<CacheInvalidation> announce = new ArrayList<>();
            for (Slot s : slots) {
                PendingWrite w = s.write();
                switch (w.outcome()) {
                    case APPLIED -> {
                        a++;
                        if (w.mutation.getTtlMillis() == EXPIRED_TTL_MILLIS) {
                            ex++;
                        }
                        if (s.offset() >= announceFrom.get(s.partition())) {
                            announce.add(WriterLoop.invalidation(w));
                        }
                    }
                    case STALE -> st++;
                    default -> d++;
                }
            }
            applied += a;
            stale += st;
            duplicate += d;
            expired += ex;
            if (!announce.isEmpty() && !publish(announce, cancelled)) {
                return false;
            }
            invalidations += announce.size();
            metrics.progress(progress(), a, st, d, ex, announce.size());
            return true;
        }

        private boolean publish(List<CacheInvalidation> invalidations, BooleanSupplier cancelled) {
            if (producer == null) {
                producer = new KafkaProducer<>(
                        WriterLoop.producerConfig(config), new StringSerializer(), new ByteArraySerializer());
                sender = new InvalidationSender(producer, config.invalidationsTopic());
            }
            Backoff backoff = new Backoff(config.retryBackoffMin(), config.retryBackoffMax());
            List<CacheInvalidation> pending = invalidations;
            boolean warned = false;
            while (true) {
                InvalidationSender.Outcome outcome = sender.sendAll(pending);
                List<CacheInvalidation> failed = outcome.failed();
                String failure = outcome.failure();
                if (failed.isEmpty()) {
                    return true;
                }
                if (!warned) {
                    log.warn("Rebuild: {} invalidation(s) not published yet, retrying: {}", failed.size(), failure);
                    warned = true;
                }
                pending = failed;
                if (!sleep(backoff.next(), cancelled)) {
                    return false;
                }
            }
        }

        Progress progress() {
            return new Progress(
                    total,
                    read,
                    applied,
                    stale,
                    duplicate,
                    expired,
                    filtered,
                    invalidations,
                    Duration.ofNanos(System.nanoTime() - t0));
        }

        @Override
        public void close() {
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
                log.debug("Closing the rebuild consumer failed: {}", e.toString());
            }
            try {
                admin.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                log.debug("Closing the rebuild admin client failed: {}", e.toString());
            }
            if (producer != null) {
                try {
                    producer.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    log.debug("Closing the rebuild producer failed: {}", e.toString());
                }
            }
        }
    }
}
