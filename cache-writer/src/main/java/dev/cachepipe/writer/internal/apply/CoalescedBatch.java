package dev.cachepipe.writer.internal.apply;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * The records of one poll, decoded and coalesced by the {@link Coalescer}.
 *
 * @param writes the coalesced writes, in order of each key's first appearance
 * @param nextOffsets per partition polled, the next offset to read once every write is acknowledged (past skipped and
 *     filtered records, never past a blocking one)
 * @param blocked partitions stopped at a record written with a schema this writer does not know, and its offset:
 *     they must be read again from there
 * @param records records that took part (those of blocked partitions from the blocking record on excluded)
 * @param skipped records that did not decode or could not be applied
 * @param filtered records the driver did not want
 * @param superseded writes dropped after coalescing because the driver knows a newer record of their key follows (a
 *     rebuild's index)
 */
public record CoalescedBatch(
        List<PendingWrite> writes,
        Map<TopicPartition, Long> nextOffsets,
        Map<TopicPartition, Long> blocked,
        int records,
        List<Coalescer.Skip> skipped,
        int filtered,
        int superseded) {

    public CoalescedBatch {
        writes = List.copyOf(writes);
        nextOffsets = Map.copyOf(nextOffsets);
        blocked = Map.copyOf(blocked);
        skipped = List.copyOf(skipped);
    }

    /** Records dropped because a higher (or the same, earlier) version of the same key was in the batch. */
    public int coalesced() {
        return records - skipped.size() - filtered - superseded - writes.size();
    }
}
