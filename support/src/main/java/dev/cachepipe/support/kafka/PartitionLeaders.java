package dev.cachepipe.support.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Waits until the partitions of newly created topics answer as leaders.
 *
 * <p>A created topic is not yet online: for a moment its partitions answer NOT_LEADER_OR_FOLLOWER (or the broker does
 * not know the topic yet), and an idempotent producer that writes at once and has a later batch accepted before its
 * first one is left retrying out-of-order sequences until its delivery timeout drops the first batch (KAFKA-15591).
 * ListOffsets needs the partition's leader, as a produce does: once it answers for every partition, producing is safe.
 */
public final class PartitionLeaders {
    private static final long RETRY_MILLIS = 100;

    private PartitionLeaders() {}

    /**
     * Returns once every partition of {@code partitionsByTopic} (topic → partition count) answers ListOffsets.
     *
     * @throws TimeoutException if that takes longer than {@code timeout}
     * @throws ExecutionException on an error that retrying does not cure (e.g. authorization)
     */
    public static void await(Admin admin, Map<String, Integer> partitionsByTopic, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
        partitionsByTopic.forEach((topic, count) -> {
            for (int p = 0; p < count; p++) {
                partitions.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
        });
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException(
                        "partitions of " + partitionsByTopic.keySet() + " had no leader within " + timeout);
            }
            try {
                admin.listOffsets(partitions).all().get(left, TimeUnit.NANOSECONDS);
                return;
            } catch (TimeoutException e) {
                // the last call ran into the deadline: the same answer as a deadline between calls
                throw new TimeoutException(
                        "partitions of " + partitionsByTopic.keySet() + " had no leader within " + timeout);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException)) {
                    throw e; // the unknown topic and no-leader errors are retriable; anything else is not ours
                }
                Thread.sleep(RETRY_MILLIS);
            }
        }
    }
}
