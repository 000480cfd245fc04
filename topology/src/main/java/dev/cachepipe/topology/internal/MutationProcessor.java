package dev.cachepipe.topology.internal;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.topology.TopologyConfig;
import java.util.Optional;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates each event, applies its entity type's policy and emits the mutation keyed by Redis key, unless the
 * versions store already holds a higher version for that key (stale events are dropped, equal versions are
 * re-emitted so at-least-once reprocessing after a crash loses nothing).
 */
public final class MutationProcessor implements Processor<byte[], DomainEvent, String, CacheMutation> {
    private static final Logger log = LoggerFactory.getLogger(MutationProcessor.class);

    private final TopologyConfig config;
    private final EventValidator validator;
    private final String storeName;
    private final EventMetrics metrics;
    private ProcessorContext<String, CacheMutation> context;
    private KeyValueStore<String, Long> versions;

    public MutationProcessor(TopologyConfig config, String storeName) {
        this(config, storeName, EventMetrics.NOOP);
    }

    public MutationProcessor(TopologyConfig config, String storeName, EventMetrics metrics) {
        this.config = config;
        this.validator = new EventValidator(config);
        this.storeName = storeName;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, CacheMutation> context) {
        this.context = context;
        this.versions = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<byte[], DomainEvent> record) {
        String topic = context.recordMetadata().map(RecordMetadata::topic).orElse(null);
        DomainEvent event = record.value();
        EntityPolicy policy = validator.validate(topic, record.key(), event); // throws InvalidEventException -> DLQ
        String key = RedisLayout.key(config.keyPrefix(), event.getEntityType(), event.getEntityId());
        Optional<CacheMutation> mutation = PolicyMapper.toMutation(key, event, policy);
        if (mutation.isEmpty()) {
            metrics.ignored(event.getEntityType());
            return; // expire-only
        }
        long version = event.getVersion();
        Long stored = versions.get(key);
        if (stored != null && version < stored) {
            log.debug("Dropping stale event for {}: version {} < emitted version {}", key, version, stored);
            metrics.stale(event.getEntityType());
            return;
        }
        if (stored == null || version > stored) {
            versions.put(key, version);
        }
        // The source's headers are the producer's business; the mutation carries what the writer needs.
        context.forward(record.withKey(key).withValue(mutation.get()).withHeaders(new RecordHeaders()));
        metrics.mutated(event.getEntityType());
    }
}
