package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.schemas.Redact;
import dev.cachepipe.support.AccessDenied;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriterConfig;
import dev.cachepipe.writer.internal.apply.Health;
import dev.cachepipe.writer.internal.apply.RedisBatchWriter;
import dev.cachepipe.writer.internal.apply.Shard;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * The writer's self-healing: checks the marker (at start-up, every {@code markerCheckInterval} and whenever Redis
 * answers again after an outage) and, when it has no epoch, takes the rebuild lease and rebuilds Redis on a thread
 * of its own while the writer's live writes go on. Checks run on the writer thread over its connection; see
 * {@link CacheRebuild} for the protocol.
 */
public final class SelfHealing implements AutoCloseable {
    private final WriterConfig config;
    private final RedisConnector connector;
    private final RebuildMetrics metrics;
    private final Logger log;
    private final String holder;
    private final long intervalNanos;
    private volatile long nextCheckNanos = System.nanoTime();
    private boolean busyLogged; // writer thread only
    private volatile boolean closing;
    private volatile Thread rebuild;

    /**
     * @param connector the writer's: a rebuild opens a connection of its own with it, sharing its threads
     * @param metrics where rebuilds count (the caller's; it closes them)
     */
    public SelfHealing(WriterConfig config, RedisConnector connector, RebuildMetrics metrics, Logger log) {
        this.config = config;
        this.connector = connector;
        this.metrics = metrics;
        this.log = log;
        this.holder = RebuildLease.holder("writer " + config.groupId());
        this.intervalNanos = config.markerCheckInterval().toNanos();
    }

    /** The next {@link #maybeCheck} checks at once (start-up, Redis back after an outage). */
    public void checkSoon() {
        nextCheckNanos = System.nanoTime();
    }

    public boolean rebuilding() {
        Thread t = rebuild;
        return t != null && t.isAlive();
    }

    /**
     * Checks the marker of every shard (one for a standalone Redis, one per master of a cluster) if due and no rebuild
     * runs here; starts a rebuild of the first shard that has no complete data set (the others at the next check,
     * which comes at once after a rebuild).
     */
    public void maybeCheck(RedisBatchWriter redis) {
        long now = System.nanoTime();
        if (closing || now - nextCheckNanos < 0 || rebuilding()) {
            return;
        }
        nextCheckNanos = now + intervalNanos;
        List<Shard> shards = redis.shards(config.keyPrefix());
        if (shards == null) {
            return; // Redis unreachable: the writer reports it; checked again once it answers
        }
        boolean busy = false;
        for (Shard shard : shards) {
            Marker marker = Marker.over(redis, config.keyPrefix(), shard, config.redisTimeout());
            if (marker == null) {
                return;
            }
            String key = shard.markerKey(config.keyPrefix());
            String token = RebuildLease.newToken();
            long r;
            try {
                r = new RebuildLease(marker, token).begin(false, holder);
            } catch (RuntimeException e) {
                AccessDenied.check("Redis refused the marker check on " + key, e);
                log.debug("Could not check the marker {}: {}", key, Redact.describe(e));
                return;
            }
            if (r == Marker.BEGIN_BUSY) {
                busy = true;
            } else if (r != Marker.BEGIN_NOT_NEEDED) {
                busyLogged = false;
                log.warn(
                        "{} has no cachepipe marker {} (it lost its data, or is new): rebuilding it from {} while"
                                + " live writes go on",
                        shards.size() > 1 ? capitalize(shard.describe()) : "Redis",
                        key,
                        config.mutationsTopic());
                start(token, shard);
                return;
            }
        }
        if (!busy) {
            busyLogged = false;
        } else if (!busyLogged) {
            log.info("Redis has no complete data set and another instance is rebuilding it; waiting for it");
            busyLogged = true;
        }
    }

    private static String capitalize(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private void start(String token, Shard shard) {
        Thread t = new Thread(() -> runRebuild(token, shard), "cachepipe-rebuild");
        t.setDaemon(true);
        rebuild = t;
        t.start();
    }

    private void runRebuild(String token, Shard shard) {
        ReplayDriver rebuilder = shard.inCluster()
                ? new ReplayDriver(config, connector, shard, metrics, holder)
                : new ReplayDriver(config, connector, (String) null, metrics, holder);
        long[] lastLog = {System.nanoTime()};
        try {
            CacheRebuild.Result result = rebuilder.run(
                    ReplayDriver.Mode.ACQUIRED,
                    token,
                    p -> {
                        if (System.nanoTime() - lastLog[0] > TimeUnit.SECONDS.toNanos(10)) {
                            lastLog[0] = System.nanoTime();
                            log.info(
                                    "Rebuild: {}% ({} of {} records, {} applied)",
                                    String.format(Locale.ROOT, "%.0f", p.fraction() * 100),
                                    p.read(),
                                    p.total(),
                                    p.applied());
                        }
                    },
                    () -> closing);
            CacheRebuild.Progress p = result.progress();
            switch (result.outcome()) {
                case COMPLETED -> {
                    checkSoon(); // another shard may wait for its rebuild
                    log.info(
                            "Rebuild completed in {}: {} records replayed ({}/s), {} applied, {} already current, {}"
                                    + " expired, {} invalidations published; marker {} written",
                            Health.format(p.elapsed()),
                            p.read(),
                            String.format(Locale.ROOT, "%.0f", p.ratePerSecond()),
                            p.applied(),
                            p.stale() + p.duplicate(),
                            p.expired(),
                            p.invalidations(),
                            shard.markerKey(config.keyPrefix()));
                }
                case LEASE_LOST -> {
                    log.warn("Rebuild abandoned: Redis lost its data again (or another instance took over); checking"
                            + " again");
                    checkSoon();
                }
                case CANCELLED -> log.info("Rebuild stopped: the writer is closing");
                case BUSY -> log.info("Rebuild not started: another instance is rebuilding");
            }
        } catch (RuntimeException e) {
            log.error("Rebuild failed (retried at the next marker check): {}", Redact.describe(e), e);
        }
    }

    /** Stops a running rebuild (it gives its lease up) and waits for it. */
    @Override
    public void close() {
        closing = true;
        Thread t = rebuild;
        if (t != null) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
