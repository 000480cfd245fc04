package dev.cachepipe.support.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one way cachepipe connects to Redis: one set of Lettuce {@link ClientResources} (event loops, timers: expensive,
 * so one per writer, rebuild tool or client, shared by all its connections) and one {@link RedisClient} with the
 * options every part relies on:
 *
 * <ul>
 *   <li>fail fast: every command has a timeout, commands issued while disconnected are rejected at once;
 *   <li>reconnect by itself, with an exponential delay between {@code reconnectMin} and {@code reconnectMax};
 *   <li>connecting (the handshake included) is bounded by the same timeout, not the URI's default 60 s;
 *   <li>byte-array keys and values; commands flushed as they are issued.
 * </ul>
 *
 * <p>{@link #endpoint()} is what logs show; the URI itself is never logged (it may carry a password).
 */
public final class RedisConnector implements AutoCloseable {
    private final ClientResources resources;
    private final RedisClient client;
    private final RedisURI uri;
    private final String endpoint;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RedisConnector(RedisURI uri, Duration timeout, Duration reconnectMin, Duration reconnectMax) {
        this.endpoint = uri.getHost() + ":" + uri.getPort();
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(reconnectMin, reconnectMax, 2, TimeUnit.MILLISECONDS))
                .build();
        this.uri = RedisURI.builder(uri).withTimeout(timeout).build();
        RedisClient c = RedisClient.create(resources, this.uri);
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

    /**
     * A connector for {@code uri}; connects nothing yet.
     *
     * @param timeout of every command and of connecting
     * @param reconnectMin first delay before reconnecting a lost connection
     * @param reconnectMax longest delay between reconnect attempts
     */
    public static RedisConnector create(RedisURI uri, Duration timeout, Duration reconnectMin, Duration reconnectMax) {
        Objects.requireNonNull(uri, "uri");
        requirePositive("timeout", timeout);
        requirePositive("reconnectMin", reconnectMin);
        if (reconnectMax == null || reconnectMax.compareTo(reconnectMin) < 0) {
            throw new IllegalArgumentException(
                    "reconnectMax must be >= reconnectMin (" + reconnectMin + ") but was " + reconnectMax);
        }
        return new RedisConnector(uri, timeout, reconnectMin, reconnectMax);
    }

    /** Connects now, on the calling thread (at most the timeout). */
    public StatefulRedisConnection<byte[], byte[]> connect() {
        return client.connect(ByteArrayCodec.INSTANCE);
    }

    /** Connects in the background. */
    public CompletableFuture<StatefulRedisConnection<byte[], byte[]>> connectAsync() {
        return client.connectAsync(ByteArrayCodec.INSTANCE, uri).toCompletableFuture();
    }

    /** Runs {@code task} after {@code delay} on the connector's event executors (e.g. to connect again later). */
    public void schedule(Runnable task, Duration delay) {
        if (!closed.get()) {
            resources.eventExecutorGroup().schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** {@code host:port} of the server, safe to log. */
    public String endpoint() {
        return endpoint;
    }

    /** Closes every connection of this connector and releases its threads. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }

    private static void requirePositive(String name, Duration d) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be a positive duration but was " + d);
        }
    }
}
