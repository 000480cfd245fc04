package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.support.redis.RedisConnector;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shards of Redis as a connection sees them now: one {@link Shard#whole()} for a standalone server, one per
 * master (that serves slots) for a cluster, each with a hash tag that maps to one of its slots. Used by one thread.
 *
 * <p>How a master's tag is chosen, so that every writer agrees and the tag rarely moves: its candidates are the
 * <em>anchor</em> slots it serves (every {@link #ANCHOR_SPACING}th slot; a master with none: the middle of its
 * largest run of slots), highest first; the first candidate whose marker exists in Redis wins, else the highest
 * candidate. A failover keeps the slots, hence the tag (the new master holds the replica's copy of the marker).
 * Resharding ({@code redis-cli --cluster reshard}, {@code rebalance}) takes slots from the start of a master's
 * ranges, so its highest anchor stays; a master that receives an anchor with a marker may switch to it, which is
 * safe (that marker moved in with its slot, and every write it vouches for was acknowledged before). Only a master
 * that loses the anchor of its marker gets a tag without one, and that shard is rebuilt once: at worst a replay,
 * never a regression. The choice is computed again only when the slot map changes.
 */
public final class Shards {
    /** Anchor slots are multiples of this. */
    static final int ANCHOR_SPACING = 512;

    /** For each slot, the shortest decimal number whose CRC16 maps to it: the hash tag of a shard. */
    private static final String[] TAGS = tags();

    private final String keyPrefix;
    private final Duration timeout;
    private String fingerprint;
    private List<Shard> current;

    /**
     * @param keyPrefix whose markers decide between candidate tags (null: no markers, the highest candidate wins)
     * @param timeout of the marker lookups
     */
    public Shards(String keyPrefix, Duration timeout) {
        this.keyPrefix = keyPrefix;
        this.timeout = timeout;
    }

    /** The shards behind {@code connection}. */
    public List<Shard> of(StatefulConnection<byte[], byte[]> connection) {
        Partitions partitions = RedisConnector.partitions(connection);
        if (partitions == null) {
            return List.of(Shard.whole());
        }
        List<RedisClusterNode> masters = new ArrayList<>();
        List<BitSet> slotSets = new ArrayList<>();
        StringBuilder print = new StringBuilder();
        for (RedisClusterNode node : partitions) {
            if (!node.is(RedisClusterNode.NodeFlag.UPSTREAM) || node.hasNoSlots()) {
                continue;
            }
            BitSet slots = new BitSet(SlotHash.SLOT_COUNT);
            node.forEachSlot(slots::set);
            masters.add(node);
            slotSets.add(slots);
            print.append(node.getNodeId()).append(slots).append(';');
        }
        if (masters.isEmpty()) {
            return List.of(Shard.whole());
        }
        String now = print.toString();
        if (now.equals(fingerprint)) {
            return current;
        }
        List<List<Integer>> candidates = new ArrayList<>();
        for (BitSet slots : slotSets) {
            candidates.add(candidates(slots));
        }
        boolean[][] hasMarker = markers(connection, candidates);
        List<Shard> shards = new ArrayList<>();
        for (int i = 0; i < masters.size(); i++) {
            List<Integer> c = candidates.get(i);
            int chosen = c.get(0);
            if (hasMarker != null) {
                for (int j = 0; j < c.size(); j++) {
                    if (hasMarker[i][j]) {
                        chosen = c.get(j);
                        break;
                    }
                }
            }
            RedisClusterNode node = masters.get(i);
            String where = node.getUri() == null
                    ? node.getNodeId()
                    : node.getUri().getHost() + ":" + node.getUri().getPort();
            shards.add(new Shard(TAGS[chosen], where, slotSets.get(i)));
        }
        shards.sort(Comparator.comparingInt(sh -> sh.slots().nextSetBit(0)));
        List<Shard> result = List.copyOf(shards);
        if (hasMarker != null || keyPrefix == null) {
            fingerprint = now; // a failed lookup is tried again next time
            current = result;
        }
        return result;
    }

    /** Which candidates' markers exist, or null if Redis did not answer every lookup. */
    private boolean[][] markers(StatefulConnection<byte[], byte[]> connection, List<List<Integer>> candidates) {
        if (keyPrefix == null) {
            return null;
        }
        RedisClusterAsyncCommands<byte[], byte[]> redis = RedisConnector.async(connection);
        List<List<RedisFuture<Long>>> replies = new ArrayList<>();
        for (List<Integer> c : candidates) {
            List<RedisFuture<Long>> r = new ArrayList<>();
            for (int slot : c) {
                r.add(redis.exists(
                        new Shard(TAGS[slot], null, null).markerKey(keyPrefix).getBytes(StandardCharsets.UTF_8)));
            }
            replies.add(r);
        }
        boolean[][] out = new boolean[candidates.size()][];
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
        try {
            for (int i = 0; i < replies.size(); i++) {
                out[i] = new boolean[replies.get(i).size()];
                for (int j = 0; j < out[i].length; j++) {
                    Long n = replies.get(i).get(j).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    out[i][j] = n != null && n > 0;
                }
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            return null; // judged again at the next call
        }
    }

    /** The candidate tag slots of a master serving {@code slots}: its anchors, highest first. */
    static List<Integer> candidates(BitSet slots) {
        List<Integer> out = new ArrayList<>();
        for (int a = (SlotHash.SLOT_COUNT / ANCHOR_SPACING - 1) * ANCHOR_SPACING; a >= 0; a -= ANCHOR_SPACING) {
            if (slots.get(a)) {
                out.add(a);
            }
        }
        if (out.isEmpty()) {
            out.add(tagSlot(slots));
        }
        return out;
    }

    /** The hash tag that hashes to {@code slot}. */
    static String tagOf(int slot) {
        return TAGS[slot];
    }

    /** The middle of the largest run of consecutive slots (the lowest such run on a tie). */
    static int tagSlot(BitSet slots) {
        int bestFrom = -1;
        int bestLength = 0;
        for (int from = slots.nextSetBit(0); from >= 0; ) {
            int to = slots.nextClearBit(from);
            if (to - from > bestLength) {
                bestFrom = from;
                bestLength = to - from;
            }
            from = slots.nextSetBit(to);
        }
        return bestFrom + (bestLength - 1) / 2;
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
