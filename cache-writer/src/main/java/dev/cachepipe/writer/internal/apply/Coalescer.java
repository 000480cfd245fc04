package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.UnknownSchemaException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The one decode-and-coalesce rule of both drivers: decode and validate each mutation record, and keep per Redis key
 * the write with the highest version. <b>Among equal versions the first record in offset order is kept</b>, exactly
 * what applying the records one by one would leave in Redis (a later equal version is a no-op there).
 *
 * <p>A driver says through its {@link Rules} which records take part, which are wanted, how a mutation is adjusted
 * before it is written and which records may have been applied by someone else already. A record that does not
 * decode or cannot be applied is skipped (the topology never produces one); a record written with a schema this
 * writer does not know stops its partition there, for the driver to decide (the live writer waits for an upgrade,
 * a rebuild fails): skipping it would lose a change.
 */
public final class Coalescer {
    /** What a driver decides about the records of a batch. Every method has the answer "take it as it is". */
    public interface Rules {
        /** Whether the record takes part at all; one outside is left alone and not counted (e.g. past a replay's end). */
        default boolean inScope(ConsumerRecord<String, byte[]> record) {
            return true;
        }

        /** Whether a record with this Kafka key is wanted; unwanted ones are counted as filtered before decoding. */
        default boolean wantedKey(String recordKey) {
            return true;
        }

        /** Whether a decoded mutation is wanted; unwanted ones are counted as filtered. */
        default boolean wanted(CacheMutation mutation) {
            return true;
        }

        /**
         * Whether a newer record of the same key is known to follow (a rebuild that indexed its range first): the
         * batch's write of that key is then dropped, as Redis would refuse it once the newer one is written.
         */
        default boolean superseded(CacheMutation mutation) {
            return false;
        }

        /** The mutation as it is to be written (e.g. with the TTL it has left). */
        default CacheMutation adjust(CacheMutation mutation) {
            return mutation;
        }

        /**
         * Whether the record may already be in Redis by someone else's hand without having been announced (a previous
         * owner that died in between): then "same version stored" counts as a change and is announced.
         */
        default boolean maybeApplied(TopicPartition partition, long offset) {
            return false;
        }
    }

    /** A record that was skipped, and why. */
    public record Skip(TopicPartition partition, long offset, String reason) {}

    private final AvroSerde<CacheMutation> serde;
    private final Rules rules;

    public Coalescer(AvroSerde<CacheMutation> serde, Rules rules) {
        this.serde = serde;
        this.rules = rules;
    }

    /** Decodes and coalesces {@code records} (in poll order). */
    public CoalescedBatch coalesce(Iterable<ConsumerRecord<String, byte[]>> records) {
        Map<String, PendingWrite> byKey = new LinkedHashMap<>();
        Map<TopicPartition, Long> next = new HashMap<>();
        Map<TopicPartition, Long> blocked = new HashMap<>();
        List<Skip> skipped = new ArrayList<>();
        int count = 0;
        int filtered = 0;
        int superseded = 0;
        for (ConsumerRecord<String, byte[]> r : records) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (blocked.containsKey(tp) || !rules.inScope(r)) {
                continue; // a blocked partition is read again once the block is lifted
            }
            CacheMutation m;
            try {
                m = rules.wantedKey(r.key()) ? decode(r, serde) : null;
            } catch (UnknownSchemaException e) {
                blocked.put(tp, r.offset());
                continue;
            } catch (SerializationException | IllegalArgumentException e) {
                count++;
                next.put(tp, r.offset() + 1);
                skipped.add(new Skip(tp, r.offset(), e.getMessage()));
                continue;
            }
            count++;
            next.put(tp, r.offset() + 1);
            if (m == null || !rules.wanted(m)) {
                filtered++;
                continue;
            }
            PendingWrite current = byKey.get(m.getKey());
            if (current == null || m.getVersion() > current.version()) {
                PendingWrite w = new PendingWrite(rules.adjust(m), tp, r.offset());
                if (rules.maybeApplied(tp, r.offset())) {
                    w.outcomeUnknown();
                }
                byKey.put(m.getKey(), w);
            }
        }
        List<PendingWrite> writes = new ArrayList<>(byKey.size());
        for (PendingWrite w : byKey.values()) {
            if (rules.superseded(w.mutation())) {
                superseded++; // the batch's newest of its key, and still older than one to come
            } else {
                writes.add(w);
            }
        }
        return new CoalescedBatch(writes, next, blocked, count, skipped, filtered, superseded);
    }

    /**
     * One mutation record, decoded and checked.
     *
     * @throws UnknownSchemaException if it was written with a schema this writer does not know
     * @throws SerializationException if it does not decode
     * @throws IllegalArgumentException if it cannot be applied
     */
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
        if (m.getOp() == MutationOp.UPSERT && m.getPayload() == null) {
            throw new IllegalArgumentException("UPSERT without payload for key " + m.getKey());
        }
        return m;
    }
}
