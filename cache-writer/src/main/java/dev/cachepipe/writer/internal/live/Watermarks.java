package dev.cachepipe.writer.internal.live;

import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.LuaScript;
import dev.cachepipe.support.redis.ScriptCall;
import dev.cachepipe.writer.WriterConfig;
import dev.cachepipe.writer.internal.apply.BatchTrailer;
import dev.cachepipe.writer.internal.apply.RedisBatchWriter;
import dev.cachepipe.writer.internal.apply.Shard;
import dev.cachepipe.writer.internal.replay.WatermarkMetrics;
import dev.cachepipe.writer.internal.replay.WatermarkReplays;
import dev.cachepipe.writer.internal.replay.WatermarkReplays.Gap;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;

/**
 * The live writer's watermarks: how it finds that Redis went back in time and has what it lost replayed. Writer
 * thread only.
 *
 * <p>With every batch, after its writes and in the same pipeline, {@code lua/watermark_raise.lua} raises each polled
 * partition's watermark (in {@link RedisLayout#watermarkKey}) to the batch's last offset, even when the batch wrote
 * nothing. The script returns the previous value and raises only if that is not below the <em>floor</em>: what this
 * writer knows Redis holds (the highest watermark it raised since the partition was assigned, or at assignment the
 * group's committed offset - 1; a partition is also checked alone at assignment and every {@code markerCheckInterval},
 * so that an idle one is checked too). A previous value below the floor means that Redis went back (a restart from an older
 * snapshot, a failover to a replica that was behind): the partition's <em>gap</em>, from that watermark + 1 up to
 * where this writer is, is replayed by {@link WatermarkReplays} while live writes go on. Until the replay completed the
 * watermark is not raised past the gap, so a crash in between means the next owner finds and replays it again. A
 * partition with no watermark at all raises it and replays nothing: a new Redis, an upgrade, or a Redis that lost
 * everything, which the marker heals with a full rebuild.
 *
 * <p>Without self-healing (no key prefix) there are no watermarks: nothing is raised, checked or replayed.
 */
final class Watermarks implements AutoCloseable {
    static final LuaScript RAISE = LuaScript.of(Watermarks.class, "lua/watermark_raise.lua");
    private static final long ONLY_READ = -1;
    /** What the script returns for a watermark of another topic incarnation (dropped). */
    private static final long FOREIGN = -2;

    private final String topic;
    private final String keyPrefix; // null without self-healing
    private final WatermarkMetrics metrics;
    private final WatermarkReplays replays; // null without self-healing
    private final Logger log;
    /** What this writer knows per assigned partition and shard (one shard for a standalone Redis). */
    private final Map<Slice, Mark> marks = new HashMap<>();
    /** Per assigned partition: what its marks start from when a shard is first seen. */
    private final Map<TopicPartition, Assignment> assignments = new HashMap<>();
    /** The shards of the last batch or tick. */
    private List<Shard> shards = List.of(Shard.whole());

    private final long checkIntervalNanos;
    private long nextCheckNanos = System.nanoTime();

    /** One partition's watermark on one shard. */
    record Slice(TopicPartition partition, Shard shard) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Slice other
                    && partition.equals(other.partition)
                    && java.util.Objects.equals(shard.tag(), other.shard.tag());
        }

        @Override
        public int hashCode() {
            return partition.hashCode() * 31 + java.util.Objects.hashCode(shard.tag());
        }

        @Override
        public String toString() {
            return shard.inCluster() ? partition + " on " + shard.describe() : partition.toString();
        }
    }

    /** A partition's committed offset (-1: none) and end offset (-1: not known) when it was assigned. */
    private record Assignment(long committed, long end) {}

    /** What this writer knows about one assigned partition on one shard. */
    private static final class Mark {
        /** The lowest value Redis's watermark may have (-1: nothing known). */
        long floor;
        /** Where the floor comes from, for the log. */
        String floorSource;
        /** The offset after everything this writer wrote (at assignment: the committed offset). */
        long next;
        /** A raise or a check was answered since the assignment. */
        boolean checked;
        /** The open gap, or null. */
        Gap gap;
        /** Its replay was started. */
        boolean replaying;
        /** Its replay completed: the watermark is raised over it next. */
        boolean replayed;
        /**
         * The partition's end offset when it was assigned (-1: not known, or checked already): a watermark at or
         * above it was written for another incarnation of the topic (a new Kafka cluster, a recreated topic).
         */
        long end = -1;
    }

    /** The raises sent with one batch: the trailer and, per call, its slice and offset. */
    record Raise(BatchTrailer trailer, List<Slice> partitions, long[] offsets, long[] floors) {}

    /**
     * @param config its key prefix (null: self-healing is off, and so are the watermarks; then {@code replays} is null
     *     too), mutations topic, and {@code markerCheckInterval}: how often every partition is checked again, so that
     *     a Redis that went back is found even while no records come
     */
    Watermarks(WriterConfig config, WatermarkMetrics metrics, WatermarkReplays replays, Logger log) {
        this.topic = config.mutationsTopic();
        this.keyPrefix = config.keyPrefix();
        this.checkIntervalNanos = config.markerCheckInterval().toNanos();
        this.metrics = metrics;
        this.replays = replays;
        this.log = log;
    }

    /**
     * Partitions assigned, with the group's committed offsets (absent: none, or not known) and their end offsets
     * (absent: not known).
     */
    void assigned(
            Collection<TopicPartition> partitions,
            Map<TopicPartition, Long> committed,
            Map<TopicPartition, Long> endOffsets) {
        if (keyPrefix == null) {
            return;
        }
        for (TopicPartition tp : partitions) {
            Long c = committed.get(tp);
            assignments.put(tp, new Assignment(c == null ? -1 : c, endOffsets.getOrDefault(tp, -1L)));
            marks.keySet().removeIf(s -> s.partition().equals(tp));
            for (Shard shard : shards) {
                mark(new Slice(tp, shard));
            }
        }
    }

    /** The mark of {@code slice}, made from its partition's assignment when the shard is seen first. */
    private Mark mark(Slice slice) {
        Mark m = marks.get(slice);
        if (m == null) {
            Assignment a = assignments.get(slice.partition());
            if (a == null) {
                return null;
            }
            m = new Mark();
            m.next = Math.max(0, a.committed());
            m.floor = a.committed() < 0 ? -1 : a.committed() - 1;
            m.floorSource = "the group committed offset " + m.next;
            m.end = a.end();
            marks.put(slice, m);
        }
        return m;
    }

    /**
     * The shards now (from the writer's connection): marks of shards gone (a failover or migration changed the
     * masters) are dropped, those of new shards made when first used.
     */
    private void shards(List<Shard> now) {
        if (now == null || now.isEmpty()) {
            return;
        }
        if (!now.equals(shards)) {
            java.util.Set<String> tags = new java.util.HashSet<>();
            now.forEach(sh -> tags.add(String.valueOf(sh.tag())));
            marks.keySet()
                    .removeIf(sl -> !tags.contains(String.valueOf(sl.shard().tag())));
            shards = List.copyOf(now);
        }
    }

    /** Partitions revoked or lost: their new owner checks them (a replay running for them finishes harmlessly). */
    void removed(Collection<TopicPartition> partitions) {
        marks.keySet().removeIf(s -> partitions.contains(s.partition()));
        assignments.keySet().removeAll(partitions);
        openGaps();
    }

    /**
     * The raises to send after a batch's writes: each polled partition's watermark to its last offset, on every shard
     * of {@code now} (a shard that the batch wrote nothing to records the progress too).
     */
    Raise raise(Map<TopicPartition, Long> nextOffsets, List<Shard> now) {
        shards(now);
        int n = nextOffsets.size() * shards.size();
        List<Slice> slices = new ArrayList<>(n);
        List<ScriptCall> calls = new ArrayList<>(n);
        long[] offsets = new long[n];
        long[] floors = new long[n];
        if (keyPrefix != null) {
            for (Map.Entry<TopicPartition, Long> e : nextOffsets.entrySet()) {
                long last = e.getValue() - 1;
                for (Shard shard : shards) {
                    Slice slice = new Slice(e.getKey(), shard);
                    Mark m = last < 0 ? null : mark(slice);
                    if (m == null) {
                        continue;
                    }
                    offsets[slices.size()] = last;
                    floors[slices.size()] = m.floor;
                    slices.add(slice);
                    calls.add(call(slice, last, m.floor));
                }
            }
        }
        return new Raise(new BatchTrailer(calls), slices, offsets, floors);
    }

    /** The batch's writes and raises were answered: learns what the raises found. */
    void raised(Raise r) {
        for (int i = 0; i < r.partitions().size(); i++) {
            Mark m = marks.get(r.partitions().get(i));
            if (m != null) {
                m.next = Math.max(m.next, r.offsets()[i] + 1);
                found(
                        r.partitions().get(i),
                        m,
                        r.offsets()[i],
                        r.floors()[i],
                        r.trailer().reply(i));
            }
        }
        openGaps();
    }

    /**
     * Between batches (Redis reachable): collects ended replays, raises the watermarks over completed ones, checks
     * partitions assigned but not yet checked (idle ones too; every partition again each check interval), and starts
     * a replay of the gaps still open.
     */
    void tick(RedisBatchWriter redis) {
        if (keyPrefix == null) {
            return;
        }
        shards(redis.shards(keyPrefix));
        for (TopicPartition tp : assignments.keySet()) {
            for (Shard shard : shards) {
                mark(new Slice(tp, shard));
            }
        }
        collectReplays();
        if (System.nanoTime() - nextCheckNanos >= 0) {
            nextCheckNanos = System.nanoTime() + checkIntervalNanos;
            marks.values().forEach(m -> m.checked = false);
        }
        List<Slice> tps = new ArrayList<>();
        List<ScriptCall> calls = new ArrayList<>();
        marks.forEach((tp, m) -> {
            if (m.replayed) {
                // over the gap and what this writer wrote since (all of it acknowledged after the gap was found)
                calls.add(call(tp, Math.max(m.gap.to(), m.next) - 1, m.gap.from() - 1));
                tps.add(tp);
            } else if (!m.checked && m.gap == null) {
                calls.add(call(tp, ONLY_READ, m.floor, m.end));
                m.end = -1; // once, right after the assignment
                tps.add(tp);
            }
        });
        if (!calls.isEmpty()) {
            BatchTrailer trailer = new BatchTrailer(calls);
            if (redis.attempt(List.of(), trailer).failure() == null) {
                for (int i = 0; i < tps.size(); i++) {
                    answered(tps.get(i), trailer.reply(i));
                }
            }
        }
        startReplay();
        openGaps();
    }

    private void answered(Slice tp, long prev) {
        Mark m = marks.get(tp);
        if (m == null) {
            return;
        }
        if (!m.replayed) {
            found(tp, m, ONLY_READ, m.floor, prev);
            return;
        }
        Gap g = m.gap;
        m.replayed = false;
        m.replaying = false;
        if (prev == -1 || prev >= g.from() - 1) {
            m.gap = null;
            m.floor = Math.max(prev, Math.max(g.to(), m.next) - 1);
            m.floorSource = "the replay of " + g;
            log.info("Redis holds {} again; its watermark is at {}", tp, m.floor);
        } else {
            m.gap = null;
            found(tp, m, ONLY_READ, g.from() - 1, prev);
        }
    }

    /** What the raise (or check) of {@code tp} with {@code floor} found: Redis's previous watermark {@code prev}. */
    private void found(Slice tp, Mark m, long offset, long floor, long prev) {
        m.checked = true;
        if (prev == FOREIGN) {
            log.warn(
                    "Redis's watermark for {} was beyond the partition's end offset: it was written for another Kafka"
                            + " cluster or another incarnation of the topic (recreated); dropped it, starting again"
                            + " from what this writer writes",
                    tp);
            m.floor = m.next - 1;
            m.floorSource = "this writer wrote up to offset " + m.floor;
            return;
        }
        if (prev == -1) {
            if (offset >= 0) {
                if (m.floor >= 0) {
                    log.info(
                            "Redis has no watermark for {} although {}: it is new, upgraded, or lost all its data"
                                    + " (then the marker has it rebuilt); starting it at {}",
                            tp,
                            m.floorSource,
                            offset);
                }
                m.floor = Math.max(m.floor, offset);
                m.floorSource = "this writer wrote up to offset " + m.floor;
            }
            return;
        }
        if (prev >= floor) {
            long holds = Math.max(prev, offset);
            if (m.gap == null && holds > m.floor) {
                m.floor = holds;
                m.floorSource = offset >= prev ? "this writer wrote up to offset " + holds : "it was at " + holds;
            }
            return;
        }
        if (m.gap != null) {
            return; // known; its replay runs or waits
        }
        m.gap = new Gap(tp.partition(), prev + 1, Math.max(m.next, floor + 1), tp.shard());
        metrics.gap();
        log.warn(
                "Redis went back in time on {}: its watermark is {} but {} (restarted from an older snapshot, or"
                        + " failed over to a replica that was behind); replaying offsets {} to {} while live writes"
                        + " go on",
                tp,
                prev,
                m.floorSource,
                m.gap.from(),
                m.gap.to() - 1);
    }

    private void collectReplays() {
        if (replays == null) {
            return;
        }
        for (WatermarkReplays.Done d = replays.poll(); d != null; d = replays.poll()) {
            for (Gap g : d.gaps()) {
                Mark m = marks.get(new Slice(g.partition(), g.shard()));
                if (m == null || m.gap != g) {
                    continue; // revoked meanwhile
                }
                if (d.completed()) {
                    m.replayed = true;
                } else {
                    m.replaying = false; // replayed again
                }
            }
        }
    }

    private void startReplay() {
        if (replays == null || replays.running()) {
            return;
        }
        List<Gap> gaps = new ArrayList<>();
        marks.values().forEach(m -> {
            if (m.gap != null && !m.replaying) {
                gaps.add(m.gap);
                m.replaying = true;
            }
        });
        if (!gaps.isEmpty()) {
            replays.start(gaps);
        }
    }

    private void openGaps() {
        metrics.openGaps(
                (int) marks.values().stream().filter(m -> m.gap != null).count());
    }

    private ScriptCall call(Slice slice, long offset, long floor) {
        return call(slice, offset, floor, -1);
    }

    private ScriptCall call(Slice slice, long offset, long floor, long end) {
        return new ScriptCall(
                RAISE,
                slice.shard().watermarkKey(keyPrefix).getBytes(StandardCharsets.UTF_8),
                RedisLayout.watermarkField(topic, slice.partition().partition()).getBytes(StandardCharsets.UTF_8),
                Long.toString(offset).getBytes(StandardCharsets.US_ASCII),
                Long.toString(floor).getBytes(StandardCharsets.US_ASCII),
                Long.toString(end).getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public void close() {
        if (replays != null) {
            replays.close();
        }
    }
}
