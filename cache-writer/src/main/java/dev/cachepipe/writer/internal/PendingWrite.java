package dev.cachepipe.writer.internal;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.writer.RedisScripts;
import dev.cachepipe.writer.WriteOutcome;

/**
 * One coalesced mutation on its way to Redis, with the outcome of its attempts. Owned by the writer thread.
 *
 * <p>An attempt whose outcome is unknown (timeout, connection lost) may have applied the write; if a later attempt
 * then finds the same version stored ({@link RedisScripts#SAME_VERSION}), the write counts as a change, so that its
 * invalidation is not lost (at-least-once). On a first attempt the same reply means a duplicate.
 */
final class PendingWrite {
    final CacheMutation mutation;
    final String entityType;
    private boolean uncertain;
    private Long reply;
    private long ackAtMillis;

    PendingWrite(CacheMutation mutation) {
        this.mutation = mutation;
        this.entityType = mutation.getEntityType();
    }

    String key() {
        return mutation.getKey();
    }

    long version() {
        return mutation.getVersion();
    }

    boolean done() {
        return reply != null;
    }

    /** A definite reply from the script. */
    void replied(long value, long ackAtMillis) {
        this.reply = value;
        this.ackAtMillis = ackAtMillis;
    }

    /** The attempt failed in a way that may or may not have reached Redis. */
    void outcomeUnknown() {
        uncertain = true;
    }

    boolean uncertain() {
        return uncertain;
    }

    /** Whether Redis now holds this write because of this writer: an invalidation is due. */
    boolean changed() {
        return reply != null && (reply == RedisScripts.APPLIED || (reply == RedisScripts.SAME_VERSION && uncertain));
    }

    /** What the write did; only when {@link #done()}. */
    WriteOutcome outcome() {
        if (changed()) {
            return WriteOutcome.APPLIED;
        }
        return reply == RedisScripts.STALE ? WriteOutcome.STALE : WriteOutcome.DUPLICATE;
    }

    long ackAtMillis() {
        return ackAtMillis;
    }

    @Override
    public String toString() {
        return "PendingWrite[" + key() + " v" + version() + " " + mutation.getOp() + ", reply=" + reply + ", uncertain="
                + uncertain + "]";
    }
}
