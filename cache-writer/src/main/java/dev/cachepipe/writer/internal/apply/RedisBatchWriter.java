package dev.cachepipe.writer.internal.apply;

import dev.cachepipe.schemas.Redact;
import dev.cachepipe.support.AccessDenied;
import dev.cachepipe.support.redis.Futures;
import dev.cachepipe.support.redis.LuaScript;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.ScriptCall;
import dev.cachepipe.support.redis.ScriptRunner;
import dev.cachepipe.writer.RedisScripts;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends batches of script calls over one dedicated connection, pipelined (one write for the whole batch), and waits
 * for all replies on the calling (writer) thread, never on Netty's event loop.
 *
 * <p>The connection comes from the driver's {@link RedisConnector}: it fails fast (every command has a timeout,
 * commands issued while disconnected are rejected at once) and reconnects by itself. A {@code NOSCRIPT} reply is
 * handled by the {@link ScriptRunner} within the same attempt. A reply that refuses the user ({@code NOPERM},
 * {@code WRONGPASS}, {@code NOAUTH}) throws {@link AccessDenied}: no retry helps. Used by one thread only.
 */
public final class RedisBatchWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisBatchWriter.class);

    private final RedisConnector connector;
    private final Duration timeout;
    private final List<LuaScript> alsoLoad;
    private StatefulConnection<byte[], byte[]> connection;
    private ScriptRunner scripts;
    private boolean cluster;
    private Shards shards;
    private String shardsPrefix;

    /** Result of one attempt: null failure means every sent write got a definite reply. */
    public record Attempt(int sent, int failed, String failure, long latencyNanos) {}

    /** Writes over a connection of {@code connector} (opened on first use; the connector stays the caller's). */
    public RedisBatchWriter(RedisConnector connector, Duration timeout) {
        this(connector, timeout, List.of());
    }

    /** Also loads {@code alsoLoad} on connecting (scripts of {@link BatchTrailer}s). */
    public RedisBatchWriter(RedisConnector connector, Duration timeout, List<LuaScript> alsoLoad) {
        this.connector = connector;
        this.timeout = timeout;
        this.alsoLoad = List.copyOf(alsoLoad);
    }

    /** {@code host:port} of the server, for logs (never the URI: it may carry a password). */
    public String endpoint() {
        return connector.endpoint();
    }

    /**
     * Connects and loads the scripts if not connected yet.
     *
     * @return null when ready, else why not
     */
    public String ensureConnected() {
        if (connection != null) {
            return null;
        }
        StatefulConnection<byte[], byte[]> c = null;
        try {
            c = connector.connect();
            ScriptRunner s = new ScriptRunner(c);
            List<LuaScript> load = new ArrayList<>(List.of(
                    RedisScripts.Script.UPSERT_ENTRY.lua(),
                    RedisScripts.Script.WRITE_TOMBSTONE.lua(),
                    RedisScripts.Script.WRITE_FENCE.lua()));
            load.addAll(alsoLoad);
            s.load(timeout, load);
            connection = c;
            scripts = s;
            cluster = connector.isCluster();
            log.debug("Connected to Redis at {}", endpoint());
            return null;
        } catch (RuntimeException e) {
            if (c != null) {
                c.closeAsync();
            }
            AccessDenied.check("Redis at " + endpoint() + " refused cachepipe's user", e);
            return "cannot connect to " + endpoint() + ": " + Redact.describe(e);
        }
    }

    /**
     * Sends every write that is not {@link PendingWrite#done()} as one pipelined batch and records each definite
     * reply. Writes whose outcome is unknown are marked so.
     */
    public Attempt attempt(List<PendingWrite> writes) {
        return attempt(writes, BatchTrailer.none());
    }

    /**
     * Like {@link #attempt(List)}, with the {@code trailer}'s calls after the writes in the same pipeline. The attempt
     * fails unless every write is done and the trailer was answered in this very attempt.
     */
    public Attempt attempt(List<PendingWrite> writes, BatchTrailer trailer) {
        return end(begin(writes, trailer));
    }

    /**
     * Script calls handed to the connection, whose replies {@link #end} collects. Between the two the caller may do
     * other work (a rebuild decodes its next batch while Redis runs this one).
     */
    public record Sent(
            List<PendingWrite> writes,
            String notReady,
            List<PendingWrite> todo,
            List<ScriptCall> trailer,
            Consumer<long[]> trailerAnswered,
            List<CompletableFuture<Long>> futures,
            long[] ackAt,
            long t0) {}

    /** Sends, as one pipelined batch, every write that is not {@link PendingWrite#done()}, then the trailer's calls. */
    public Sent begin(List<PendingWrite> writes, BatchTrailer trailer) {
        String notReady = ensureConnected();
        if (notReady != null) {
            return new Sent(writes, notReady, null, null, null, null, null, 0);
        }
        long t0 = System.nanoTime();
        List<PendingWrite> todo = writes.stream().filter(w -> !w.done()).toList();
        List<ScriptCall> trailerCalls = trailer.calls();
        int n = todo.size();
        List<ScriptCall> calls = new ArrayList<>(n + trailerCalls.size());
        for (PendingWrite w : todo) {
            calls.add(RedisScripts.call(w.mutation()));
        }
        List<CompletableFuture<Long>> futures;
        if (cluster && !trailerCalls.isEmpty()) {
            // A cluster splits a pipeline per node and slot, and a redirected write reaches its node later: only
            // writes already acknowledged are surely ahead of the trailer on their node.
            futures = new ArrayList<>(scripts.callAll(calls));
            awaitEach(futures);
            boolean allDone = futures.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
            if (allDone) {
                futures.addAll(scripts.callAll(trailerCalls));
            } else {
                for (int i = 0; i < trailerCalls.size(); i++) {
                    futures.add(CompletableFuture.failedFuture(
                            new IllegalStateException("not sent: the batch's writes did not all succeed")));
                }
            }
        } else {
            calls.addAll(trailerCalls);
            futures = scripts.callAll(calls);
        }
        long[] ackAt = new long[n];
        for (int i = 0; i < n; i++) {
            int index = i;
            // Runs on the event loop: only takes the time of the reply.
            futures.get(i).whenComplete((r, e) -> ackAt[index] = System.currentTimeMillis());
        }
        return new Sent(writes, null, todo, trailerCalls, trailer::answered, futures, ackAt, t0);
    }

    /**
     * Waits for the replies of {@code sent} and records each definite one; writes whose outcome is unknown are marked
     * so. The attempt fails unless every write is done and the trailer was answered.
     */
    public Attempt end(Sent sent) {
        if (sent.notReady() != null) {
            return new Attempt(0, sent.writes().size(), sent.notReady(), 0);
        }
        String failure = collect(sent.todo(), sent.trailer(), sent.trailerAnswered(), sent.futures(), sent.ackAt());
        long latency = System.nanoTime() - sent.t0();
        int failed = (int) sent.writes().stream().filter(w -> !w.done()).count();
        return new Attempt(sent.todo().size(), failed, failure, latency);
    }

    /**
     * Waits for the pipeline's replies: the writes', then the trailer's, which go to {@code trailerAnswered} if all of
     * them came. Returns the first failure (of a write or of the trailer), or null.
     */
    private String collect(
            List<PendingWrite> todo,
            List<ScriptCall> trailer,
            Consumer<long[]> trailerAnswered,
            List<CompletableFuture<Long>> futures,
            long[] ackAt) {
        int n = todo.size();
        awaitEach(futures);
        String failure = null;
        boolean reconnect = false;
        for (int i = 0; i < n; i++) {
            CompletableFuture<Long> f = futures.get(i);
            PendingWrite w = todo.get(i);
            if (!f.isDone()) {
                w.outcomeUnknown();
                failure = failure == null ? "no reply within " + timeout : failure;
                continue;
            }
            try {
                Long reply = f.get();
                w.replied(reply, ackAt[i] != 0 ? ackAt[i] : System.currentTimeMillis());
            } catch (ExecutionException e) {
                Throwable cause = Futures.unwrap(e);
                AccessDenied.check("Redis at " + endpoint() + " refused a cache write", cause);
                // Timeout, connection lost, or an error reply: it may have run. A replica's READONLY reply (e.g.
                // after a failover behind a DNS name) did not, but reconnecting finds the new primary.
                w.outcomeUnknown();
                reconnect |= isReadOnlyReply(cause);
                failure = failure == null ? Redact.describe(cause) : failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                w.outcomeUnknown();
                failure = "interrupted";
            } catch (CancellationException e) {
                w.outcomeUnknown();
                failure = failure == null ? "cancelled" : failure;
            }
        }
        long[] trailerReplies = new long[trailer.size()];
        String trailerFailure = null;
        for (int i = 0; i < trailer.size() && trailerFailure == null; i++) {
            CompletableFuture<Long> f = futures.get(n + i);
            if (!f.isDone()) {
                trailerFailure = "no reply within " + timeout;
                continue;
            }
            try {
                Long reply = f.get();
                trailerReplies[i] = reply == null ? 0 : reply;
            } catch (ExecutionException e) {
                Throwable cause = Futures.unwrap(e);
                reconnect |= isReadOnlyReply(cause);
                trailerFailure = Redact.describe(cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                trailerFailure = "interrupted";
            } catch (CancellationException e) {
                trailerFailure = "cancelled";
            }
        }
        if (trailerFailure == null) {
            if (failure == null && !trailer.isEmpty()) {
                trailerAnswered.accept(trailerReplies);
            }
        } else if (failure == null) {
            failure = trailerFailure;
        }
        if (reconnect) {
            log.info("Redis at {} is read-only (a replica); reconnecting", endpoint());
            dropConnection();
        }
        return failure;
    }

    private static boolean isReadOnlyReply(Throwable cause) {
        return cause instanceof RedisCommandExecutionException
                && cause.getMessage() != null
                && cause.getMessage().startsWith("READONLY");
    }

    /**
     * Waits until every future is done or the deadline passed. Not {@code CompletableFuture.allOf}: that fails at the
     * first failed future, before the rest of the pipeline has answered.
     */
    private void awaitEach(List<CompletableFuture<Long>> futures) {
        // Each command times out by itself after `timeout`; the margin only guards against a lost timer.
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
        for (CompletableFuture<Long> f : futures) {
            long left = deadline - System.nanoTime();
            if (f.isDone() || left <= 0) {
                continue;
            }
            try {
                f.get(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | java.util.concurrent.TimeoutException | CancellationException e) {
                // judged by the caller
            }
        }
    }

    /**
     * The script runner of the connection now, reconnecting if the last one was dropped (e.g. after a READONLY reply),
     * for other scripts over the same connection (the self-healing marker).
     *
     * @throws IllegalStateException if Redis cannot be reached
     */
    public ScriptRunner currentScripts() {
        String failure = ensureConnected();
        if (failure != null) {
            throw new IllegalStateException("Redis unavailable: " + failure);
        }
        return scripts;
    }

    /**
     * The shards of Redis as the current connection sees them (one for a standalone server, one per master of a
     * cluster), or null when Redis cannot be reached.
     */
    public List<Shard> shards(String keyPrefix) {
        if (ensureConnected() != null) {
            return null;
        }
        if (shards == null || !java.util.Objects.equals(shardsPrefix, keyPrefix)) {
            shards = new Shards(keyPrefix, timeout);
            shardsPrefix = keyPrefix;
        }
        return shards.of(connection);
    }

    /** Whether Redis is a cluster (known once connected). */
    public boolean cluster() {
        return cluster;
    }

    /**
     * Checks that Redis answers a PING within the timeout.
     *
     * @return null when it does, else why not
     */
    public String ping() {
        String notReady = ensureConnected();
        if (notReady != null) {
            return notReady;
        }
        RedisFuture<String> f = RedisConnector.async(connection).ping();
        try {
            f.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            return null;
        } catch (ExecutionException e) {
            AccessDenied.check("Redis at " + endpoint() + " refused PING", e.getCause());
            return Redact.describe(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            return "no reply to PING within " + timeout;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private void dropConnection() {
        connection.closeAsync();
        connection = null;
        scripts = null;
    }

    /** Closes this writer's connection (not the connector). */
    @Override
    public void close() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (RuntimeException e) {
            log.debug("Closing the Redis connection failed", e);
        }
    }
}
