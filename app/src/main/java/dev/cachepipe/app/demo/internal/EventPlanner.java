package dev.cachepipe.app.demo.internal;

import dev.cachepipe.avro.Operation;
import dev.cachepipe.topology.EntityPolicy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Plans the valid events of a generator run, one window at a time: each window spreads its events over random
 * entities, gives every entity the next block of its versions in a random order (so versions arrive out of order
 * within the window, never across windows), makes a fraction of the versions DELETEs, and repeats a fraction of
 * the events as exact duplicates later in the window. Deterministic for a given seed. Not thread-safe.
 */
public final class EventPlanner {
    private final List<EntityPolicy> types;
    private final int entitiesPerType;
    private final String idPrefix;
    private final double deleteRatio;
    private final double duplicateRatio;
    private final Random random;
    private final long[] nextVersion;

    public EventPlanner(
            List<EntityPolicy> types,
            int entitiesPerType,
            String idPrefix,
            double deleteRatio,
            double duplicateRatio,
            Random random) {
        this.types = List.copyOf(types);
        this.entitiesPerType = entitiesPerType;
        this.idPrefix = idPrefix;
        this.deleteRatio = deleteRatio;
        this.duplicateRatio = duplicateRatio;
        this.random = random;
        this.nextVersion = new long[types.size() * entitiesPerType];
    }

    /** The entity id of entity number {@code index} (0-based) of a type. */
    public String entityId(int index) {
        return idPrefix + String.format("%05d", index);
    }

    /**
     * The next {@code n} planned events (duplicates included: a duplicate is the same {@link Slot} object twice,
     * so it is sent as the same bytes).
     */
    public List<Slot> nextWindow(int n) {
        if (n <= 0) {
            return List.of();
        }
        int duplicates = (int) Math.min(n - 1L, Math.round(n * duplicateRatio));
        int uniques = n - duplicates;
        int entities = nextVersion.length;
        // which entity each unique slot belongs to
        int[] owner = new int[uniques];
        int[] count = new int[entities];
        for (int i = 0; i < uniques; i++) {
            owner[i] = random.nextInt(entities);
            count[owner[i]]++;
        }
        // each entity's block of versions, shuffled
        long[][] versions = new long[entities][];
        for (int e = 0; e < entities; e++) {
            if (count[e] == 0) {
                continue;
            }
            long[] block = new long[count[e]];
            for (int j = 0; j < block.length; j++) {
                block[j] = ++nextVersion[e];
            }
            for (int j = block.length - 1; j > 0; j--) {
                int k = random.nextInt(j + 1);
                long t = block[j];
                block[j] = block[k];
                block[k] = t;
            }
            versions[e] = block;
        }
        int[] used = new int[entities];
        List<Slot> out = new ArrayList<>(n);
        for (int i = 0; i < uniques; i++) {
            int e = owner[i];
            EntityPolicy type = types.get(e / entitiesPerType);
            String id = entityId(e % entitiesPerType);
            long version = versions[e][used[e]++];
            Operation op = random.nextDouble() < deleteRatio ? Operation.DELETE : Operation.UPSERT;
            out.add(new Slot(type, id, version, op, op == Operation.UPSERT ? random.nextLong() : 0L));
        }
        for (int d = 0; d < duplicates; d++) {
            int original = random.nextInt(out.size());
            int at = original + 1 + random.nextInt(out.size() - original);
            out.add(at, out.get(original));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * One planned event. The event itself is built when it is first sent (so that {@code occurredAt} is the send
     * time) and then reused for duplicates.
     */
    public static final class Slot {
        private final EntityPolicy type;
        private final String entityId;
        private final long version;
        private final Operation op;
        private final long payloadSeed;
        private Object built;

        Slot(EntityPolicy type, String entityId, long version, Operation op, long payloadSeed) {
            this.type = type;
            this.entityId = entityId;
            this.version = version;
            this.op = op;
            this.payloadSeed = payloadSeed;
        }

        public EntityPolicy type() {
            return type;
        }

        public String entityId() {
            return entityId;
        }

        public long version() {
            return version;
        }

        public Operation op() {
            return op;
        }

        /** Seed for the payload's content (0 for DELETE). */
        public long payloadSeed() {
            return payloadSeed;
        }

        /** What the sender attached on first send, or {@code null}. */
        public Object built() {
            return built;
        }

        public void built(Object value) {
            this.built = value;
        }
    }
}
