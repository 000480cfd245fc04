package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.schemas.Redact;
import dev.cachepipe.writer.WriterConfig;
import dev.cachepipe.writer.internal.apply.KafkaClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded part of the mutations topic one rebuild replays: every partition from its beginning up to the end
 * offsets captured when the rebuild starts (what comes after is the live writer's), read with a consumer of its own
 * (assigned partitions, no group, no commits). It also knows where announcing starts: the writer group's committed
 * offsets at the start, since everything before them was announced when the live writer first wrote it.
 */
final class ReplaySource implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReplaySource.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(60);

    private final WriterConfig config;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Admin admin;
    private final Map<TopicPartition, Long> begin = new HashMap<>();
    private final Map<TopicPartition, Long> end = new HashMap<>();
    private final Map<TopicPartition, Long> announceFrom = new HashMap<>();
    private final Set<TopicPartition> remaining = new HashSet<>();
    private long total;

    ReplaySource(WriterConfig config) {
        this.config = config;
        KafkaConsumer<String, byte[]> c = null;
        try {
            c = new KafkaConsumer<>(
                    KafkaClients.replayConsumer(config), new StringDeserializer(), new ByteArrayDeserializer());
            this.admin = Admin.create(KafkaClients.admin(config));
        } catch (RuntimeException e) {
            if (c != null) {
                c.close(CloseOptions.timeout(Duration.ZERO));
            }
            throw e;
        }
        this.consumer = c;
    }

    /** Captures the offsets (beginning, end, the group's committed ones) and positions the consumer. */
    void open() {
        List<PartitionInfo> infos = consumer.partitionsFor(config.mutationsTopic(), KAFKA_TIMEOUT);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("the mutations topic " + config.mutationsTopic() + " does not exist");
        }
        List<TopicPartition> tps = infos.stream()
                .map(i -> new TopicPartition(i.topic(), i.partition()))
                .toList();
        begin.putAll(consumer.beginningOffsets(tps, KAFKA_TIMEOUT));
        end.putAll(consumer.endOffsets(tps, KAFKA_TIMEOUT));
        Map<TopicPartition, OffsetAndMetadata> committed = committedOffsets();
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
        assignAndSeek();
    }

    /** A part of one partition: the offsets from {@code from} (inclusive) to {@code to} (exclusive). */
    record Range(long from, long to) {}

    /**
     * Captures the offsets of only these ranges (a Redis that went back in time, see the watermarks) and positions
     * the consumer. Announces nothing: every record before {@code to} was announced when the live writer wrote it.
     */
    void open(Map<TopicPartition, Range> ranges) {
        Map<TopicPartition, Long> first = consumer.beginningOffsets(ranges.keySet(), KAFKA_TIMEOUT);
        ranges.forEach((tp, r) -> {
            long b = Math.max(r.from(), first.getOrDefault(tp, 0L)); // before it: removed by retention
            begin.put(tp, b);
            end.put(tp, r.to());
            announceFrom.put(tp, r.to());
            if (r.to() > b) {
                remaining.add(tp);
                total += r.to() - b;
            }
        });
        assignAndSeek();
    }

    private void assignAndSeek() {
        consumer.assign(remaining);
        for (TopicPartition tp : remaining) {
            consumer.seek(tp, begin.get(tp));
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> committedOffsets() {
        try {
            return admin.listConsumerGroupOffsets(config.groupId())
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
    }

    /** Records (offsets) to replay, all partitions. */
    long total() {
        return total;
    }

    int partitions() {
        return end.size();
    }

    /** Whether every partition reached its end offset. */
    boolean done() {
        return remaining.isEmpty();
    }

    ConsumerRecords<String, byte[]> poll() {
        return consumer.poll(POLL_TIMEOUT);
    }

    /** Whether the record lies before the end captured at the start (after it is the live writer's). */
    boolean inScope(ConsumerRecord<String, byte[]> r) {
        return r.offset() < end.get(new TopicPartition(r.topic(), r.partition()));
    }

    /** Whether the live writer announced the record's write already (it lies before the group's committed offset). */
    boolean announcedBefore(TopicPartition partition, long offset) {
        return offset < announceFrom.get(partition);
    }

    /**
     * Back to the beginning of every partition for another pass over the same records, up to the same end offsets
     * (the rebuild's second pass, see {@link ReplayDriver}).
     */
    void rewind() {
        remaining.clear();
        for (TopicPartition tp : end.keySet()) {
            if (end.get(tp) > begin.get(tp)) {
                remaining.add(tp);
            }
        }
        consumer.resume(remaining);
        for (TopicPartition tp : remaining) {
            consumer.seek(tp, begin.get(tp));
        }
    }

    /** Pauses the partitions that reached their end; returns the records read so far, all partitions. */
    long advance() {
        for (TopicPartition tp : new ArrayList<>(remaining)) {
            if (consumer.position(tp) >= end.get(tp)) {
                remaining.remove(tp);
                consumer.pause(List.of(tp));
            }
        }
        long read = 0;
        for (TopicPartition tp : end.keySet()) {
            long pos = remaining.contains(tp) ? consumer.position(tp) : end.get(tp);
            read += Math.max(0, Math.min(pos, end.get(tp)) - begin.get(tp));
        }
        return read;
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
    }
}
