package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.schemas.Redact;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriterConfig;
import dev.cachepipe.writer.internal.apply.Health;
import dev.cachepipe.writer.internal.apply.Shard;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;

/**
 * Replays the parts of the mutations topic that a Redis which went back in time lost (gaps found by the live writer's
 * watermarks), on a thread of its own while live writes go on: one {@link ReplayDriver} over the gaps' ranges, through
 * the same version-gated scripts, announcing nothing, outside the marker protocol. One replay at a time; the writer
 * thread starts it and collects its result with {@link #poll()}, and raises the watermarks itself.
 */
public final class WatermarkReplays implements AutoCloseable {
    /**
     * Offsets {@code from} (the watermark + 1) to {@code to} (exclusive) of one partition, lost by Redis or by one
     * shard of it.
     */
    public record Gap(TopicPartition partition, long from, long to, Shard shard) {
        /** A gap of a standalone Redis. */
        public Gap(TopicPartition partition, long from, long to) {
            this(partition, from, to, Shard.whole());
        }

        @Override
        public String toString() {
            return partition + " offsets " + from + " to " + (to - 1)
                    + (shard.inCluster() ? " on " + shard.describe() : "");
        }
    }

    /** A replay that ended: whether it completed. */
    public record Done(List<Gap> gaps, boolean completed) {}

    private final WriterConfig config;
    private final RedisConnector connector;
    private final WatermarkMetrics metrics;
    private final Logger log;
    private final String holder;
    private final Queue<Done> done = new ConcurrentLinkedQueue<>();
    private volatile boolean closing;
    private volatile Thread replay;

    /** @param connector the writer's: the replay opens a connection of its own with it */
    public WatermarkReplays(WriterConfig config, RedisConnector connector, WatermarkMetrics metrics, Logger log) {
        this.config = config;
        this.connector = connector;
        this.metrics = metrics;
        this.log = log;
        this.holder = RebuildLease.holder("writer " + config.groupId());
    }

    /** Whether a replay runs now. */
    public boolean running() {
        Thread t = replay;
        return t != null && t.isAlive();
    }

    /** Starts replaying {@code gaps} (none may be running); nothing once closed. */
    public void start(List<Gap> gaps) {
        if (running()) {
            throw new IllegalStateException("a watermark replay runs already");
        }
        if (closing) {
            return;
        }
        List<Gap> copy = List.copyOf(gaps);
        Thread t = new Thread(() -> run(copy), "cachepipe-watermark-replay");
        t.setDaemon(true);
        replay = t;
        t.start();
    }

    /** The next replay that ended, or null. */
    public Done poll() {
        return done.poll();
    }

    private void run(List<Gap> gaps) {
        // one range per partition over the gaps of all its shards; only the keys of those shards are written
        Map<TopicPartition, ReplaySource.Range> ranges = new LinkedHashMap<>();
        gaps.forEach(g -> ranges.merge(
                g.partition(),
                new ReplaySource.Range(g.from(), g.to()),
                (a, b) -> new ReplaySource.Range(Math.min(a.from(), b.from()), Math.max(a.to(), b.to()))));
        Shard keys = Shard.union(gaps.stream().map(Gap::shard).toList());
        boolean completed = false;
        try {
            CacheRebuild.Result result = new ReplayDriver(config, connector, metrics, holder, ranges, keys)
                    .run(ReplayDriver.Mode.NONE, RebuildLease.newToken(), p -> {}, () -> closing);
            CacheRebuild.Progress p = result.progress();
            completed = result.outcome() == CacheRebuild.Outcome.COMPLETED;
            if (completed) {
                log.info(
                        "Replay of what Redis lost completed in {}: {} records replayed ({}), {} applied, {} already"
                                + " current, {} expired",
                        Health.format(p.elapsed()),
                        p.read(),
                        gaps,
                        p.applied(),
                        p.stale() + p.duplicate(),
                        p.expired());
            } else {
                log.info("Replay of what Redis lost stopped ({}) after {} records", result.outcome(), p.read());
            }
        } catch (RuntimeException e) {
            log.error("Replay of what Redis lost failed (retried): {}", Redact.describe(e), e);
        } finally {
            done.add(new Done(gaps, completed));
        }
    }

    /** Stops a running replay and waits for it. */
    @Override
    public void close() {
        closing = true;
        Thread t = replay;
        if (t != null) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
