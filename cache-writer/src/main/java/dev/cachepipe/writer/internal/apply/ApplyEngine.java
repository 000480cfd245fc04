package dev.cachepipe.writer.internal.apply;

import java.util.ArrayList;
import java.util.List;

/**
 * The work both drivers share (a record: an immutable combination of the driver's parts): write a coalesced batch to Redis with the version-gated scripts until every write has a
 * definite reply, then announce the writes that changed Redis. The drivers only say where records come from, how to
 * wait (their {@link RetryLoop}s) and what they do with the outcome ({@link Hooks}).
 *
 * <pre>
 *   live writer:  poll ─► Coalescer ─► ApplyEngine.apply ─► commit (OffsetLedger)
 *   rebuild:      ReplaySource ─► Coalescer ─► ApplyEngine.apply ─► progress
 *                                             │ RedisBatchWriter (pipelined scripts, RetryLoop "Redis")
 *                                             │ Announcer (invalidations, RetryLoop "Kafka")
 * </pre>
 */
public record ApplyEngine(RedisBatchWriter redis, RetryLoop redisRetry, Announcer announcer, Hooks hooks) {
    /** What a driver does around a batch. Every method has a neutral default. */
    public interface Hooks {
        /** After each attempt to write the batch (latency, contact time). */
        default void attempted(RedisBatchWriter.Attempt attempt) {}

        /** Once every write of the batch has a definite reply, before anything of it is announced. */
        default void written(List<PendingWrite> writes) {}

        /** Whether a write that changed Redis is announced (a rebuild leaves out what was announced before). */
        default boolean announces(PendingWrite write) {
            return true;
        }
    }

    /**
     * Writes, then announces. Nothing is announced before Redis acknowledged it.
     *
     * @return false if the driver stopped first: the batch is unfinished and nothing after it may be committed
     */
    public boolean apply(List<PendingWrite> writes) {
        return apply(writes, BatchTrailer.none());
    }

    /**
     * Writes with {@code trailer} after the writes in the same pipeline (sent even when there is nothing to write),
     * then announces.
     *
     * @return false if the driver stopped first: the batch is unfinished and nothing after it may be committed
     */
    public boolean apply(List<PendingWrite> writes, BatchTrailer trailer) {
        List<PendingWrite> changed = write(writes, trailer);
        if (changed == null) {
            return false;
        }
        Announcer.Announcement announcement = announce(changed);
        return announcement != null && announcement.finish();
    }

    /**
     * Writes with {@code trailer} after the writes in the same pipeline (sent even when there is nothing to write)
     * until every write has a definite reply; announces nothing.
     *
     * @return the writes that changed Redis and are to be announced ({@link #announce}), or null if the driver
     *     stopped first: the batch is unfinished and nothing after it may be committed
     */
    public List<PendingWrite> write(List<PendingWrite> writes, BatchTrailer trailer) {
        if (writes.isEmpty() && trailer.isEmpty()) {
            return List.of();
        }
        boolean written = redisRetry.run(() -> {
            RedisBatchWriter.Attempt attempt = redis.attempt(writes, trailer);
            hooks.attempted(attempt);
            return attempt.failure();
        });
        if (!written) {
            return null;
        }
        return written(writes);
    }

    /** Every write has a definite reply: tells the driver, and returns those to announce. */
    private List<PendingWrite> written(List<PendingWrite> writes) {
        hooks.written(writes);
        List<PendingWrite> announce = new ArrayList<>();
        for (PendingWrite w : writes) {
            if (w.changed() && hooks.announces(w)) {
                announce.add(w);
            }
        }
        return announce;
    }

    /**
     * Sends {@code writes} to Redis without waiting for the replies: {@link #finishWrite} collects them (and retries
     * what failed). Between the two the driver may read and decode its next batch; a later batch's writes may be sent
     * before an earlier one's retries, which the version gate makes harmless (an older version never replaces a newer).
     */
    public RedisBatchWriter.Sent startWrite(List<PendingWrite> writes) {
        return writes.isEmpty() ? null : redis.begin(writes, BatchTrailer.none());
    }

    /**
     * Collects the replies of {@link #startWrite} and, if some failed, retries them as {@link #write} does.
     *
     * @return the writes to {@link #announce}, or null if the driver stopped first
     */
    public List<PendingWrite> finishWrite(List<PendingWrite> writes, RedisBatchWriter.Sent sent) {
        if (sent == null) {
            return List.of();
        }
        RedisBatchWriter.Attempt first = redis.end(sent);
        hooks.attempted(first);
        if (first.failure() != null) {
            boolean written = redisRetry.run(() -> {
                RedisBatchWriter.Attempt attempt = redis.attempt(writes, BatchTrailer.none());
                hooks.attempted(attempt);
                return attempt.failure();
            });
            if (!written) {
                return null;
            }
        }
        return written(writes);
    }

    /**
     * Starts announcing {@code written} (from {@link #write}) without waiting for Kafka: the driver {@link
     * Announcer.Announcement#finish() finishes} it before it commits the batch or announces another, and meanwhile may
     * read and write its next batch. Null if the driver stopped first.
     */
    public Announcer.Announcement announce(List<PendingWrite> written) {
        return announcer.begin(written);
    }
}
