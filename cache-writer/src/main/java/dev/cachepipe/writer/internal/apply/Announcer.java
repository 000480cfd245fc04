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
    private final IntConsumer published;
    private InvalidationSender sender;

    /**
     * @param producerFactory called once, when the first invalidation is due (a rebuild may need none)
     * @param published told how many invalidations Kafka acknowledged, after every round
     */
    public Announcer(
            Supplier<KafkaProducer<String, byte[]>> producerFactory,
            String topic,
            RetryLoop retry,
            IntConsumer published) {
        this.senderFactory = () -> new InvalidationSender(producerFactory.get(), topic);
        this.retry = retry;
        this.published = published;
    }

    /** Creates the producer now (the live writer fails at construction rather than at its first write). */
    public Announcer open() {
        sender();
        return this;
    }

    /** Publishes one invalidation per write; false if the driver stopped before Kafka acknowledged them all. */
    public boolean announce(List<PendingWrite> writes) {
        if (writes.isEmpty()) {
            return true;
        }
        Unacknowledged left = new Unacknowledged();
        for (PendingWrite w : writes) {
            left.invalidations.add(invalidation(w));
        }
        InvalidationSender s = sender();
        return retry.run(() -> {
            InvalidationSender.Outcome outcome = s.sendAll(left.invalidations);
            published.accept(left.invalidations.size() - outcome.failed().size());
            left.invalidations = outcome.failed();
            return outcome.done()
                    ? null
                    : outcome.failed().size() + " invalidation(s) not published to " + s.topic() + ": "
                            + outcome.failure();
        });
    }

    /** What Kafka has not acknowledged yet, sent again by the next round. */
    private static final class Unacknowledged {
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
