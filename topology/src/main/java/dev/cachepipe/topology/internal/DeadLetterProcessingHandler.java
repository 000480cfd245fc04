package dev.cachepipe.topology.internal;

import java.util.Map;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For an {@link InvalidEventException}: Kafka's {@link LogAndContinueProcessingExceptionHandler} (logs at WARN,
 * builds the dead-letter record from the raw source record, resumes) plus the reason headers {@code
 * cachepipe.dlq.reason} and {@code cachepipe.dlq.detail}.
 *
 * <p>Any other exception is not bad input but a bug or an outage (e.g. the state store failed): the task fails
 * rather than silently dropping a valid event, so the cache never misses a change (outages stall, they do not
 * lose).
 */
public class DeadLetterProcessingHandler extends LogAndContinueProcessingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterProcessingHandler.class);

    private EventMetrics metrics = EventMetrics.NOOP;

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs);
        metrics = EventMetrics.from(configs);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (exception instanceof InvalidEventException invalid) {
            Response response = super.handleError(context, record, exception);
            DeadLetterHeaders.annotate(
                    response.deadLetterQueueRecords(), invalid.reason().code(), invalid.detail());
            metrics.deadLettered(
                    record == null ? null : record.value(), invalid.reason().code());
            return response;
        }
        log.error(
                "Unexpected error processing a valid record, failing the task: processor {}, task {}, topic {},"
                        + " partition {}, offset {}",
                context.processorNodeId(),
                context.taskId(),
                context.topic(),
                context.partition(),
                context.offset(),
                exception);
        return Response.fail();
    }
}
