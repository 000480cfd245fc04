package dev.cachepipe.app.runtime;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.support.redis.RedisMode;
import dev.cachepipe.support.redis.RedisTarget;
import io.lettuce.core.RedisURI;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka cluster and the Redis server that cachepipe talks to: the configured ones, or an in-process broker and
 * a local {@code redis-server} when the configuration says {@code embedded}. Closing it stops what it started.
 */
public final class Infrastructure implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Infrastructure.class);

    private final CachepipeConfig config;
    private final EmbeddedKafka embeddedKafka;
    private final RedisServer embeddedRedis;
    private final RedisCluster embeddedCluster;

    private Infrastructure(CachepipeConfig config, EmbeddedKafka kafka, RedisServer redis, RedisCluster cluster) {
        this.config = config;
        this.embeddedKafka = kafka;
        this.embeddedRedis = redis;
        this.embeddedCluster = cluster;
    }

    /** Starts the embedded servers the configuration asks for (their data is temporary). */
    public static Infrastructure start(CachepipeConfig config) {
        return start(config, 0);
    }

    /**
     * Starts the embedded servers the configuration asks for (their data is temporary); for an embedded Redis, a
     * Redis Cluster of {@code redisClusterMasters} masters with one replica each when that is above 0.
     */
    public static Infrastructure start(CachepipeConfig config, int redisClusterMasters) {
        EmbeddedKafka kafka = null;
        RedisServer redis = null;
        RedisCluster cluster = null;
        try {
            if (config.kafka().embedded()) {
                kafka = EmbeddedKafka.startTemporary();
                log.info("Started an embedded Kafka broker at {}", kafka.bootstrapServers());
            }
            if (config.redis().embedded()) {
                if (redisClusterMasters > 0) {
                    cluster = RedisCluster.start(redisClusterMasters, 1);
                    log.info(
                            "Started a local Redis Cluster of {} masters with a replica each: {}",
                            redisClusterMasters,
                            cluster.seeds());
                } else {
                    redis = RedisServer.start();
                    log.info("Started a local redis-server on port {}", redis.port());
                }
            }
            return new Infrastructure(config, kafka, redis, cluster);
        } catch (RuntimeException e) {
            if (kafka != null) {
                kafka.close();
            }
            if (redis != null) {
                redis.close();
            }
            if (cluster != null) {
                cluster.close();
            }
            throw e;
        }
    }

    /**
     * The configured Kafka and Redis, for a tool that works on a running deployment ({@code inspect}, {@code
     * rebuild}, {@code publish}): starts nothing, and refuses {@code embedded}, which would start new, empty servers.
     *
     * @throws IllegalStateException naming what to set, if a needed one is {@code embedded}
     */
    public static Infrastructure external(CachepipeConfig config, String command, boolean kafka, boolean redis) {
        if (kafka && config.kafka().embedded()) {
            throw new IllegalStateException(command + " needs a running Kafka, but kafka.bootstrapServers is 'embedded'"
                    + " (which would start a new, empty broker): set KAFKA_BOOTSTRAP_SERVERS=host:port (the bundled"
                    + " config reads it) or pass --config FILE");
        }
        if (redis && config.redis().embedded()) {
            throw new IllegalStateException(command + " needs a running Redis, but redis.uri is 'embedded' (which would"
                    + " start a new, empty redis-server): set REDIS_URI=redis://host:port (the bundled config reads it)"
                    + " or pass --config FILE");
        }
        return new Infrastructure(config, null, null, null);
    }

    /** {@code host:port,...} of the Kafka cluster. */
    public String bootstrapServers() {
        return embeddedKafka != null
                ? embeddedKafka.bootstrapServers()
                : config.kafka().bootstrapServers();
    }

    /** Client properties for every Kafka client: the configured ones plus {@code bootstrap.servers}. */
    public Map<String, Object> kafkaClientProperties() {
        Map<String, Object> props = new HashMap<>(config.kafka().properties());
        props.put("bootstrap.servers", bootstrapServers());
        return props;
    }

    /** The Redis URI with credentials and timeout applied (never log it: use {@link #redisDescription()}). */
    public RedisURI redisUri() {
        return redisTarget().first();
    }

    /**
     * Where Redis is (one server, or a cluster's seeds), with credentials, timeout and {@code redis.mode} applied
     * (never log it: use {@link #redisDescription()}).
     */
    public RedisTarget redisTarget() {
        String password = config.redis().password();
        return RedisTarget.parse(
                        redisUris(),
                        redisMode(),
                        config.redis().username(),
                        password == null || password.isEmpty() ? null : password.toCharArray(),
                        config.redis().timeout())
                .withTls(config.redis().tls());
    }

    /**
     * The Redis URIs as configured ({@code redis.uri}, one or several comma-separated, credentials as written there),
     * or those of the embedded server or cluster.
     */
    public String redisUris() {
        if (embeddedCluster != null) {
            return embeddedCluster.seeds();
        }
        return embeddedRedis != null ? embeddedRedis.uri() : config.redis().uri();
    }

    /** {@code redis.mode}, or what the embedded Redis is. */
    public RedisMode redisMode() {
        if (embeddedCluster != null) {
            return RedisMode.CLUSTER;
        }
        return embeddedRedis != null ? RedisMode.STANDALONE : config.redis().mode();
    }

    /** {@code redis://host:port[,host:port...]} of Redis, safe to log. */
    public String redisDescription() {
        return redisTarget().description();
    }

    /**
     * Where Kafka Streams keeps its local state: the configured directory, or a temporary one next to an embedded
     * broker (whose topics vanish with it, so its state must not outlive it either).
     */
    public java.nio.file.Path streamsStateDir() {
        return embeddedKafka != null
                ? embeddedKafka.dataDir().resolve("streams-state")
                : config.kafka().stateDir();
    }

    /** The embedded Redis process, if one was started (for the demo and tests). */
    public RedisServer embeddedRedis() {
        return embeddedRedis;
    }

    @Override
    public void close() {
        if (embeddedKafka != null) {
            embeddedKafka.close();
        }
        if (embeddedRedis != null) {
            embeddedRedis.close();
        }
        if (embeddedCluster != null) {
            embeddedCluster.close();
        }
    }
}
