package dev.cachepipe.writer.internal.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.schemas.RedisLayout;
import io.lettuce.core.cluster.SlotHash;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShardTest {
    @Test
    void shouldHaveATagForEverySlotThatHashesToIt() {
        for (int slot = 0; slot < SlotHash.SLOT_COUNT; slot++) {
            String tag = Shards.tagOf(slot);
            assertThat(SlotHash.getSlot(tag)).as("tag %s", tag).isEqualTo(slot);
        }
    }

    @Test
    void shouldPutAClusterShardsMarkerAndWatermarksOnItsOwnSlot() {
        BitSet slots = new BitSet();
        slots.set(5461, 10923);
        Shard shard = new Shard(Shards.tagOf(5461), "127.0.0.1:7001", slots);

        assertThat(SlotHash.getSlot(shard.markerKey("cache"))).isEqualTo(5461);
        assertThat(SlotHash.getSlot(shard.watermarkKey("cache"))).isEqualTo(5461);
        assertThat(shard.markerKey("cache")).startsWith("cache:@cachepipe:{");
        assertThat(RedisLayout.parse("cache", shard.markerKey("cache"))).isEmpty();
        assertThat(RedisLayout.parse("cache", shard.watermarkKey("cache"))).isEmpty();
        assertThat(shard.owns(shard.markerKey("cache"))).isTrue();
    }

    @Test
    void shouldOfferTheAnchorsAMasterServesHighestFirstSoThatReshardingFromTheStartKeepsItsTag() {
        BitSet slots = new BitSet();
        slots.set(5461, 10923);
        assertThat(Shards.candidates(slots))
                .containsExactly(10752, 10240, 9728, 9216, 8704, 8192, 7680, 7168, 6656, 6144, 5632);
        slots.clear(5461, 5661); // resharded away from the start: the highest anchor stays
        assertThat(Shards.candidates(slots).get(0)).isEqualTo(10752);
        BitSet few = new BitSet();
        few.set(100, 200); // no anchor: the middle of the largest run
        assertThat(Shards.candidates(few)).containsExactly(149);
        assertThat(Shards.tagSlot(few)).isEqualTo(149);
    }

    @Test
    void shouldKeepTheStandaloneKeysForTheWholeRedis() {
        assertThat(Shard.whole().markerKey("cache")).isEqualTo(RedisLayout.markerKey("cache"));
        assertThat(Shard.whole().watermarkKey("cache")).isEqualTo(RedisLayout.watermarkKey("cache"));
        assertThat(Shard.whole().owns("anything")).isTrue();
        assertThat(Shard.whole().inCluster()).isFalse();
    }

    @Test
    void shouldOwnTheKeysOfItsSlotsOnlyAndUniteShards() {
        BitSet low = new BitSet();
        low.set(0, 5461);
        BitSet high = new BitSet();
        high.set(10923, 16384);
        Shard a = new Shard(Shards.tagOf(0), "a", low);
        Shard c = new Shard(Shards.tagOf(10923), "c", high);
        String inLow = key(0, 5460);
        String inMiddle = key(5461, 10922);

        assertThat(a.owns(inLow)).isTrue();
        assertThat(a.owns(inMiddle)).isFalse();
        Shard both = Shard.union(List.of(a, c));
        assertThat(both.owns(inLow)).isTrue();
        assertThat(both.owns(inMiddle)).isFalse();
        assertThat(Shard.union(List.of(a, Shard.whole())).owns(inMiddle)).isTrue();
    }

    private static String key(int fromSlot, int toSlot) {
        for (int i = 0; ; i++) {
            String k = "cache:user:" + i;
            int slot = SlotHash.getSlot(k);
            if (slot >= fromSlot && slot <= toSlot) {
                return k;
            }
        }
    }
}
