package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.InvalidationOp;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.schemas.Redact;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.LoggerFactory;

/**
 * The one place where writes that changed Redis become invalidations: builds a {@link CacheInvalidation} per write
 * and publishes them until Kafka acknowledged every one (or the driver stops), through the driver's Kafka
 * {@link RetryLoop}.
 */
public final class Announcer implements AutoCloseable {
    private final Supplier<InvalidationSender> senderFactory;
    private final RetryLoop retry;
    private InvalidationSender sender;

    /**
     * @param producerFactory called once, when the first invalidation is due (a rebuild may need none)
     * @param published told of each invalidation Kafka acknowledged, as its acknowledgement arrives (producer thread)
     */
    public Announcer(
            Supplier<KafkaProducer<String, byte[]>> producerFactory,
            String topic,
            RetryLoop retry,
            IntConsumer published) {
        this.senderFactory = () -> new InvalidationSender(producerFactory.get(), topic, published);
        this.retry = retry;
    }

    /** Creates the producer now (the live writer fails at construction rather than at its first write). */
    public Announcer open() {
        sender();
        return this;
    }

    /** Publishes one invalidation per write; false if the driver stopped before Kafka acknowledged them all. */
    public boolean announce(List<PendingWrite> writes) {
        Announcement a = begin(writes);
        return a != null && a.finish();
    }

    /**
     * Hands one invalidation per write to the producer without waiting for Kafka: the caller goes on (e.g. writes its
     * next batch to Redis) and {@link Announcement#finish() finishes} this announcement before it commits, or announces
     * anything else. Null if the driver must stop already (nothing is sent then).
     */
    public Announcement begin(List<PendingWrite> writes) {
        if (writes.isEmpty()) {
            return Announcement.NONE;
        }
        if (retry.stopped()) {
            return null;
        }
        List<CacheInvalidation> invalidations = new ArrayList<>(writes.size());
        for (PendingWrite w : writes) {
            invalidations.add(invalidation(w));
        }
        InvalidationSender s = sender();
        return new Announcement(this, s, s.send(invalidations));
    }

    /** Invalidations on their way to Kafka: {@link #finish()} waits until Kafka acknowledged all of them. */
    public static final class Announcement {
        /** Nothing to announce. */
        static final Announcement NONE = new Announcement(null, null, null);

        private final Announcer owner;
        private final InvalidationSender sender;
        private InvalidationSender.Sent sent;

        private Announcement(Announcer owner, InvalidationSender sender, InvalidationSender.Sent sent) {
            this.owner = owner;
            this.sender = sender;
            this.sent = sent;
        }

        /**
         * Waits until Kafka acknowledged every invalidation, sending the refused ones again through the driver's
         * retry loop; false if the driver stopped first.
         */
        public boolean finish() {
            if (sent == null) {
                return true;
            }
            InvalidationSender.Sent first = sent;
            sent = null;
            Unacknowledged left = new Unacknowledged();
            left.first = first;
            return owner.retry.run(() -> {
                InvalidationSender.Outcome outcome;
                if (left.first != null) {
                    outcome = sender.await(left.first);
                    left.first = null;
                } else {
                    outcome = sender.sendAll(left.invalidations);
                }
                left.invalidations = outcome.failed();
                return outcome.done()
                        ? null
                        : outcome.failed().size() + " invalidation(s) not published to " + sender.topic() + ": "
                                + outcome.failure();
            });
        }

        /**
         * Waits once (a flush) without retrying, for a rebalance callback or a shutdown that cannot wait in the retry
         * loop; true if Kafka acknowledged every invalidation.
         */
        public boolean finishOnce() {
            if (sent == null) {
                return true;
            }
            InvalidationSender.Sent first = sent;
            sent = null;
            return sender.await(first).done();
        }
    }

    /** What Kafka has not acknowledged yet, sent again by the next round. */
    private static final class Unacknowledged {
        InvalidationSender.Sent first;
        List<CacheInvalidation> invalidations = new ArrayList<>();
    }

    /** The invalidation announcing {@code w}, which Redis acknowledged at {@code w.ackAtMillis()}. */
    static CacheInvalidation invalidation(PendingWrite w) {
        CacheMutation m = w.mutation();
        boolean inline = m.getInlineInvalidation() && m.getOp() == MutationOp.UPSERT && m.getPayload() != null;
        return CacheInvalidation.newBuilder()
                .setKey(m.getKey())
                .setEntityType(m.getEntityType())
                .setEntityId(m.getEntityId())
                .setVersion(m.getVersion())
                .setOp(op(m.getOp()))
                .setOccurredAt(m.getOccurredAt())
                .setWrittenAt(Instant.ofEpochMilli(w.ackAtMillis()))
                .setContentType(inline ? m.getContentType() : null)
                .setPayload(inline ? m.getPayload().duplicate() : (ByteBuffer) null)
                .build();
    }

    private static InvalidationOp op(MutationOp op) {
        return switch (op) {
            case UPSERT -> InvalidationOp.UPSERT;
            case TOMBSTONE -> InvalidationOp.DELETE;
            case FENCE -> InvalidationOp.INVALIDATE;
        };
    }

    private InvalidationSender sender() {
        if (sender == null) {
            sender = senderFactory.get();
        }
        return sender;
    }

    /** Closes the producer, if one was created (waits up to 5 s for what it still sends); never throws. */
    @Override
    public void close() {
        if (sender == null) {
            return;
        }
        try {
            sender.close();
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(Announcer.class).warn("Closing the producer failed: {}", Redact.describe(e));
        }
    }
}
