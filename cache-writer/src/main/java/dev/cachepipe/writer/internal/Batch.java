package dev.cachepipe.writer.internal;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.UnknownSchemaException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The records of one poll: decoded, validated and coalesced to the highest version per Redis key, plus the offsets
 * to commit once every write is acknowledged (past the skipped records too).
 */
final class Batch {
    private static final Logger log = LoggerFactory.getLogger(Batch.class);

    private final List<PendingWrite> writes;
    private final Map<TopicPartition, OffsetAndMetadata> offsets;
    private final int records;
    private final int skipped;
    private final Map<TopicPartition, Long> blocked;

    private Batch(
            List<PendingWrite> writes,
            Map<TopicPartition, OffsetAndMetadata> offsets,
            int records,
            int skipped,
            Map<TopicPartition, Long> blocked) {
        this.writes = writes;
        this.offsets = offsets;
        this.records = records;
        this.skipped = skipped;
        this.blocked = blocked;
    }

    /**
     * Decodes {@code records} (in poll order). A record that does not decode or cannot be applied is logged once at
     * WARN with its topic, partition and offset and skipped: the topology never produces one.
     */
    static Batch of(Iterable<ConsumerRecord<String, byte[]>> records, AvroSerde<CacheMutation> serde) {
        return of(records, serde, Map.of());
    }

    /**
     * As {@link #of(Iterable, AvroSerde)}; a write whose record lies before {@code inheritedUntil} of its partition
     * may already have been applied by a previous owner that died before announcing it, so its outcome starts as
     * unknown: a "same version stored" reply then counts as a change and is announced (at least once).
     */
    static Batch of(
            Iterable<ConsumerRecord<String, byte[]>> records,
            AvroSerde<CacheMutation> serde,
            Map<TopicPartition, Long> inheritedUntil) {
        Map<String, PendingWrite> byKey = new LinkedHashMap<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, Long> blocked = new HashMap<>();
        int count = 0;
        int skipped = 0;
        for (ConsumerRecord<String, byte[]> r : records) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (blocked.containsKey(tp)) {
                continue; // read again after the block is lifted
            }
            count++;
            CacheMutation m;
            try {
                m = decode(r, serde);
            } catch (UnknownSchemaException e) {
                // Written by a newer topology: skipping it would lose the change. Stop this partition here.
                count--;
                blocked.put(tp, r.offset());
                continue;
            } catch (SerializationException | IllegalArgumentException e) {
                offsets.put(tp, new OffsetAndMetadata(r.offset() + 1));
                skipped++;
                log.warn(
                        "Skipping mutation record at {}-{}@{}: {}",
                        r.topic(),
                        r.partition(),
                        r.offset(),
                        e.getMessage());
                continue;
            }
            offsets.put(tp, new OffsetAndMetadata(r.offset() + 1));
            PendingWrite current = byKey.get(m.getKey());
            if (current == null || m.getVersion() > current.version()) {
                PendingWrite w = new PendingWrite(m);
                if (r.offset() < inheritedUntil.getOrDefault(tp, -1L)) {
                    w.outcomeUnknown();
                }
                byKey.put(m.getKey(), w);
            }
        }
        return new Batch(new ArrayList<>(byKey.values()), offsets, count, skipped, blocked);
    }

    static CacheMutation decode(ConsumerRecord<String, byte[]> r, AvroSerde<CacheMutation> serde) {
        if (r.value() == null) {
            throw new IllegalArgumentException("null value (not a mutation)");
        }
        CacheMutation m = serde.decode(r.value());
        if (m.getKey() == null || m.getKey().isEmpty()) {
            throw new IllegalArgumentException("empty key");
        }
        if (m.getVersion() < 0) {
            throw new IllegalArgumentException("version must be >= 0 but was " + m.getVersion());
        }
        if (m.getTtlMillis() <= 0) {
            throw new IllegalArgumentException("ttlMillis must be > 0 but was " + m.getTtlMillis());
        }
        if (m.getOp() == dev.cachepipe.avro.MutationOp.UPSERT && m.getPayload() == null) {
            throw new IllegalArgumentException("UPSERT without payload for key " + m.getKey());
        }
        return m;
    }

    /** Coalesced writes, in order of each key's first appearance. */
    List<PendingWrite> writes() {
        return Collections.unmodifiableList(writes);
    }

    /** Next offset to read per partition polled. */
    Map<TopicPartition, OffsetAndMetadata> offsets() {
        return Collections.unmodifiableMap(offsets);
    }

    /**
     * Partitions stopped at a record written with an unknown schema, and that record's offset: the consumer must
     * read them again from there, once this writer understands the schema (after an upgrade).
     */
    Map<TopicPartition, Long> blocked() {
        return Collections.unmodifiableMap(blocked);
    }

    /** Records polled (those of blocked partitions from the blocking record on excluded). */
    int records() {
        return records;
    }

    /** Records skipped because they did not decode or could not be applied. */
    int skipped() {
        return skipped;
    }

    /** Records dropped because a higher version of the same key was in the batch. */
    int coalesced() {
        return records - skipped - writes.size();
    }
}
