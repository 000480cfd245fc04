package dev.cachepipe.topology.internal;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.topology.DeadLetterReason;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.topology.TopologyConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;
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
 *
 * <p>The topology recorded the refused update's version as emitted already, so the key is fenced at that version
 * instead (a small FENCE mutation on the mutations topic, sent with the dead letter): readers miss and load rather
 * than being served the value before it.
 */
public class DeadLetterProductionHandler extends DefaultProductionExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterProductionHandler.class);

    private String deadLetterTopic;
    private static final AvroSerde<CacheMutation> MUTATIONS = AvroSerde.of(CacheMutation.class);

    /** Streams property whose value is the {@link TopologyConfig}, for the fences' TTLs. */
    public static final String TOPOLOGY_CONFIG_KEY = "cachepipe.topology.config";

    private EventMetrics metrics = EventMetrics.NOOP;
    private TopologyConfig topology;

    @Override
    public void configure(java.util.Map<String, ?> configs) {
        super.configure(configs);
        metrics = EventMetrics.from(configs);
        Object topic = configs.get(org.apache.kafka.streams.StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        deadLetterTopic = topic == null ? null : topic.toString();
        topology = configs.get(TOPOLOGY_CONFIG_KEY) instanceof TopologyConfig c ? c : null;
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
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(DeadLetterHeaders.annotate(
                dlq,
                DeadLetterReason.MUTATION_TOO_LARGE.code(),
                "the mutation was refused by Kafka: " + exception.getMessage()
                        + "; lower maxPayloadBytes or raise max.request.size and the mutations topic's"
                        + " max.message.bytes"));
        fence(record).ifPresent(out::add);
        return Response.resume(out);
    }

    /** A FENCE at the refused upsert's version, for the same key and partition, if it was a mutation. */
    private Optional<ProducerRecord<byte[], byte[]>> fence(ProducerRecord<byte[], byte[]> refused) {
        if (topology == null
                || refused.value() == null
                || !topology.mutationsTopic().equals(refused.topic())) {
            return Optional.empty();
        }
        CacheMutation mutation;
        try {
            mutation = MUTATIONS.decode(refused.value());
        } catch (RuntimeException e) {
            log.warn("Could not read the refused mutation back, so its key is not fenced: {}", e.toString());
            return Optional.empty();
        }
        EntityPolicy policy = topology.entities().get(mutation.getEntityType().toString());
        if (policy == null || mutation.getOp() != MutationOp.UPSERT) {
            return Optional.empty(); // only an upsert carries a payload that can be too large
        }
        CacheMutation fence = PolicyMapper.fence(CacheMutation.newBuilder(mutation), policy);
        metrics.fenced(DeadLetterReason.MUTATION_TOO_LARGE.code());
        log.warn(
                "Fencing {} {} at version {}: its update is dead-lettered (mutation-too-large), so readers miss and"
                        + " load until a newer event arrives",
                mutation.getEntityType(),
                EventValidator.quote(mutation.getEntityId().toString()),
                mutation.getVersion());
        return Optional.of(new ProducerRecord<>(
                refused.topic(),
                refused.partition(),
                refused.timestamp(),
                refused.key(),
                MUTATIONS.encode(fence),
                new RecordHeaders()));
    }
}
