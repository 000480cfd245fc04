package dev.cachepipe.writer.internal.purge;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * Waits until the pipeline applied everything published before now: the topology's group has committed the source
 * topics' current end offsets, then the writer's group the mutations topic's end offsets as they are at that point.
 */
final class PipelineWait {
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    private final Admin admin;
    private final long deadline;
    private final Duration wait;
    private final BooleanSupplier cancelled;

    PipelineWait(Admin admin, Duration wait, BooleanSupplier cancelled) {
        this.admin = admin;
        this.wait = wait;
        this.deadline = System.nanoTime() + wait.toNanos();
        this.cancelled = cancelled;
    }

    /** {@code null} once both groups got there; otherwise what is behind. */
    String await(String topologyGroup, Collection<String> sourceTopics, String writerGroup, String mutationsTopic) {
        if (!sourceTopics.isEmpty()) {
            String behind = awaitGroup(topologyGroup, endOffsets(sourceTopics), "the topology");
            if (behind != null) {
                return behind;
            }
        }
        return awaitGroup(writerGroup, endOffsets(List.of(mutationsTopic)), "the writer");
    }

    private String awaitGroup(String group, Map<TopicPartition, Long> ends, String who) {
        Map<TopicPartition, Long> behind = new HashMap<>();
        while (true) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
            behind.clear();
            ends.forEach((tp, end) -> {
                OffsetAndMetadata c = committed.get(tp);
                long at = c == null ? 0 : c.offset();
                if (at < end) {
                    behind.put(tp, end - at);
                }
            });
            if (behind.isEmpty()) {
                return null;
            }
            if (System.nanoTime() > deadline || cancelled.getAsBoolean()) {
                long records =
                        behind.values().stream().mapToLong(Long::longValue).sum();
                return who + " (consumer group " + group + ") had not applied " + records + " records published before"
                        + " the purge, on " + behind.size() + " partitions (" + new ArrayList<>(behind.keySet())
                        + "), within " + wait + ": is the pipeline running? Wait longer, or purge what Redis holds now"
                        + " without waiting";
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return who + ": interrupted while waiting";
            }
        }
    }

    private Map<TopicPartition, Long> endOffsets(Collection<String> topics) {
        Map<String, TopicDescription> described =
                get(admin.describeTopics(topics).allTopicNames());
        Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
        described.forEach((name, d) ->
                d.partitions().forEach(p -> specs.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        Map<TopicPartition, Long> ends = new HashMap<>();
        get(admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                        .all())
                .forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    private static <T> T get(org.apache.kafka.common.KafkaFuture<T> future) {
        try {
            return future.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted", e);
        } catch (ExecutionException e) {
            throw new KafkaException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaException("Kafka did not answer within " + CALL_TIMEOUT, e);
        }
    }
}
