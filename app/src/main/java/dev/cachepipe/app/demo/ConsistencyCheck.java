package dev.cachepipe.app.demo;

import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.RedisTarget;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Compares Redis with an {@link Oracle}: reads every expected key (pipelined {@code HGETALL} in batches), decodes it
 * with {@link CacheEntry#decode} and counts it consistent when it equals the expected entry, or when it is absent
 * and its TTL may have run out ("expired"). Opens its own Redis connection (lazily, reconnecting after a failure);
 * close it when done. Thread-safe.
 */
public final class ConsistencyCheck implements AutoCloseable {
    /** Keys read per pipelined batch. */
    public static final int BATCH_SIZE = 500;

    private static final Duration POLL_INTERVAL = Duration.ofMillis(500);

    private final Oracle oracle;
    private final RedisTarget target;
    private RedisConnector connector;
    private StatefulConnection<byte[], byte[]> connection;

    public ConsistencyCheck(RedisURI uri, Oracle oracle) {
        this(RedisTarget.of(uri), oracle);
    }

    /** Checks the Redis at {@code target}: one server or a cluster. */
    public ConsistencyCheck(RedisTarget target, Oracle oracle) {
        this.target = target;
        this.oracle = oracle;
    }

    /** One key whose Redis state differs from the oracle. */
    public record Mismatch(String key, String expected, String actual) {
        @Override
        public String toString() {
            return key + ": expected " + expected + ", Redis has " + actual;
        }
    }

    /**
     * The outcome of one check.
     *
     * @param consistent keys whose state is as expected, the expired ones included
     * @param total keys checked
     * @param expired keys that are absent because their TTL may have run out
     * @param mismatches every inconsistent key, in key order
     */
    public record Result(int consistent, int total, int expired, List<Mismatch> mismatches) {
        public Result {
            mismatches = List.copyOf(mismatches);
        }

        public int inconsistent() {
            return mismatches.size();
        }

        public boolean isConsistent() {
            return mismatches.isEmpty();
        }

        /** {@code consistent 5000/5000 (12 expired by TTL), 0 inconsistent}. */
        public String summary() {
            return "consistent " + consistent + "/" + total + " (" + expired + " expired by TTL), " + inconsistent()
                    + " inconsistent";
        }

        @Override
        public String toString() {
            return summary();
        }
    }

    /** Reads every expected key once and compares. One check at a time: concurrent callers wait. */
    public synchronized Result check() {
        List<Oracle.Expectation> expected = oracle.expectations();
        StatefulConnection<byte[], byte[]> c = connection();
        RedisClusterAsyncCommands<byte[], byte[]> redis = RedisConnector.async(c);
        int consistent = 0;
        int expired = 0;
        List<Mismatch> mismatches = new ArrayList<>();
        for (int from = 0; from < expected.size(); from += BATCH_SIZE) {
            List<Oracle.Expectation> batch = expected.subList(from, Math.min(expected.size(), from + BATCH_SIZE));
            long now = System.currentTimeMillis(); // before the reads: an absence seen later is at least this late
            List<RedisFuture<Map<byte[], byte[]>>> replies = new ArrayList<>(batch.size());
            for (Oracle.Expectation e : batch) {
                replies.add(redis.hgetall(e.key().getBytes(StandardCharsets.UTF_8)));
            }
            c.flushCommands();
            for (int i = 0; i < batch.size(); i++) {
                Oracle.Expectation e = batch.get(i);
                Optional<CacheEntry> actual;
                try {
                    actual = CacheEntry.decode(await(replies.get(i)));
                } catch (IllegalArgumentException ex) {
                    mismatches.add(new Mismatch(e.key(), e.describe(), ex.getMessage()));
                    continue;
                } catch (ExecutionException ex) {
                    mismatches.add(new Mismatch(
                            e.key(), e.describe(), "error: " + ex.getCause().getMessage()));
                    continue;
                }
                if (actual.equals(e.entry())) {
                    consistent++;
                } else if (actual.isEmpty() && e.mayHaveExpired(now)) {
                    consistent++;
                    expired++;
                } else {
                    mismatches.add(new Mismatch(
                            e.key(), e.describe(), actual.map(Oracle::describe).orElse("absent")));
                }
            }
        }
        return new Result(consistent, expected.size(), expired, mismatches);
    }

    /** Checks every half second until Redis is consistent or {@code timeout} passed; returns the last result. */
    public Result awaitConsistent(Duration timeout) {
        return awaitConsistent(timeout, r -> {});
    }

    /**
     * Like {@link #awaitConsistent(Duration)}, handing every intermediate result to {@code progress}. Returns early
     * (with the last result) if the thread is interrupted.
     */
    public Result awaitConsistent(Duration timeout, Consumer<Result> progress) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Result r;
            try {
                r = check();
            } catch (RedisException e) {
                if (System.nanoTime() - deadline >= 0) {
                    throw e;
                }
                r = null; // Redis not reachable (yet): keep polling
            }
            if (r != null) {
                progress.accept(r);
                if (r.isConsistent() || System.nanoTime() - deadline >= 0) {
                    return r;
                }
            }
            try {
                Thread.sleep(POLL_INTERVAL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return r != null ? r : check();
            }
        }
    }

    @Override
    public synchronized void close() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
        if (connector != null) {
            connector.close();
            connector = null;
        }
    }

    private synchronized StatefulConnection<byte[], byte[]> connection() {
        if (connection == null || !connection.isOpen()) {
            if (connector == null) {
                Duration timeout = target.first().getTimeout();
                connector = RedisConnector.create(target, timeout, Duration.ofMillis(100), Duration.ofSeconds(1));
            }
            connection = connector.connect();
            // One flush per batch on one server. Not on a cluster: a command redirected (MOVED, ASK) to a node after
            // the flush would wait for the next flush.
            connection.setAutoFlushCommands(RedisConnector.partitions(connection) != null);
        }
        return connection;
    }

    private Map<String, byte[]> await(RedisFuture<Map<byte[], byte[]>> f) throws ExecutionException {
        Duration timeout = target.first().getTimeout().plusSeconds(5);
        try {
            Map<byte[], byte[]> hash = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, byte[]> out = new HashMap<>(hash.size() * 2);
            hash.forEach((k, v) -> out.put(new String(k, StandardCharsets.UTF_8), v));
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ExecutionException(e);
        } catch (TimeoutException e) {
            throw new ExecutionException(new TimeoutException("no reply from Redis within " + timeout));
        }
    }
}
