package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.support.redis.RedisConnector;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;

/**
 * The shards of Redis as a connection sees them now: one {@link Shard#whole()} for a standalone server, one per
 * master (that serves slots) for a cluster, each with the hash tag of its lowest slot. Every writer computes the same
 * tags from the same slot map, and a failover keeps them (the new master serves the same slots).
 */
public final class Shards {
    /** For each slot, the shortest decimal number whose CRC16 maps to it: the hash tag of a shard. */
    private static final String[] TAGS = tags();

    private Shards() {}

    /** The shards behind {@code connection}. */
    public static List<Shard> of(StatefulConnection<byte[], byte[]> connection) {
        Partitions partitions = RedisConnector.partitions(connection);
        if (partitions == null) {
            return List.of(Shard.whole());
        }
        List<Shard> shards = new ArrayList<>();
        for (RedisClusterNode node : partitions) {
            if (!node.is(RedisClusterNode.NodeFlag.UPSTREAM) || node.hasNoSlots()) {
                continue;
            }
            BitSet slots = new BitSet(SlotHash.SLOT_COUNT);
            node.forEachSlot(slots::set);
            int lowest = slots.nextSetBit(0);
            String where = node.getUri() == null
                    ? node.getNodeId()
                    : node.getUri().getHost() + ":" + node.getUri().getPort();
            shards.add(new Shard(TAGS[lowest], where, slots));
        }
        shards.sort(Comparator.comparingInt(s -> s.slots().nextSetBit(0)));
        return shards.isEmpty() ? List.of(Shard.whole()) : List.copyOf(shards);
    }

    /** The hash tag that {@link #of} gives the master whose lowest slot is {@code slot}. */
    static String tagOf(int slot) {
        return TAGS[slot];
    }

    private static String[] tags() {
        String[] tags = new String[SlotHash.SLOT_COUNT];
        int missing = tags.length;
        for (int n = 0; missing > 0; n++) {
            String s = Integer.toString(n);
            int slot = SlotHash.getSlot(s.getBytes(StandardCharsets.US_ASCII));
            if (tags[slot] == null) {
                tags[slot] = s;
                missing--;
            }
        }
        return tags;
    }
}
