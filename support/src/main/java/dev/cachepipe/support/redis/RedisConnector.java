package dev.cachepipe.support.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way cachepipe connects to Redis, standalone or Redis Cluster: one set of Lettuce {@link ClientResources}
 * (event loops, timers: expensive, so one per writer, rebuild tool or client, shared by all its connections) and one
 * Lettuce client with the options every part relies on:
 *
 * <ul>
 *   <li>fail fast: every command has a timeout, commands issued while disconnected are rejected at once (in cluster
 *       mode they wait for the node's connection, up to the timeout: node connections are made on first use);
 *   <li>reconnect by itself, with an exponential delay between {@code reconnectMin} and {@code reconnectMax};
 *   <li>connecting (the handshake included) is bounded by the same timeout, not the URI's default 60 s;
 *   <li>byte-array keys and values; commands flushed as they are issued;
 *   <li>in cluster mode: {@code MOVED}/{@code ASK} redirects followed, the topology refreshed on redirects, on
 *       reconnects and every {@link #TOPOLOGY_REFRESH_PERIOD}; commands go to the master of their key's slot;
 *       pipelined batches are split per node by Lettuce.
 * </ul>
 *
 * <p>The mode {@link RedisMode#AUTO} is resolved on the first connection, by {@code INFO cluster} on the first seed
 * that answers. Callers use {@link StatefulConnection} and {@link #async(StatefulConnection)}, which work the same
 * in both modes. {@link #endpoint()} is what logs show; URIs are never logged (they may carry a password).
 */
public final class RedisConnector implements AutoCloseable {
    /** How often a cluster connection refreshes its view of the topology even without a redirect. */
    public static final Duration TOPOLOGY_REFRESH_PERIOD = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(RedisConnector.class);

    private final ClientResources resources;
    private final RedisTarget target;
    private final Duration timeout;
    private final String endpoint;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final RedisClient client; // standalone, and the AUTO probe
    private volatile RedisClusterClient clusterClient; // once resolved to cluster
    private volatile Boolean cluster; // null until resolved

    private RedisConnector(RedisTarget target, Duration timeout, Duration reconnectMin, Duration reconnectMax) {
        this.target = target.withTimeout(timeout);
        for (RedisURI seed : this.target.seeds()) {
            if (seed.isSsl()) {
                seed.setVerifyPeer(target.tls().verify().lettuce());
            }
        }
        this.timeout = timeout;
        this.endpoint = this.target.description().replaceFirst("^rediss?://", "");
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(reconnectMin, reconnectMax, 2, TimeUnit.MILLISECONDS))
                .build();
        RedisClient c = RedisClient.create(resources, this.target.first());
        c.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .socketOptions(socketOptions())
                .sslOptions(this.target.tls().sslOptions())
                .build());
        this.client = c;
        switch (target.mode()) {
            case STANDALONE -> cluster = false;
            case CLUSTER -> cluster = true;
            case AUTO -> cluster = null;
        }
    }

    /**
     * A connector for {@code uri} in mode {@link RedisMode#AUTO}; connects nothing yet.
     *
     * @param timeout of every command and of connecting
     * @param reconnectMin first delay before reconnecting a lost connection
     * @param reconnectMax longest delay between reconnect attempts
     */
    public static RedisConnector create(RedisURI uri, Duration timeout, Duration reconnectMin, Duration reconnectMax) {
        Objects.requireNonNull(uri, "uri");
        return create(RedisTarget.of(uri), timeout, reconnectMin, reconnectMax);
    }

    /** A connector for {@code target} (standalone, cluster or auto); connects nothing yet. */
    public static RedisConnector create(
            RedisTarget target, Duration timeout, Duration reconnectMin, Duration reconnectMax) {
        Objects.requireNonNull(target, "target");
        requirePositive("timeout", timeout);
        requirePositive("reconnectMin", reconnectMin);
        if (reconnectMax == null || reconnectMax.compareTo(reconnectMin) < 0) {
            throw new IllegalArgumentException(
                    "reconnectMax must be >= reconnectMin (" + reconnectMin + ") but was " + reconnectMax);
        }
        return new RedisConnector(target, timeout, reconnectMin, reconnectMax);
    }

    /**
     * Connects now, on the calling thread (at most the timeout; in mode auto, first asks a seed which mode it is).
     * The connection is a {@link StatefulRedisConnection} in standalone mode and a {@link
     * StatefulRedisClusterConnection} in cluster mode.
     */
    public StatefulConnection<byte[], byte[]> connect() {
        if (isCluster()) {
            StatefulRedisClusterConnection<byte[], byte[]> c = clusterClient().connect(ByteArrayCodec.INSTANCE);
            c.setTimeout(timeout);
            return c;
        }
        return client.connect(ByteArrayCodec.INSTANCE);
    }

    /** Connects in the background. */
    public CompletableFuture<StatefulConnection<byte[], byte[]>> connectAsync() {
        Boolean c = cluster;
        if (c == null) {
            return CompletableFuture.supplyAsync(this::connect); // asks the server first: blocking
        }
        if (c) {
            return clusterClient()
                    .connectAsync(ByteArrayCodec.INSTANCE)
                    .thenApply(x -> (StatefulConnection<byte[], byte[]>) x)
                    .toCompletableFuture();
        }
        return client.connectAsync(ByteArrayCodec.INSTANCE, target.first())
                .thenApply(x -> (StatefulConnection<byte[], byte[]>) x)
                .toCompletableFuture();
    }

    /** The commands of a connection this connector made, in either mode. */
    @SuppressWarnings("unchecked")
    public static RedisClusterAsyncCommands<byte[], byte[]> async(StatefulConnection<byte[], byte[]> connection) {
        if (connection instanceof StatefulRedisClusterConnection<?, ?> c) {
            return ((StatefulRedisClusterConnection<byte[], byte[]>) c).async();
        }
        return ((StatefulRedisConnection<byte[], byte[]>) connection).async();
    }

    /**
     * The cluster's topology as the connection last saw it (slots and nodes), or null for a standalone connection.
     */
    public static Partitions partitions(StatefulConnection<byte[], byte[]> connection) {
        return connection instanceof StatefulRedisClusterConnection<?, ?> c ? c.getPartitions() : null;
    }

    /**
     * Whether Redis is a cluster: the configured mode, or (auto) what the first seed that answers says. Blocks the
     * first time in mode auto.
     *
     * @throws RedisException if no seed answers (mode auto, not resolved yet)
     */
    public boolean isCluster() {
        Boolean c = cluster;
        return c != null ? c : resolve();
    }

    private synchronized boolean resolve() {
        if (cluster != null) {
            return cluster;
        }
        RedisException last = null;
        for (RedisURI seed : target.seeds()) {
            try (StatefulRedisConnection<String, String> c = client.connect(StringCodec.UTF8, seed)) {
                boolean enabled;
                try {
                    enabled = c.sync().info("cluster").contains("cluster_enabled:1");
                } catch (RedisCommandExecutionException e) {
                    // e.g. an ACL user without INFO: only a cluster refuses data commands with MOVED later
                    log.debug("INFO cluster refused ({}); taking Redis for a standalone server", e.getMessage());
                    enabled = false;
                }
                cluster = enabled;
                log.info(
                        "Redis at {} is {} (redis.mode auto)",
                        seed.getHost() + ":" + seed.getPort(),
                        enabled ? "a cluster" : "a standalone server");
                return enabled;
            } catch (RedisConnectionException e) {
                last = e;
            }
        }
        throw last != null ? last : new RedisConnectionException("no Redis seed answered");
    }

    private RedisClusterClient clusterClient() {
        RedisClusterClient c = clusterClient;
        if (c != null) {
            return c;
        }
        synchronized (this) {
            if (clusterClient == null) {
                RedisClusterClient cc = RedisClusterClient.create(resources, target.seeds());
                cc.setOptions(ClusterClientOptions.builder()
                        .autoReconnect(true)
                        // Not REJECT_COMMANDS: a cluster connects to each node when it first needs it (and again
                        // after a topology change), and a command for a node still connecting would be rejected.
                        // Commands wait for the connection instead, bounded by the command timeout.
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                        .timeoutOptions(TimeoutOptions.enabled(timeout))
                        .socketOptions(socketOptions())
                        .sslOptions(target.tls().sslOptions())
                        .maxRedirects(5)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enablePeriodicRefresh(TOPOLOGY_REFRESH_PERIOD)
                                .enableAllAdaptiveRefreshTriggers()
                                .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
                                .build())
                        .build());
                clusterClient = cc;
            }
            return clusterClient;
        }
    }

    private SocketOptions socketOptions() {
        return SocketOptions.builder().connectTimeout(timeout).keepAlive(true).build();
    }

    /** Runs {@code task} after {@code delay} on the connector's event executors (e.g. to connect again later). */
    public void schedule(Runnable task, Duration delay) {
        if (!closed.get()) {
            resources.eventExecutorGroup().schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** {@code host:port} of the server (the seeds in cluster mode, comma-separated), safe to log. */
    public String endpoint() {
        return endpoint;
    }

    /** Where this connector connects (credentials included: never log it; its description is safe). */
    public RedisTarget target() {
        return target;
    }

    /** Closes every connection of this connector and releases its threads. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            RedisClusterClient cc = clusterClient;
            if (cc != null) {
                cc.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
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
