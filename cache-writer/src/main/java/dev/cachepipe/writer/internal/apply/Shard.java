package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.schemas.RedisLayout;
import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.Objects;

/**
 * One part of Redis that can lose or go back in time on its own, with its own marker and watermarks: the whole of a
 * standalone Redis ({@link #whole()}), or one master of a Redis Cluster with the slots it serves. A cluster shard's
 * marker and watermarks carry a hash tag ({@link #tag()}) that maps to one of its slots, so they live on that master
 * and move with that slot.
 *
 * @param tag the hash tag of the shard's keys, or null for a standalone Redis (the keys without a tag)
 * @param node {@code host:port} of the master when the topology was read (for logs)
 * @param slots the slots the master serves, or null for every key
 */
public record Shard(String tag, String node, BitSet slots) {
    private static final Shard WHOLE = new Shard(null, null, null);

    public Shard {
        slots = slots == null ? null : (BitSet) slots.clone();
    }

    /** A standalone Redis: every key, the marker and watermarks without a tag. */
    public static Shard whole() {
        return WHOLE;
    }

    /** The self-healing marker of this shard. */
    public String markerKey(String keyPrefix) {
        return tag == null ? RedisLayout.markerKey(keyPrefix) : RedisLayout.markerKey(keyPrefix) + ":{" + tag + "}";
    }

    /** The watermarks of this shard. */
    public String watermarkKey(String keyPrefix) {
        return tag == null
                ? RedisLayout.watermarkKey(keyPrefix)
                : RedisLayout.watermarkKey(keyPrefix) + ":{" + tag + "}";
    }

    /**
     * The keys of all of {@code shards} (for filtering only: no marker or watermarks); {@link #whole()} if one of them
     * is.
     */
    public static Shard union(java.util.List<Shard> shards) {
        BitSet all = new BitSet();
        for (Shard s : shards) {
            if (s.slots == null) {
                return WHOLE;
            }
            all.or(s.slots);
        }
        return shards.isEmpty() ? WHOLE : new Shard(null, null, all);
    }

    /** Whether {@code key} lives on this shard (by its slot). */
    public boolean owns(String key) {
        return slots == null || slots.get(SlotHash.getSlot(key.getBytes(StandardCharsets.UTF_8)));
    }

    /** Whether this is a shard of a cluster. */
    public boolean inCluster() {
        return tag != null;
    }

    /** "Redis", or "the shard of master host:port (tag t)" for logs. */
    public String describe() {
        return tag == null ? "Redis" : "the shard of master " + node + " (hash tag {" + tag + "})";
    }

    /** Same tag: the same marker and watermarks (the master or its slots may have changed). */
    public boolean sameKeys(Shard other) {
        return Objects.equals(tag, other.tag);
    }
}
