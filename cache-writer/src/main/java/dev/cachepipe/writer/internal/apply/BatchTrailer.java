package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.support.redis.ScriptCall;
import java.util.List;

/**
 * Script calls sent after a batch's writes in the same pipeline (the live writer's watermarks). Redis runs one
 * connection's commands in order, so any state of Redis (a snapshot, a replica) that holds their effect holds every
 * write sent before them. Sent again after the writes of every retry; a batch is written once all its writes and,
 * in the same attempt, all these calls were answered. The replies kept are those of the first attempt that answered
 * them all. Used by one thread only.
 */
public final class BatchTrailer {
    private final List<ScriptCall> calls;
    private long[] replies; // null until answered

    public BatchTrailer(List<ScriptCall> calls) {
        this.calls = List.copyOf(calls);
    }

    /** No calls after the writes (a rebuild's batches). */
    public static BatchTrailer none() {
        return new BatchTrailer(List.of());
    }

    public List<ScriptCall> calls() {
        return calls;
    }

    public boolean isEmpty() {
        return calls.isEmpty();
    }

    /** Whether every call was answered in one attempt. */
    public boolean answered() {
        return replies != null || calls.isEmpty();
    }

    /** The integer reply of call {@code i}, once {@link #answered()}. */
    public long reply(int i) {
        if (replies == null) {
            throw new IllegalStateException("the trailer was not answered");
        }
        return replies[i];
    }

    /** Keeps the replies of the first attempt that answered every call. */
    void answered(long[] attemptReplies) {
        if (replies == null) {
            replies = attemptReplies.clone();
        }
    }
}
