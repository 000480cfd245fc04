package dev.cachepipe.writer.internal;

import dev.cachepipe.schemas.Redact;
import dev.cachepipe.writer.RedisScripts;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends batches of script calls over one dedicated connection, pipelined ({@code setAutoFlushCommands(false)} +
 * {@code flushCommands()}), and waits for all replies on the calling (writer) thread, never on Netty's event loop.
 *
 * <p>The client fails fast: every command has a timeout ({@code redisTimeout}), commands issued while disconnected
 * are rejected at once, and the connection reconnects by itself. A {@code NOSCRIPT} reply (Redis restarted or its
 * script cache was flushed) reloads the scripts and resends those calls once within the same attempt. Used by the
 * writer thread only.
 */
final class RedisBatchWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisBatchWriter.class);

    private final ClientResources resources;
    private final RedisClient client;
    private final RedisURI uri;
    private final Duration timeout;
    private final String endpoint;
    private StatefulRedisConnection<byte[], byte[]> connection;
    private RedisScripts scripts;

    /** Result of one attempt: null failure means every sent write got a definite reply. */
    record Attempt(int sent, int failed, String failure, long latencyNanos) {}

    RedisBatchWriter(RedisURI redisUri, Duration timeout, Duration reconnectMin, Duration reconnectMax) {
        this.timeout = timeout;
        this.endpoint = redisUri.getHost() + ":" + redisUri.getPort();
        // A copy: connecting (handshake included) must not wait for the URI's default 60 s.
        this.uri = RedisURI.builder(redisUri).withTimeout(timeout).build();
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(reconnectMin, reconnectMax, 2, TimeUnit.MILLISECONDS))
                .build();
        RedisClient c = RedisClient.create(resources, uri);
        c.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(timeout)
                        .keepAlive(true)
                        .build())
                .build());
        this.client = c;
    }

    /** {@code host:port} of the server, for logs (never the URI: it may carry a password). */
    String endpoint() {
        return endpoint;
    }

    /**
     * Connects and loads the scripts if not connected yet.
     *
     * @return null when ready, else why not
     */
    String ensureConnected() {
        if (connection != null) {
            return null;
        }
        StatefulRedisConnection<byte[], byte[]> c = null;
        try {
            c = client.connect(ByteArrayCodec.INSTANCE);
            c.setAutoFlushCommands(false);
            RedisScripts s = new RedisScripts(c);
            s.load(timeout);
            connection = c;
            scripts = s;
            log.debug("Connected to Redis at {}", endpoint);
            return null;
        } catch (RuntimeException e) {
            if (c != null) {
                c.closeAsync();
            }
            return "cannot connect to " + endpoint + ": " + Redact.describe(e);
        }
    }

    /**
     * Sends every write that is not {@link PendingWrite#done()} as one pipelined batch and records each definite
     * reply. Writes whose outcome is unknown are marked so. NOSCRIPT replies reload the scripts and are resent once.
     */
    Attempt attempt(List<PendingWrite> writes) {
        String notReady = ensureConnected();
        if (notReady != null) {
            return new Attempt(0, writes.size(), notReady, 0);
        }
        long t0 = System.nanoTime();
        List<PendingWrite> todo = writes.stream().filter(w -> !w.done()).toList();
        int sent = todo.size();
        String failure = null;
        for (int round = 0; round < 2 && !todo.isEmpty(); round++) {
            List<PendingWrite> noScript = new ArrayList<>();
            failure = send(todo, noScript);
            if (noScript.isEmpty() || round == 1) {
                break;
            }
            // Redis lost its script cache: load again and resend only those calls.
            log.info("Redis at {} lost its scripts (NOSCRIPT); loading them again", endpoint);
            try {
                scripts.load(timeout);
            } catch (RuntimeException e) {
                failure = "cannot load scripts into " + endpoint + ": " + Redact.describe(e);
                break;
            }
            todo = noScript;
            sent += todo.size();
        }
        long latency = System.nanoTime() - t0;
        int failed = (int) writes.stream().filter(w -> !w.done()).count();
        return new Attempt(sent, failed, failed == 0 ? null : failure, latency);
    }

    /** One pipelined round trip. Returns the first failure (or null); collects NOSCRIPT failures. */
    private String send(List<PendingWrite> todo, List<PendingWrite> noScript) {
        int n = todo.size();
        List<RedisFuture<Long>> futures = new ArrayList<>(n);
        long[] ackAt = new long[n];
        String failure = null;
        for (int i = 0; i < n; i++) {
            final int index = i;
            RedisFuture<Long> f;
            try {
                f = scripts.apply(todo.get(i).mutation);
            } catch (RuntimeException e) {
                // Rejected before it was written (e.g. disconnected); futures normally carry such failures.
                f = null;
                todo.get(i).outcomeUnknown();
                failure = failure == null ? Redact.describe(e) : failure;
            }
            if (f != null) {
                // Runs on the event loop: only takes the time of the reply.
                f.whenComplete((r, e) -> ackAt[index] = System.currentTimeMillis());
            }
            futures.add(f);
        }
        connection.flushCommands();
        awaitEach(futures);
        boolean reconnect = false;
        for (int i = 0; i < n; i++) {
            RedisFuture<Long> f = futures.get(i);
            if (f == null) {
                continue;
            }
            PendingWrite w = todo.get(i);
            if (!f.isDone()) {
                w.outcomeUnknown();
                failure = failure == null ? "no reply within " + timeout : failure;
                continue;
            }
            try {
                Long reply = f.get();
                w.replied(reply, ackAt[i] != 0 ? ackAt[i] : System.currentTimeMillis());
            } catch (ExecutionException | CompletionException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                if (cause instanceof RedisNoScriptException) {
                    noScript.add(w); // definitely not run
                } else if (isReadOnlyReply(cause)) {
                    // A replica answered (e.g. after a failover behind a DNS name): not run. Reconnect, so the
                    // name is resolved again and the new primary is found.
                    w.outcomeUnknown();
                    reconnect = true;
                } else {
                    // Timeout, connection lost, or an error reply: it may have run.
                    w.outcomeUnknown();
                }
                failure = failure == null ? Redact.describe(cause) : failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                w.outcomeUnknown();
                failure = "interrupted";
            } catch (java.util.concurrent.CancellationException e) {
                w.outcomeUnknown();
                failure = failure == null ? "cancelled" : failure;
            }
        }
        if (reconnect) {
            log.info("Redis at {} is read-only (a replica); reconnecting", endpoint);
            connection.closeAsync();
            connection = null;
            scripts = null;
        }
        return failure;
    }

    private static boolean isReadOnlyReply(Throwable cause) {
        return cause instanceof io.lettuce.core.RedisCommandExecutionException
                && cause.getMessage() != null
                && cause.getMessage().startsWith("READONLY");
    }

    /**
     * Waits until every future is done or the deadline passed. Not {@code LettuceFutures.awaitAll}: that returns at
     * the first failed future, before the rest of the pipeline has answered.
     */
    private void awaitEach(List<RedisFuture<Long>> futures) {
        // Each command times out by itself after `timeout`; the margin only guards against a lost timer.
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
        for (RedisFuture<Long> f : futures) {
            if (f == null || f.isDone()) {
                continue;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                f.await(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * The self-healing marker under {@code keyPrefix}, called over this writer's connection (same thread rules).
     *
     * @return null when Redis is not reachable
     */
    Marker marker(String keyPrefix) {
        if (ensureConnected() != null) {
            return null;
        }
        return new Marker(this::currentConnection, keyPrefix, timeout);
    }

    /** The connection now, reconnecting if the last one was dropped; throws if Redis cannot be reached. */
    private StatefulRedisConnection<byte[], byte[]> currentConnection() {
        String failure = ensureConnected();
        if (failure != null) {
            throw new IllegalStateException("Redis unavailable: " + failure);
        }
        return connection;
    }

    /**
     * Checks that Redis answers a PING within the timeout.
     *
     * @return null when it does, else why not
     */
    String ping() {
        String notReady = ensureConnected();
        if (notReady != null) {
            return notReady;
        }
        RedisFuture<String> f = connection.async().ping();
        connection.flushCommands();
        try {
            f.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            return null;
        } catch (ExecutionException e) {
            return Redact.describe(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            return "no reply to PING within " + timeout;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public void close() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (RuntimeException e) {
            log.debug("Closing the Redis connection failed", e);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
