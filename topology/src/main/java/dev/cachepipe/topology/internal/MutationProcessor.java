package dev.cachepipe.topology.internal;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.topology.DeadLetterReason;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.topology.TopologyConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates each event, applies its entity type's policy and emits the mutation keyed by Redis key, unless the
 * versions store already holds a higher version for that key (stale events are dropped, equal versions are
 * re-emitted so at-least-once reprocessing after a crash loses nothing).
 *
 * <p>Each stored version carries the stream time at which it was last raised (the highest record timestamp this
 * task had seen then). Once a second of wall-clock time, a punctuation walks the next {@value #PRUNE_BATCH} entries
 * of the store (resuming where the last one stopped, wrapping at the end) and forgets those raised more than {@link
 * TopologyConfig#versionRetention()} of stream time ago. Stream time, not wall-clock time: while the pipeline is down
 * or catching up, the retention does not run out, and versions restored from the changelog keep their times. Record
 * timestamps arrive clamped to the clock plus {@link TopologyConfig#maxFutureSkew()} ({@link ClampedTimestamps}), so
 * one far-future timestamp cannot make the next pass forget every version of the task.
 *
 * <p>An update dead-lettered because its payload is too large still supersedes what came before it: the processor
 * records its version and emits a FENCE at that version (readers miss and load) before the exception handler
 * dead-letters the event, so the previous value is not served as current.
 */
public final class MutationProcessor implements Processor<byte[], DomainEvent, String, CacheMutation> {
    private static final Logger log = LoggerFactory.getLogger(MutationProcessor.class);

    /** How often the store is pruned. */
    static final Duration PRUNE_INTERVAL = Duration.ofSeconds(1);

    /** Entries examined per pruning pass, so that a pass never holds up the stream thread for long. */
    static final int PRUNE_BATCH = 5_000;

    private final TopologyConfig config;
    private final EventValidator validator;
    private final String storeName;
    private final EventMetrics metrics;
    private ProcessorContext<String, CacheMutation> context;
    private TimestampedKeyValueStore<String, Long> versions;
    private String pruneFrom; // the next pass starts at this key; null: at the beginning
    private long streamTime = -1; // the highest record timestamp this task has seen since it started

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
        context.schedule(PRUNE_INTERVAL, PunctuationType.WALL_CLOCK_TIME, wallClock -> {
            if (streamTime >= 0) {
                prune(streamTime);
            }
        });
    }

    @Override
    public void process(Record<byte[], DomainEvent> record) {
        streamTime = Math.max(streamTime, record.timestamp()); // clamped by ClampedTimestamps
        String topic = context.recordMetadata().map(RecordMetadata::topic).orElse(null);
        DomainEvent event = record.value();
        EntityPolicy policy;
        try {
            policy = validator.validate(topic, record.key(), event); // throws InvalidEventException -> DLQ
        } catch (InvalidEventException e) {
            if (e.reason() == DeadLetterReason.PAYLOAD_TOO_LARGE) {
                fence(record, event, e.reason()); // everything but the payload's size is valid
            }
            throw e;
        }
        String key = RedisLayout.key(config.keyPrefix(), event.getEntityType(), event.getEntityId());
        Optional<CacheMutation> mutation = PolicyMapper.toMutation(key, event, policy);
        if (mutation.isEmpty()) {
            metrics.ignored(event.getEntityType());
            return; // expire-only
        }
        if (!raise(key, event.getVersion())) {
            metrics.stale(event.getEntityType());
            return;
        }
        emit(record, key, mutation.get());
        metrics.mutated(event.getEntityType());
    }

    /**
     * Records {@code version} as the highest emitted for {@code key} unless a higher one was emitted already; false if
     * so (the event is stale).
     */
    private boolean raise(String key, long version) {
        ValueAndTimestamp<Long> entry = versions.get(key);
        Long stored = entry == null ? null : entry.value();
        if (stored != null && version < stored) {
            log.debug("Dropping stale event for {}: version {} < emitted version {}", key, version, stored);
            return false;
        }
        if (stored == null || version > stored) {
            versions.put(key, ValueAndTimestamp.make(version, streamTime));
        }
        return true;
    }

    private void emit(Record<byte[], DomainEvent> record, String key, CacheMutation mutation) {
        // The source's headers are the producer's business; the mutation carries what the writer needs.
        context.forward(record.withKey(key).withValue(mutation).withHeaders(new RecordHeaders()));
    }

    /**
     * Emits a FENCE at the version of an event that is about to be dead-lettered, unless it is stale or its type is
     * expire-only: the newer state is unknown here, so the cache must not keep serving the older one.
     */
    private void fence(Record<byte[], DomainEvent> record, DomainEvent event, DeadLetterReason reason) {
        EntityPolicy policy = config.entities().get(event.getEntityType());
        String key = RedisLayout.key(config.keyPrefix(), event.getEntityType(), event.getEntityId());
        Optional<CacheMutation> fence = PolicyMapper.toFence(key, event, policy);
        if (fence.isEmpty() || !raise(key, event.getVersion())) {
            return;
        }
        emit(record, key, fence.get());
        metrics.fenced(reason.code());
        log.warn(
                "Fencing {} {} at version {}: its update is dead-lettered ({}), so readers miss and load until a newer"
                        + " event arrives",
                event.getEntityType(),
                EventValidator.quote(event.getEntityId()),
                event.getVersion(),
                reason.code());
    }

    /**
     * Forgets, among the next {@value #PRUNE_BATCH} entries, the versions last raised more than the retention before
     * {@code now} (stream time).
     */
    void prune(long now) {
        long cutoff = now - config.versionRetention().toMillis();
        List<String> expired = new ArrayList<>();
        List<KeyValue<String, Long>> unstamped = new ArrayList<>();
        int examined = 0;
        String next = null;
        try (KeyValueIterator<String, ValueAndTimestamp<Long>> it = versions.range(pruneFrom, null)) {
            while (it.hasNext()) {
                KeyValue<String, ValueAndTimestamp<Long>> kv = it.next();
                if (examined == PRUNE_BATCH) {
                    next = kv.key;
                    break;
                }
                examined++;
                if (kv.value == null) {
                    expired.add(kv.key);
                } else if (kv.value.timestamp() < 0) {
                    // no time yet: a version from the plain store of an earlier release; its retention starts now
                    unstamped.add(KeyValue.pair(kv.key, kv.value.value()));
                } else if (kv.value.timestamp() < cutoff) {
                    expired.add(kv.key);
                }
            }
        }
        pruneFrom = next; // null after the last key: the next pass starts over
        for (String key : expired) {
            versions.delete(key);
        }
        for (KeyValue<String, Long> kv : unstamped) {
            versions.put(kv.key, ValueAndTimestamp.make(kv.value, now));
        }
        if (!expired.isEmpty()) {
            metrics.versionsForgotten(expired.size());
            log.debug("Forgot the versions of {} keys not raised for {}", expired.size(), config.versionRetention());
        }
    }
}
