package dev.cachepipe.topology.internal;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;

/**
 * Kafka's {@link LogAndContinueExceptionHandler} (logs at WARN, builds the dead-letter record from the raw source
 * record when {@code errors.dead.letter.queue.topic.name} is set, resumes), plus the reason headers {@code
 * cachepipe.dlq.reason = undecodable} and {@code cachepipe.dlq.detail}.
 */
public class DeadLetterDeserializationHandler extends LogAndContinueExceptionHandler {
    @Override
    public Response handleError(
            ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        Response response = super.handleError(context, record, exception);
        DeadLetterHeaders.annotate(
                response.deadLetterQueueRecords(), DeadLetterReason.UNDECODABLE.code(), exception.getMessage());
        return response;
    }
}
