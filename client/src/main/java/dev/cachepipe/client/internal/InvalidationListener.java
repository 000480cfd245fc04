package dev.cachepipe.client.internal;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.PurgeAnnouncement;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.RedisLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps L1 fresh: a {@link KafkaConsumer} assigned to every partition of the invalidations topic (no group, no
 * commits), starting at the end, on its own thread. Not API.
 *
 * <p>Each invalidation raises the id's watermark, then updates the L1 entry in place (inline payload, deletion) or
 * evicts it, if L1 held an older version. Every {@code checkInterval} the listener asks for the end offsets: that is
 * how it measures its lag and notices that it lost contact. It <em>resyncs</em> — skips to the end, bumps the
 * {@link Freshness} epoch and clears L1 — when it is more than {@code listenerMaxLag} behind or its offsets were
 * reset (topic recreated or truncated, partitions added). When it has been out of contact for {@code
 * listenerMaxDisconnect}, it clears L1 and turns it off until contact is back (then skips to the end and turns it on).
 */
public final class InvalidationListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InvalidationListener.class);
    private static final Duration POLL = Duration.ofMillis(100);

    private final ClientConfig config;
    private final Function<String, DefaultEntityCache<?>> caches;
    private final Runnable clearL1;
    private final Freshness freshness;
    private final ClientMetrics metrics;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroSerde<CacheInvalidation> serde = AvroSerde.of(CacheInvalidation.class);
    private final String keyPrefix;
    private final long checkIntervalNanos;
    private final Duration checkTimeout;
    private final long maxDisconnectNanos;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;

    private List<TopicPartition> assigned;
    private long lastContactNanos;
    private long nextCheckNanos;
    private boolean l1OffForOutage;
    private boolean missingTopicLogged;
    /** The latest purges applied (key and time), so that one announced on every partition is applied once. */
    private final java.util.Set<String> appliedPurges =
            java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > 256;
                }
            });

    private boolean failureLogged;

    /**
     * @param caches the entity cache of a type, or {@code null}
     * @param clearL1 clears every entity type's L1 (after the epoch was bumped)
     */
    public InvalidationListener(
            ClientConfig config,
            Function<String, DefaultEntityCache<?>> caches,
            Runnable clearL1,
            Freshness freshness,
            ClientMetrics metrics) {
        this.config = config;
        this.caches = caches;
        this.clearL1 = clearL1;
        this.freshness = freshness;
        this.metrics = metrics;
        this.keyPrefix = config.keyPrefix();
        this.maxDisconnectNanos = config.listenerMaxDisconnect().toNanos();
        long interval = Math.max(
                TimeUnit.MILLISECONDS.toNanos(50), Math.min(TimeUnit.SECONDS.toNanos(1), maxDisconnectNanos / 4));
        this.checkIntervalNanos = interval;
        this.checkTimeout = Duration.ofNanos(
                Math.min(config.kafkaTimeout().toNanos(), Math.max(interval * 2, TimeUnit.MILLISECONDS.toNanos(200))));
        this.consumer = new KafkaConsumer<>(
                consumerProperties(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::run, "cachepipe-invalidations-" + config.name());
        this.thread.setDaemon(true);
    }

    /** The consumer's properties: the user's, then what the listener owns. */
    static Map<String, Object> consumerProperties(ClientConfig config) {
        Map<String, Object> p = new HashMap<>(config.kafkaProperties());
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, config.name() + "-invalidations");
        p.putIfAbsent(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        // Every application instance runs a listener: at a trickle of invalidations, fetches that return at the first
        // record cost the broker a request per record and instance. Waiting up to 5 ms for 64 KB bounds that to 200
        // fetches a second per instance, for at most 5 ms of freshness.
        p.putIfAbsent(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 65_536);
        p.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        // Notice added partitions and a recreated topic within seconds, not the default 5 minutes.
        p.putIfAbsent(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 10_000);
        return p;
    }

    public void start() {
        thread.start();
    }

    /** Waits until the listener is positioned at the end of every partition (L1 on), at most {@code timeout}. */
    public boolean awaitReady(Duration timeout) {
        try {
            return ready.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void run() {
        try {
            while (running) {
                try {
                    if (assigned == null) {
                        if (!assign()) {
                            sleep(500);
                        }
                        continue;
                    }
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        apply(r);
                    }
                    if (!records.isEmpty()) {
                        checkLocalLag();
                    }
                    if (System.nanoTime() - nextCheckNanos >= 0) {
                        check();
                        nextCheckNanos = System.nanoTime() + checkIntervalNanos;
                    }
                } catch (WakeupException | InterruptException e) {
                    if (!running) {
                        break;
                    }
                } catch (OffsetOutOfRangeException | NoOffsetForPartitionException e) {
                    resync(ClientMetrics.ResyncReason.OFFSETS_RESET, "its offsets are out of range");
                } catch (KafkaException e) {
                    if (!failureLogged) {
                        failureLogged = true;
                        log.warn("Invalidation listener of {}: {}; retrying", config.name(), Redact.describe(e));
                    }
                    outOfContact();
                    sleep(200);
                } catch (RuntimeException e) {
                    log.error("Invalidation listener of {} failed; retrying", config.name(), e);
                    sleep(500);
                }
            }
        } finally {
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(1)));
            } catch (RuntimeException e) {
                log.debug("closing the invalidation consumer failed: {}", Redact.describe(e));
            }
        }
    }

    /** Assigns every partition, positioned at the end, and turns L1 on. */
    private boolean assign() {
        List<PartitionInfo> infos;
        try {
            infos = consumer.partitionsFor(config.invalidationsTopic(), config.kafkaTimeout());
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            outOfContact();
            return false;
        }
        if (infos == null || infos.isEmpty()) {
            if (!missingTopicLogged) {
                missingTopicLogged = true;
                log.warn(
                        "Invalidations topic {} not found at {}; L1 stays off until it exists",
                        config.invalidationsTopic(),
                        config.bootstrapServers());
            }
            contact();
            return false;
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : infos) {
            partitions.add(new TopicPartition(info.topic(), info.partition()));
        }
        partitions.sort(Comparator.comparingInt(TopicPartition::partition));
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        for (TopicPartition tp : partitions) {
            consumer.position(tp, config.kafkaTimeout());
        }
        assigned = List.copyOf(partitions);
        freshness.setEnabled(true);
        l1OffForOutage = false;
        contact();
        nextCheckNanos = System.nanoTime() + checkIntervalNanos;
        ready.countDown();
        log.info(
                "Invalidation listener of {} reads {} partition(s) of {} from the end; L1 on",
                config.name(),
                partitions.size(),
                config.invalidationsTopic());
        return true;
    }

    /** Measures lag, notices lost contact, reset offsets and new partitions. */
    private void check() {
        Map<TopicPartition, Long> ends;
        try {
            ends = consumer.endOffsets(assigned, checkTimeout);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            outOfContact();
            return;
        }
        contact();
        if (l1OffForOutage) {
            // Back in contact: what was published meanwhile concerns no cached entry (L1 was cleared and off).
            seekToEndAndResolve();
            freshness.setEnabled(true);
            l1OffForOutage = false;
            log.info("Invalidation listener of {} is back in contact with Kafka; L1 on again", config.name());
            return;
        }
        List<PartitionInfo> infos = consumer.partitionsFor(config.invalidationsTopic(), checkTimeout);
        if (infos != null && infos.size() != assigned.size()) {
            assigned = null;
            freshness.setEnabled(false);
            clearL1.run();
            metrics.resync(ClientMetrics.ResyncReason.PARTITIONS_CHANGED);
            log.warn(
                    "Invalidations topic {} now has {} partition(s); listener of {} reassigns and resyncs L1",
                    config.invalidationsTopic(),
                    infos.size(),
                    config.name());
            return;
        }
        long lag = 0;
        boolean reset = false;
        for (TopicPartition tp : assigned) {
            long position = consumer.position(tp, checkTimeout);
            Long end = ends.get(tp);
            if (end == null) {
                continue;
            }
            if (end < position) {
                reset = true;
            }
            lag += Math.max(0, end - position);
        }
        metrics.listenerLag(lag);
        if (reset) {
            resync(
                    ClientMetrics.ResyncReason.OFFSETS_RESET,
                    "the topic's end offsets went back (recreated or truncated)");
        } else if (lag > config.listenerMaxLag()) {
            resync(
                    ClientMetrics.ResyncReason.LAG,
                    "it is " + lag + " invalidations behind (listenerMaxLag " + config.listenerMaxLag() + ")");
        }
    }

    /**
     * The lag the consumer knows from its last fetch responses (no round trip): catches falling behind as soon as a
     * fetch brings more than {@code listenerMaxLag} records, without waiting for the next check.
     */
    private void checkLocalLag() {
        long lag = 0;
        for (TopicPartition tp : assigned) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) {
                // The high watermark is the one of the last fetch response: the position may be past it.
                lag += Math.max(0, l.getAsLong());
            }
        }
        metrics.listenerLag(lag);
        if (lag > config.listenerMaxLag()) {
            resync(
                    ClientMetrics.ResyncReason.LAG,
                    "it is " + lag + " invalidations behind (listenerMaxLag " + config.listenerMaxLag() + ")");
        }
    }

    /** Skip to the end, then bump the epoch and clear L1: nothing read before the skip can be cached after it. */
    private void resync(ClientMetrics.ResyncReason reason, String why) {
        log.warn("Invalidation listener of {} resyncs L1 because {}", config.name(), why);
        try {
            if (assigned != null) {
                seekToEndAndResolve();
            }
            freshness.bump();
            clearL1.run();
            metrics.listenerLag(0);
        } catch (KafkaException e) {
            // Cannot find the end now: keep L1 off and empty until contact is back.
            freshness.setEnabled(false);
            clearL1.run();
            l1OffForOutage = true;
        } finally {
            metrics.resync(reason);
        }
    }

    private void seekToEndAndResolve() {
        consumer.seekToEnd(assigned);
        for (TopicPartition tp : assigned) {
            consumer.position(tp, config.kafkaTimeout());
        }
    }

    private void contact() {
        lastContactNanos = System.nanoTime();
        metrics.listenerConnected(true);
        if (failureLogged) {
            failureLogged = false;
            log.info("Invalidation listener of {} is in contact with Kafka again", config.name());
        }
    }

    private void outOfContact() {
        metrics.listenerConnected(false);
        if (lastContactNanos == 0) {
            lastContactNanos = System.nanoTime();
        }
        if (!l1OffForOutage && assigned != null && System.nanoTime() - lastContactNanos > maxDisconnectNanos) {
            l1OffForOutage = true;
            freshness.setEnabled(false);
            clearL1.run();
            metrics.resync(ClientMetrics.ResyncReason.DISCONNECTED);
            log.warn(
                    "Invalidation listener of {} lost contact with Kafka for more than {}; L1 cleared and off"
                            + " (reads go to Redis) until it is back",
                    config.name(),
                    config.listenerMaxDisconnect());
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        if (record.value() == null) {
            return;
        }
        CacheInvalidation inv;
        try {
            inv = serde.decode(record.value());
        } catch (SerializationException e) {
            metrics.undecodableInvalidation();
            evictByRecordKey(record.key());
            return;
        }
        String type = inv.getEntityType();
        if (record.headers().lastHeader(RedisLayout.PURGE_HEADER) != null) {
            purge(inv);
            return;
        }
        if (!isOurs(inv)) {
            return; // another key prefix sharing the topic
        }
        DefaultEntityCache<?> cache = caches.apply(type);
        if (cache == null) {
            return;
        }
        cache.applyInvalidation(inv);
        long now = System.currentTimeMillis();
        if (inv.getWrittenAt() != null) {
            long delay = now - inv.getWrittenAt().toEpochMilli();
            metrics.invalidationDelay().record(Math.max(0, delay), TimeUnit.MILLISECONDS);
        }
        if (inv.getOccurredAt() != null) {
            metrics.freshness().record(Math.max(0, now - inv.getOccurredAt().toEpochMilli()), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * A purge announcement ({@code cachepipe purge}): Redis holds fences for every entry of the type (or id prefix)
     * that was written before it, so L1 drops them all, values this client loaded itself included. The epoch is bumped
     * first: a Redis reply read before the purge's fences cannot be cached after this. The announcement comes on every
     * partition; applying it again is harmless.
     */
    private void purge(CacheInvalidation inv) {
        String type = inv.getEntityType();
        String idPrefix = inv.getEntityId();
        if (!PurgeAnnouncement.isUnder(keyPrefix, inv)) {
            return; // another key prefix sharing the topic
        }
        DefaultEntityCache<?> cache = caches.apply(type);
        if (cache == null
                || !appliedPurges.add(inv.getKey() + '@' + inv.getWrittenAt().toEpochMilli())) {
            return; // not a type of this client, or the same purge read on another partition
        }
        freshness.bump();
        cache.purgeLocal(idPrefix);
        metrics.purge(type);
        log.info("Purge of {}{} applied to L1", type, idPrefix.isEmpty() ? "" : " ids starting with " + idPrefix);
    }

    /** Whether the invalidation's Redis key is its entity's key under this client's prefix. */
    private boolean isOurs(CacheInvalidation inv) {
        return RedisLayout.parse(keyPrefix, inv.getKey())
                .equals(Optional.of(new RedisLayout.EntryKey(inv.getEntityType(), inv.getEntityId())));
    }

    /** An undecodable invalidation: evict what its Kafka key (the Redis key) names, if it is ours. */
    private void evictByRecordKey(byte[] recordKey) {
        if (recordKey == null) {
            return;
        }
        RedisLayout.parse(keyPrefix, new String(recordKey, StandardCharsets.UTF_8))
                .ifPresent(key -> {
                    DefaultEntityCache<?> cache = caches.apply(key.entityType());
                    if (cache != null) {
                        cache.invalidateLocal(key.entityId());
                    }
                });
    }

    private void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
