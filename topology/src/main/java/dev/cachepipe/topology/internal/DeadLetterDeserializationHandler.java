package dev.cachepipe.topology.internal;

import dev.cachepipe.topology.DeadLetterReason;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;

/**
 * Kafka's {@link LogAndContinueExceptionHandler} (logs at WARN, builds the dead-letter record from the raw source
 * record when {@code errors.dead.letter.queue.topic.name} is set, resumes), plus the reason headers {@code
 * cachepipe.dlq.reason = undecodable} and {@code cachepipe.dlq.detail}; counted in the {@link EventMetrics} passed
 * in the Streams properties, if any.
 */
public class DeadLetterDeserializationHandler extends LogAndContinueExceptionHandler {
    private EventMetrics metrics = EventMetrics.NOOP;

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs);
        metrics = EventMetrics.from(configs);
    }

    @Override
    public Response handleError(
            ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        Response response = super.handleError(context, record, exception);
        DeadLetterHeaders.annotate(
                response.deadLetterQueueRecords(), DeadLetterReason.UNDECODABLE.code(), exception.getMessage());
        metrics.deadLettered(null, DeadLetterReason.UNDECODABLE.code());
        return response;
    }
}
