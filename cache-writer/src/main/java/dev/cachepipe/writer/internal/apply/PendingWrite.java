package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.writer.RedisScripts;
import dev.cachepipe.writer.WriteOutcome;
import org.apache.kafka.common.TopicPartition;

/**
 * One coalesced mutation on its way to Redis, where its record was, and the outcome of its attempts. Owned by one
 * driver thread.
 *
 * <p>An attempt whose outcome is unknown (timeout, connection lost) may have applied the write; if a later attempt
 * then finds the same version stored ({@link RedisScripts#SAME_VERSION}), the write counts as a change, so that its
 * invalidation is not lost (at-least-once). On a first attempt the same reply means a duplicate.
 */
public final class PendingWrite {
    private final CacheMutation mutation;
    private final TopicPartition partition;
    private final long offset;
    private boolean uncertain;
    private Long reply;
    private long ackAtMillis;

    public PendingWrite(CacheMutation mutation, TopicPartition partition, long offset) {
        this.mutation = mutation;
        this.partition = partition;
        this.offset = offset;
    }

    public CacheMutation mutation() {
        return mutation;
    }

    public String key() {
        return mutation.getKey();
    }

    public long version() {
        return mutation.getVersion();
    }

    public String entityType() {
        return mutation.getEntityType();
    }

    /** The partition of the record this write came from. */
    public TopicPartition partition() {
        return partition;
    }

    /** The offset of the record this write came from. */
    public long offset() {
        return offset;
    }

    public boolean done() {
        return reply != null;
    }

    /** A definite reply from the script. */
    void replied(long value, long ackAtMillis) {
        this.reply = value;
        this.ackAtMillis = ackAtMillis;
    }

    /** The attempt failed in a way that may or may not have reached Redis (or an earlier owner may have applied it). */
    public void outcomeUnknown() {
        uncertain = true;
    }

    boolean uncertain() {
        return uncertain;
    }

    /** Whether Redis now holds this write because of this writer: an invalidation is due. */
    public boolean changed() {
        return reply != null && (reply == RedisScripts.APPLIED || (reply == RedisScripts.SAME_VERSION && uncertain));
    }

    /** What the write did; only when {@link #done()}. */
    public WriteOutcome outcome() {
        if (changed()) {
            return WriteOutcome.APPLIED;
        }
        return reply == RedisScripts.STALE ? WriteOutcome.STALE : WriteOutcome.DUPLICATE;
    }

    /** When Redis acknowledged the write (epoch ms). */
    public long ackAtMillis() {
        return ackAtMillis;
    }

    @Override
    public String toString() {
        return "PendingWrite[" + key() + " v" + version() + " " + mutation.getOp() + " from " + partition + "@" + offset
                + ", reply=" + reply + ", uncertain=" + uncertain + "]";
    }
}
