package dev.cachepipe.topology.internal;

import dev.cachepipe.schemas.IncompatibleSchemaException;
import dev.cachepipe.schemas.SchemaRegistryUnavailableException;
import dev.cachepipe.schemas.UnknownSchemaException;
import dev.cachepipe.topology.DeadLetterReason;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's {@link LogAndContinueExceptionHandler} (logs at WARN, builds the dead-letter record from the raw source
 * record when {@code errors.dead.letter.queue.topic.name} is set, resumes), plus the reason headers {@code
 * cachepipe.dlq.reason} ({@code undecodable}, {@code unknown-schema} or {@code incompatible-schema}, by the exception)
 * and {@code cachepipe.dlq.detail}; counted in the {@link EventMetrics} passed in the Streams properties, if any.
 *
 * <p>A schema registry that did not answer is not the record's fault: the handler fails instead of dead-lettering, so
 * the stream thread stops without committing past the record, and its replacement reads it again.
 */
public class DeadLetterDeserializationHandler extends LogAndContinueExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

    private EventMetrics metrics = EventMetrics.NOOP;

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs);
        metrics = EventMetrics.from(configs);
    }

    @Override
    public Response handleError(
            ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        if (SchemaRegistryUnavailableException.isCauseOf(exception)) {
            log.warn(
                    "No writer schema for the record at {}-{}@{}: {}; the stream thread stops without committing it and"
                            + " is replaced, so the record is read again (not dead-lettered)",
                    context.topic(),
                    context.partition(),
                    context.offset(),
                    exception.getMessage());
            return Response.fail();
        }
        Response response = super.handleError(context, record, exception);
        String reason = reasonOf(exception).code();
        DeadLetterHeaders.annotate(response.deadLetterQueueRecords(), reason, exception.getMessage());
        metrics.deadLettered(null, reason);
        return response;
    }

    /** The dead-letter reason of a deserialization failure. */
    static DeadLetterReason reasonOf(Throwable exception) {
        for (Throwable c = exception; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof UnknownSchemaException) {
                return DeadLetterReason.UNKNOWN_SCHEMA;
            }
            if (c instanceof IncompatibleSchemaException) {
                return DeadLetterReason.INCOMPATIBLE_SCHEMA;
            }
        }
        return DeadLetterReason.UNDECODABLE;
    }
}
