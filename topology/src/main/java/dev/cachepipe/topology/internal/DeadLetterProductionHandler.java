package dev.cachepipe.topology.internal;

import dev.cachepipe.topology.DeadLetterReason;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.streams.errors.DefaultProductionExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.internals.ExceptionHandlerUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mutation that Kafka refuses as too large would fail the task on every retry of the same record, so it goes to
 * the dead-letter topic instead — as the raw source event, with reason {@code mutation-too-large}. Every other
 * production error keeps Kafka's default behaviour (retriable errors retry, the rest fail the task: an outage
 * stalls, it does not lose).
 */
public class DeadLetterProductionHandler extends DefaultProductionExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterProductionHandler.class);

    private String deadLetterTopic;
    private EventMetrics metrics = EventMetrics.NOOP;

    @Override
    public void configure(java.util.Map<String, ?> configs) {
        super.configure(configs);
        metrics = EventMetrics.from(configs);
        Object topic = configs.get(org.apache.kafka.streams.StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        deadLetterTopic = topic == null ? null : topic.toString();
    }

    @Override
    public Response handleError(
            ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (!(exception instanceof RecordTooLargeException) || deadLetterTopic == null) {
            return super.handleError(context, record, exception);
        }
        log.warn(
                "Mutation for source record {}-{}@{} is too large for Kafka ({} bytes); dead-lettering the event",
                context.topic(),
                context.partition(),
                context.offset(),
                record.value() == null ? 0 : record.value().length);
        // counted as a dead letter by reason; its event was counted 'mutated' already when the policy emitted it
        metrics.deadLetteredAfterEmit(DeadLetterReason.MUTATION_TOO_LARGE.code());
        var dlq = ExceptionHandlerUtils.maybeBuildDeadLetterQueueRecords(
                deadLetterTopic, context.sourceRawKey(), context.sourceRawValue(), context, exception);
        return Response.resume(DeadLetterHeaders.annotate(
                dlq,
                DeadLetterReason.MUTATION_TOO_LARGE.code(),
                "the mutation was refused by Kafka: " + exception.getMessage()
                        + "; lower maxPayloadBytes or raise max.request.size and the mutations topic's"
                        + " max.message.bytes"));
    }
}
