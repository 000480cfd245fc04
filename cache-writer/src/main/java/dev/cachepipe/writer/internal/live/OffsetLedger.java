package dev.cachepipe.writer.internal.live;

import dev.cachepipe.schemas.Redact;
import dev.cachepipe.support.AccessDenied;
import dev.cachepipe.writer.internal.apply.Health;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the live writer may commit, and what it inherited; also its rebalance listener. Writer thread only.
 *
 * <ul>
 *   <li><b>Pending commits</b>: the next offset of every batch that Redis and Kafka fully acknowledged, committed at the
 *       next chance for the partitions still assigned; the offsets of revoked partitions are committed on their way
 *       out, those of lost partitions dropped (their new owner reprocesses).
 *   <li><b>Inherited ranges</b>: a partition someone committed before comes with records up to its end offset at
 *       assignment that its last owner may have written to Redis but died before announcing; for those, "same version
 *       already stored" counts as changed, so their invalidations are not lost.
 *   <li><b>The batch in flight</b>: once one of its partitions is revoked or lost, the batch is disowned: its retries
 *       stop, and it is neither announced further nor committed (the partition's new owner writes it again). A
 *       partition that comes back is owned anew.
 *   <li><b>Committed floors</b>: per partition, the group's committed offset at assignment (and every offset this
 *       writer committed since); nothing below it is ever committed, so a committed offset never goes back.
 * </ul>
 */
final class OffsetLedger implements ConsumerRebalanceListener {
    private static final Logger log = LoggerFactory.getLogger("dev.cachepipe.writer.CacheWriter");
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    private final Consumer<String, byte[]> consumer;
    private final String groupId;
    private final Health kafkaHealth;
    private final BooleanSupplier waitingPaused;
    private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    /** Per partition, the end offset when it was assigned: records before it may be a dead owner's work. */
    private final Map<TopicPartition, Long> inheritedUntil = new HashMap<>();
    /** Per partition, the highest offset known committed for the group: never commit below it. */
    private final Map<TopicPartition, Long> committedFloor = new HashMap<>();
    /** The partitions of the batch in flight, or null between batches. */
    private Set<TopicPartition> batch;
    /** Those of {@link #batch} that were revoked or lost since it was read. */
    private final Set<TopicPartition> disowned = new HashSet<>();

    /** @param waitingPaused whether the writer waits with its partitions paused (new ones are paused too) */
    OffsetLedger(Consumer<String, byte[]> consumer, String groupId, Health kafkaHealth, BooleanSupplier waitingPaused) {
        this.consumer = consumer;
        this.groupId = groupId;
        this.kafkaHealth = kafkaHealth;
        this.waitingPaused = waitingPaused;
    }

    /** A batch read from {@code partitions} is about to be applied: it is owned until one of them is revoked or lost. */
    void batchStarted(Set<TopicPartition> partitions) {
        batch = Set.copyOf(partitions);
        disowned.clear();
    }

    /**
     * The partitions of the batch in flight that were revoked or lost since it was read (empty while it is owned).
     * Once non-empty, the batch must be dropped: not retried, announced or committed.
     */
    Set<TopicPartition> disowned() {
        return disowned;
    }

    /** The batch in flight is finished (applied, dropped or abandoned). */
    void batchEnded() {
        batch = null;
        disowned.clear();
    }

    /**
     * Every write before these next offsets is acknowledged by Redis and announced. Ignored for a batch that was
     * disowned meanwhile: its partitions' new owners commit them.
     */
    void acknowledged(Map<TopicPartition, Long> nextOffsets) {
        if (!disowned.isEmpty()) {
            return;
        }
        nextOffsets.forEach((tp, next) -> pending.put(tp, new OffsetAndMetadata(next)));
    }

    /** Whether the record at {@code offset} lies in a range inherited from a previous owner. */
    boolean inherited(TopicPartition partition, long offset) {
        return offset < inheritedUntil.getOrDefault(partition, -1L);
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    /**
     * Commits the pending offsets of the partitions still assigned; keeps them on failure.
     *
     * @return false if Kafka refused the commit (it is retried next time), true otherwise
     */
    boolean commitPending() {
        if (pending.isEmpty()) {
            return true;
        }
        pending.keySet().retainAll(consumer.assignment());
        pending.entrySet().removeIf(e -> e.getValue().offset() < committedFloor.getOrDefault(e.getKey(), -1L));
        if (pending.isEmpty()) {
            return true;
        }
        try {
            consumer.commitSync(new HashMap<>(pending), COMMIT_TIMEOUT);
            pending.forEach((tp, o) -> committedFloor.merge(tp, o.offset(), Math::max));
            pending.clear();
            kafkaHealth.up();
            return true;
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // Kept: committed after the rebalance for the partitions this writer still owns.
            log.info("Offsets not committed during a rebalance; retrying for partitions still assigned after it");
            return true;
        } catch (KafkaException e) {
            AccessDenied.check("Kafka refused to commit the offsets of group " + groupId, e);
            kafkaHealth.down("cannot commit offsets: " + Redact.describe(e));
            return false;
        }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        disown(partitions, "revoked");
        inheritedUntil.keySet().removeAll(partitions);
        // Offsets of fully acknowledged batches are still ours to commit.
        Map<TopicPartition, OffsetAndMetadata> mine = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata o = pending.remove(tp);
            if (o != null) {
                mine.put(tp, o);
            }
        }
        mine.entrySet().removeIf(e -> e.getValue().offset() < committedFloor.getOrDefault(e.getKey(), -1L));
        committedFloor.keySet().removeAll(partitions);
        if (mine.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(mine, COMMIT_TIMEOUT);
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            AccessDenied.check("Kafka refused to commit the offsets of group " + groupId, e);
            log.warn(
                    "Could not commit offsets of revoked partitions {} (they will be reprocessed): {}",
                    mine.keySet(),
                    Redact.describe(e));
        }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        if (waitingPaused.getAsBoolean()) {
            consumer.pause(partitions);
        }
        if (partitions.isEmpty()) {
            return;
        }
        try {
            Set<TopicPartition> owned = new HashSet<>();
            consumer.committed(new HashSet<>(partitions), COMMIT_TIMEOUT).forEach((tp, offset) -> {
                if (offset != null) {
                    owned.add(tp);
                    committedFloor.put(tp, offset.offset());
                }
            });
            if (!owned.isEmpty()) {
                consumer.endOffsets(owned, COMMIT_TIMEOUT).forEach(inheritedUntil::put);
            }
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            AccessDenied.check("Kafka refused to read the committed offsets of group " + groupId, e);
            log.debug("No end offsets for {}: {}", partitions, Redact.describe(e));
        }
    }

    /** The group's committed offset of each of {@code partitions} that has one, as read at assignment. */
    Map<TopicPartition, Long> committedAtAssignment(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> out = new HashMap<>();
        for (TopicPartition tp : partitions) {
            Long floor = committedFloor.get(tp);
            if (floor != null) {
                out.put(tp, floor);
            }
        }
        return out;
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
        disown(partitions, "lost");
        pending.keySet().removeAll(partitions);
        inheritedUntil.keySet().removeAll(partitions);
        committedFloor.keySet().removeAll(partitions);
    }

    /** Marks the batch in flight disowned if it holds one of {@code partitions}. */
    private void disown(Collection<TopicPartition> partitions, String how) {
        if (batch == null) {
            return;
        }
        boolean first = disowned.isEmpty();
        for (TopicPartition tp : partitions) {
            if (batch.contains(tp)) {
                disowned.add(tp);
            }
        }
        if (first && !disowned.isEmpty()) {
            log.info(
                    "Partitions {} were {} while their batch was in flight: dropping the batch (not retried, announced"
                            + " or committed; their new owner writes it)",
                    disowned,
                    how);
        }
    }
}
