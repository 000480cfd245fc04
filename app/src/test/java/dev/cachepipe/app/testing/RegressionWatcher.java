package dev.cachepipe.app.testing;

import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.RedisTarget;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every entity the oracle knows from Redis (one server or a cluster), round after round on a thread of its own,
 * and records each entry seen at a version below one seen before, or absent after it was present. Only for tests
 * whose TTLs cannot run out meanwhile (an expired entry would count as gone).
 */
public final class RegressionWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegressionWatcher.class);

    private final RedisConnector connector;
    private final Oracle oracle;
    private final Map<String, Long> highest = new HashMap<>();
    private final List<String> wentBack = new CopyOnWriteArrayList<>();
    private final AtomicLong rounds = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread = new Thread(this::loop, "regression-watcher");
    private StatefulConnection<byte[], byte[]> connection;

    public RegressionWatcher(RedisTarget target, Oracle oracle) {
        this.connector =
                RedisConnector.create(target, Duration.ofSeconds(2), Duration.ofMillis(50), Duration.ofMillis(500));
        this.oracle = oracle;
    }

    /** Connects and reads one round before returning (so that a round exists before a fault), then goes on. */
    public RegressionWatcher start() throws Exception {
        connection = connector.connect();
        round(RedisConnector.async(connection));
        rounds.incrementAndGet();
        thread.setUncaughtExceptionHandler((t, e) -> log.error("RegressionWatcher died", e));
        thread.start();
        return this;
    }

    /** Complete rounds so far. */
    public long rounds() {
        return rounds.get();
    }

    /** What went back or disappeared, one line each. */
    public List<String> wentBack() {
        return List.copyOf(wentBack);
    }

    /** Stops after the current round. */
    public void stop() {
        running.set(false);
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        RedisClusterAsyncCommands<byte[], byte[]> redis = RedisConnector.async(connection);
        while (running.get()) {
            try {
                round(redis);
                rounds.incrementAndGet();
            } catch (Exception e) { // Redis frozen or failing over: try again
                if (failures.incrementAndGet() % 10 == 1) {
                    log.info("RegressionWatcher: a round failed: {}", e.toString());
                }
                TestPipeline.sleep(200);
            }
            TestPipeline.sleep(100);
        }
    }

    private void round(RedisClusterAsyncCommands<byte[], byte[]> redis) throws Exception {
        List<String> keys = new ArrayList<>();
        for (Oracle.Expectation e : oracle.expectations()) {
            keys.add(e.key());
        }
        List<RedisFuture<Map<byte[], byte[]>>> replies = new ArrayList<>(keys.size());
        for (String key : keys) {
            replies.add(redis.hgetall(key.getBytes(StandardCharsets.UTF_8)));
        }
        List<Optional<CacheEntry>> entries = new ArrayList<>(keys.size());
        for (RedisFuture<Map<byte[], byte[]>> reply : replies) {
            Map<String, byte[]> hash = new HashMap<>();
            reply.get(5, TimeUnit.SECONDS).forEach((f, v) -> hash.put(new String(f, StandardCharsets.UTF_8), v));
            entries.add(CacheEntry.decode(hash));
        }
        // judged only once the whole round was read: a failed round judges nothing
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            Long before = highest.get(key);
            Optional<CacheEntry> entry = entries.get(i);
            if (entry.isPresent()) {
                long version = entry.get().version();
                if (before != null && version < before) {
                    wentBack.add(key + " went back from version " + before + " to " + version);
                } else {
                    highest.put(key, version);
                }
            } else if (before != null) {
                wentBack.add(key + " disappeared after version " + before);
            }
        }
    }

    @Override
    public void close() {
        stop();
        if (connection != null) {
            connection.close();
        }
        connector.close();
    }
}
