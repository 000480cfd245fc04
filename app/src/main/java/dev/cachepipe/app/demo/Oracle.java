package dev.cachepipe.app.demo;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.topology.CacheMode;
import dev.cachepipe.topology.EntityPolicy;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Remembers what was published and computes the Redis state the pipeline must converge to.
 *
 * <p>Per entity the highest version wins. write-through: an UPSERT expects a value (payload, content type,
 * occurredAt), a DELETE a tombstone ({@code del=1}); invalidate: a fence ({@code inv=1}) at the highest version;
 * expire-only: nothing in Redis. Each expectation also knows the earliest moment its entry may have expired
 * (sent time of the winning event + the shortest TTL the policy can give), so a check can tell an entry that is
 * missing because of its TTL from one that was never written.
 *
 * <p>Thread-safe: the generator records from the producer's callback thread while a check reads.
 */
public final class Oracle {
    private final String keyPrefix;
    private final Map<String, EntityPolicy> policies;
    private final boolean retainHistory;
    private final Map<String, EntityState> entities = new ConcurrentHashMap<>();
    private final List<PoisonRecord> poison = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong events = new AtomicLong();

    /**
     * @param keyPrefix the Redis key prefix the pipeline writes under
     * @param policies the policies of the entity types that may be recorded
     * @param retainHistory whether to keep every published version per key (for {@link #published}); without it only
     *     the winning event of each key is kept
     */
    public Oracle(String keyPrefix, Collection<EntityPolicy> policies, boolean retainHistory) {
        if (!RedisLayout.isValidPrefix(keyPrefix)) {
            throw new IllegalArgumentException("keyPrefix must be a valid Redis key prefix but was " + keyPrefix);
        }
        this.keyPrefix = keyPrefix;
        Map<String, EntityPolicy> byType = new LinkedHashMap<>();
        for (EntityPolicy p : policies) {
            byType.put(p.entityType(), p);
        }
        if (byType.isEmpty()) {
            throw new IllegalArgumentException("policies must name at least one entity type but was empty");
        }
        this.policies = Collections.unmodifiableMap(byType);
        this.retainHistory = retainHistory;
    }

    /** An oracle that keeps every published version (what the tests use). */
    public Oracle(String keyPrefix, Collection<EntityPolicy> policies) {
        this(keyPrefix, policies, true);
    }

    /** The key prefix. */
    public String keyPrefix() {
        return keyPrefix;
    }

    /** The policies by entity type. */
    public Map<String, EntityPolicy> policies() {
        return policies;
    }

    /** The Redis key of an entity. */
    public String key(String entityType, String entityId) {
        return RedisLayout.key(keyPrefix, entityType, entityId);
    }

    /**
     * Records a valid event that Kafka acknowledged.
     *
     * @param sentAtMillis when it was handed to the producer: no Redis write for it can be older
     * @throws IllegalArgumentException if its entity type has no policy
     */
    public void record(DomainEvent event, long sentAtMillis) {
        EntityPolicy policy = policies.get(event.getEntityType());
        if (policy == null) {
            throw new IllegalArgumentException(
                    "entity type " + event.getEntityType() + " has no policy; known: " + policies.keySet());
        }
        String key = key(event.getEntityType(), event.getEntityId());
        events.incrementAndGet();
        entities.computeIfAbsent(key, k -> new EntityState(k, policy)).add(event, sentAtMillis, retainHistory);
    }

    /** Records a bad record that Kafka acknowledged. */
    public void recordPoison(PoisonRecord record) {
        poison.add(Objects.requireNonNull(record, "record"));
    }

    /** Valid events recorded, duplicates included. */
    public long eventCount() {
        return events.get();
    }

    /** Distinct entities recorded. */
    public int entityCount() {
        return entities.size();
    }

    /** The bad records recorded, in acknowledgement order. */
    public List<PoisonRecord> poison() {
        synchronized (poison) {
            return List.copyOf(poison);
        }
    }

    /** What Redis must hold for every recorded entity, sorted by key. */
    public List<Expectation> expectations() {
        List<Expectation> out = new ArrayList<>(entities.size());
        for (EntityState s : entities.values()) {
            out.add(s.expectation());
        }
        out.sort(Comparator.comparing(Expectation::key));
        return out;
    }

    /** What Redis must hold for {@code key}, if the key was recorded. */
    public Optional<Expectation> expectation(String key) {
        EntityState s = entities.get(key);
        return s == null ? Optional.empty() : Optional.of(s.expectation());
    }

    /**
     * Every distinct version published for {@code key} with its event (the first copy acknowledged), ascending.
     *
     * @throws IllegalStateException if this oracle does not retain history
     */
    public NavigableMap<Long, DomainEvent> published(String key) {
        if (!retainHistory) {
            throw new IllegalStateException("this oracle was created without history");
        }
        EntityState s = entities.get(key);
        return s == null ? Collections.emptyNavigableMap() : s.history();
    }

    /**
     * The expected Redis state of one entity.
     *
     * @param key the Redis key
     * @param policy the policy of the entity type
     * @param winner the highest-version event
     * @param entry the expected entry, empty when the key must be absent (expire-only)
     * @param earliestExpiryMillis the earliest epoch-ms time at which the entry may have expired by its TTL
     */
    public record Expectation(
            String key,
            EntityPolicy policy,
            DomainEvent winner,
            Optional<CacheEntry> entry,
            long earliestExpiryMillis) {

        /** The winning version. */
        public long version() {
            return winner.getVersion();
        }

        /** Whether the entry's TTL may have run out by {@code nowMillis}, so that its absence is consistent. */
        public boolean mayHaveExpired(long nowMillis) {
            return entry.isPresent() && nowMillis >= earliestExpiryMillis;
        }

        /** A short human-readable description, e.g. {@code VALUE v7 (42 bytes application/json)}. */
        public String describe() {
            return entry.map(Oracle::describe).orElse("absent (" + policy.mode().configName() + ")");
        }
    }

    /** One bad record that was published. {@code redisKey} is where it would land if it were wrongly applied. */
    public record PoisonRecord(PoisonKind kind, String topic, byte[] key, byte[] value, String redisKey) {
        @Override
        public boolean equals(Object o) {
            return o instanceof PoisonRecord p
                    && kind == p.kind
                    && topic.equals(p.topic)
                    && java.util.Arrays.equals(key, p.key)
                    && java.util.Arrays.equals(value, p.value)
                    && Objects.equals(redisKey, p.redisKey);
        }

        @Override
        public int hashCode() {
            return Objects.hash(kind, topic, java.util.Arrays.hashCode(key), java.util.Arrays.hashCode(value));
        }

        @Override
        public String toString() {
            return "PoisonRecord[" + kind + " on " + topic + ", " + (value == null ? "null" : value.length + " bytes")
                    + "]";
        }
    }

    /** {@code VALUE v7 (42 bytes application/json)}, {@code TOMBSTONE v9}, {@code FENCE v3}. */
    public static String describe(CacheEntry e) {
        return switch (e.state()) {
            case VALUE ->
                "VALUE v" + e.version() + " (" + e.payload().length + " bytes " + e.contentType() + ", ts "
                        + e.occurredAt() + ")";
            case TOMBSTONE -> "TOMBSTONE v" + e.version() + " (ts " + e.occurredAt() + ")";
            case FENCE -> "FENCE v" + e.version() + " (ts " + e.occurredAt() + ")";
        };
    }

    /** The shortest TTL the topology can give an entry of this policy, in ms (jitter is ± around the TTL). */
    static long minTtlMillis(EntityPolicy policy, Operation op) {
        if (policy.mode() == CacheMode.WRITE_THROUGH && op == Operation.UPSERT) {
            return Math.max(1, (long) Math.floor(policy.ttl().toMillis() * (1 - policy.ttlJitter())) - 1);
        }
        return policy.tombstoneTtl().toMillis();
    }

    /** The entry the pipeline writes for the winning event, or empty for expire-only. */
    static Optional<CacheEntry> entryFor(EntityPolicy policy, DomainEvent e) {
        long ts = e.getOccurredAt().toEpochMilli();
        return switch (policy.mode()) {
            case WRITE_THROUGH ->
                e.getOp() == Operation.UPSERT
                        ? Optional.of(new CacheEntry(
                                e.getVersion(), CacheEntry.State.VALUE, e.getContentType(), ts, bytes(e.getPayload())))
                        : Optional.of(new CacheEntry(e.getVersion(), CacheEntry.State.TOMBSTONE, null, ts, null));
            case INVALIDATE -> Optional.of(new CacheEntry(e.getVersion(), CacheEntry.State.FENCE, null, ts, null));
            case EXPIRE_ONLY -> Optional.empty();
        };
    }

    static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    /** The state of one key; synchronized on itself. */
    private static final class EntityState {
        private final String key;
        private final EntityPolicy policy;
        private final TreeMap<Long, DomainEvent> history = new TreeMap<>();
        private DomainEvent winner;
        private long winnerSentAt;

        EntityState(String key, EntityPolicy policy) {
            this.key = key;
            this.policy = policy;
        }

        synchronized void add(DomainEvent e, long sentAt, boolean retain) {
            if (retain) {
                history.putIfAbsent(e.getVersion(), e);
            }
            if (winner == null || e.getVersion() > winner.getVersion()) {
                winner = e;
                winnerSentAt = sentAt;
            } else if (e.getVersion() == winner.getVersion()) {
                winnerSentAt = Math.min(winnerSentAt, sentAt); // an exact duplicate: the first copy counts
            }
        }

        synchronized Expectation expectation() {
            return new Expectation(
                    key, policy, winner, entryFor(policy, winner), winnerSentAt + minTtlMillis(policy, winner.getOp()));
        }

        synchronized NavigableMap<Long, DomainEvent> history() {
            return Collections.unmodifiableNavigableMap(new TreeMap<>(history));
        }
    }
}
