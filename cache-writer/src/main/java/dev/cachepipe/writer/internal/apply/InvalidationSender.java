package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.support.AccessDenied;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * Publishes a list of invalidations once and says which ones Kafka did not acknowledge, for the {@link Announcer} to
 * retry. An invalidation too large for Kafka comes back without its payload: L1 then evicts instead of updating in
 * place.
 */
final class InvalidationSender implements AutoCloseable {
    private final AvroSerde<CacheInvalidation> serde = AvroSerde.of(CacheInvalidation.class);
    private final KafkaProducer<String, byte[]> producer;
    private final String topic;

    /** What one round left to do: the invalidations to send again, and the first error, or none. */
    record Outcome(List<CacheInvalidation> failed, String failure) {
        boolean done() {
            return failed.isEmpty();
        }
    }

    private final java.util.function.IntConsumer acknowledged;

    /**
     * Sends to {@code topic} with {@code producer}, which it owns (and closes); {@code acknowledged} is told of each
     * invalidation Kafka acknowledged as the acknowledgement arrives (on the producer's I/O thread).
     */
    InvalidationSender(
            KafkaProducer<String, byte[]> producer, String topic, java.util.function.IntConsumer acknowledged) {
        this.producer = producer;
        this.topic = topic;
        this.acknowledged = acknowledged;
    }

    String topic() {
        return topic;
    }

    /** Closes the producer (waits up to 5 s for what it still sends). */
    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(5));
    }

    /**
     * Sends every invalidation, flushes, and returns those that were not acknowledged.
     *
     * @throws AccessDenied if Kafka refused cachepipe's principal (no retry helps)
     */
    Outcome sendAll(List<CacheInvalidation> pending) {
        return await(send(pending));
    }

    /** Invalidations handed to the producer, not yet known to be acknowledged. */
    record Sent(List<CacheInvalidation> invalidations, List<Future<RecordMetadata>> futures) {}

    /** Hands every invalidation to the producer (sent after its linger) without waiting for Kafka. */
    Sent send(List<CacheInvalidation> pending) {
        List<Future<RecordMetadata>> futures = new ArrayList<>(pending.size());
        for (CacheInvalidation inv : pending) {
            futures.add(send(inv));
        }
        return new Sent(pending, futures);
    }

    /**
     * Flushes and returns those of {@code sent} that were not acknowledged.
     *
     * @throws AccessDenied if Kafka refused cachepipe's principal (no retry helps)
     */
    Outcome await(Sent sent) {
        List<CacheInvalidation> pending = sent.invalidations();
        List<Future<RecordMetadata>> futures = sent.futures();
        if (!futures.stream().allMatch(Future::isDone)) {
            producer.flush();
        }
        List<CacheInvalidation> failed = new ArrayList<>();
        String failure = null;
        for (int i = 0; i < pending.size(); i++) {
            Throwable error = errorOf(futures.get(i));
            if (error == null) {
                continue;
            }
            AccessDenied.check("Kafka refused to publish invalidations to topic " + topic, error);
            CacheInvalidation inv = pending.get(i);
            if (error instanceof RecordTooLargeException && inv.getPayload() != null) {
                inv = CacheInvalidation.newBuilder(inv)
                        .setPayload(null)
                        .setContentType(null)
                        .build();
            }
            failed.add(inv);
            failure = failure == null ? Redact.describe(error) : failure;
        }
        return new Outcome(failed, failure);
    }

    private Future<RecordMetadata> send(CacheInvalidation inv) {
        try {
            return producer.send(new ProducerRecord<>(topic, inv.getKey(), serde.encode(inv)), (metadata, error) -> {
                if (error == null) {
                    acknowledged.accept(1);
                }
            });
        } catch (InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            // e.g. no metadata for the topic within max.block.ms
            CompletableFuture<RecordMetadata> f = new CompletableFuture<>();
            f.completeExceptionally(e);
            return f;
        }
    }

    private static Throwable errorOf(Future<RecordMetadata> f) {
        if (!f.isDone()) {
            return new TimeoutException("not acknowledged after flush()");
        }
        try {
            f.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause() != null ? e.getCause() : e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        }
    }
}
