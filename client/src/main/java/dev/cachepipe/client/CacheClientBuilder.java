package dev.cachepipe.client;

import dev.cachepipe.client.internal.Check;
import dev.cachepipe.client.internal.ClientConfig;
import dev.cachepipe.client.internal.DefaultCacheClient;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisMode;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.support.redis.RedisTls;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Builds a {@link CacheClient}. Every setter validates its argument at once, with a message that names the setting,
 * the bound and the value; {@link #build()} only checks that the required settings are present and never changes the
 * builder, so one builder can build several clients.
 *
 * <p>Required: {@link #redisUri(String)} and {@link #bootstrapServers(String)}. Everything else has a default.
 */
public final class CacheClientBuilder {
    /** Default invalidations topic. */
    public static final String DEFAULT_INVALIDATIONS_TOPIC = "cachepipe.invalidations";
    /** Default L1 size per entity type. */
    public static final long DEFAULT_L1_MAXIMUM_SIZE = 10_000;
    /** Default L1 lifetime: the last bound on staleness should every invalidation be lost. */
    public static final Duration DEFAULT_L1_EXPIRE_AFTER_WRITE = Duration.ofMinutes(5);
    /** Default Redis command and connect timeout. */
    public static final Duration DEFAULT_REDIS_TIMEOUT = Duration.ofMillis(500);
    /** Default timeout of the listener's Kafka metadata and offset calls. */
    public static final Duration DEFAULT_KAFKA_TIMEOUT = Duration.ofSeconds(5);
    /** Default lifetime of a load lease. */
    public static final Duration DEFAULT_LEASE_TIME = Duration.ofSeconds(5);
    /** Default wait for another caller's or instance's load. */
    public static final Duration DEFAULT_LOAD_WAIT = Duration.ofSeconds(10);
    /** Default Redis TTL of values filled by loaders. */
    public static final Duration DEFAULT_FILL_TTL = Duration.ofMinutes(10);
    /** Default number of invalidations the listener may fall behind before it resyncs. */
    public static final long DEFAULT_LISTENER_MAX_LAG = 10_000;
    /** Default time the listener may be out of contact with Kafka before it resyncs. */
    public static final Duration DEFAULT_LISTENER_MAX_DISCONNECT = Duration.ofSeconds(30);

    /**
     * Consumer settings the listener owns: it reads every partition, from the end, with no group and no commits.
     * {@link #kafkaProperty(String, Object)} refuses them; pass a shared Kafka configuration on without them.
     */
    public static final Set<String> FORBIDDEN_KAFKA_PROPERTIES = Set.of(
            "group.id",
            "group.instance.id",
            "group.protocol",
            "enable.auto.commit",
            "auto.offset.reset",
            "key.deserializer",
            "value.deserializer",
            "bootstrap.servers");

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private String name;
    private String redisUri;
    private RedisMode redisMode = RedisMode.AUTO;
    private RedisTls redisTls = RedisTls.defaults();
    private String redisReadFrom = "master";
    private String redisUsername;
    private char[] redisPassword;
    private String keyPrefix = RedisLayout.DEFAULT_PREFIX;
    private String bootstrapServers;
    private final Map<String, Object> kafkaProperties = new LinkedHashMap<>();
    private String invalidationsTopic = DEFAULT_INVALIDATIONS_TOPIC;
    private long l1MaximumSize = DEFAULT_L1_MAXIMUM_SIZE;
    private Duration l1ExpireAfterWrite = DEFAULT_L1_EXPIRE_AFTER_WRITE;
    private MeterRegistry meterRegistry;
    private Duration redisTimeout = DEFAULT_REDIS_TIMEOUT;
    private Duration kafkaTimeout = DEFAULT_KAFKA_TIMEOUT;
    private Duration leaseTime = DEFAULT_LEASE_TIME;
    private Duration loadWait = DEFAULT_LOAD_WAIT;
    private Duration fillTtl = DEFAULT_FILL_TTL;
    private long listenerMaxLag = DEFAULT_LISTENER_MAX_LAG;
    private Duration listenerMaxDisconnect = DEFAULT_LISTENER_MAX_DISCONNECT;

    CacheClientBuilder() {}

    /**
     * The client's name: the {@code client} tag of its meters, its Kafka {@code client.id} and its thread names.
     * Default {@code cachepipe-client-<n>}, unique in this JVM. Two clients sharing a {@code MeterRegistry} need
     * different names.
     */
    public CacheClientBuilder name(String name) {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name must match " + NAME.pattern() + " but was '" + name + "'");
        }
        this.name = name;
        return this;
    }

    /**
     * The Redis that the pipeline writes: {@code redis://[[user]:password@]host[:port][/database]} or {@code
     * rediss://...} for TLS; for a Redis Cluster, one or more seed nodes, comma-separated ({@code
     * redis://h1:6379,redis://h2:6379}). Required. Credentials in the URI are never logged.
     */
    public CacheClientBuilder redisUri(String uri) {
        Objects.requireNonNull(uri, "redisUri");
        String lower = uri.toLowerCase(Locale.ROOT).trim();
        if (!lower.startsWith("redis://") && !lower.startsWith("rediss://")) {
            throw new IllegalArgumentException(
                    "redisUri must start with redis:// or rediss:// but was '" + Redact.credentials(uri) + "'");
        }
        parseRedisUris(uri);
        this.redisUri = uri;
        return this;
    }

    /**
     * In cluster mode, where entry reads ({@code get}, {@code getAll}) go: {@code master} (the default),
     * {@code replica-preferred} (a replica of the key's master if one is up, else the master) or {@code replica}.
     * Taking a lease, fills and releases always go to the master; a caller waiting for another's load reads the
     * lease (and then the entry) from a replica too, so it may see the load late and load itself. What replicas cost in freshness: a replica is behind its
     * master by the replication lag (usually under a millisecond, seconds under load or after a resync), so a read may
     * miss a write that was just announced. It never makes a read go back: a version older than one this client has
     * returned or seen in an invalidation is refused and read again (a miss after three tries), so such reads cost
     * more round trips. Worth it only when the masters' CPU, not the
     * network, is the limit; L1 usually spares more Redis reads than replicas can absorb. No effect on a standalone
     * Redis.
     */
    public CacheClientBuilder redisReadFrom(String readFrom) {
        Objects.requireNonNull(readFrom, "redisReadFrom");
        if (!ClientConfig.READ_FROM.contains(readFrom)) {
            throw new IllegalArgumentException(
                    "redisReadFrom must be master, replica-preferred or replica but was '" + readFrom + "'");
        }
        this.redisReadFrom = readFrom;
        return this;
    }

    /**
     * TLS for {@code rediss://} URIs beyond the JDK's defaults (the pipeline's {@code redis.tls.*}): {@code caFile}
     * (PEM CA certificates to trust instead of the JDK's trust store, or null), {@code certFile} and {@code keyFile}
     * (a client certificate chain and its unencrypted PKCS#8 key, PEM, for servers with {@code tls-auth-clients yes};
     * both or neither), {@code verifyPeer} ({@code full}: chain and host name, the default; {@code ca}: chain only;
     * {@code none}: tests only).
     *
     * @throws IllegalArgumentException if a file cannot be read or a value is not allowed
     */
    public CacheClientBuilder redisTls(Path caFile, Path certFile, Path keyFile, String verifyPeer) {
        this.redisTls = new RedisTls(caFile, certFile, keyFile, RedisTls.Verify.parse(verifyPeer));
        return this;
    }

    /**
     * {@code auto} (default: ask the server whether it is a cluster), {@code standalone} or {@code cluster}. In
     * cluster mode reads, leases and fills go to the master of each key's slot, a {@code getAll} is pipelined per
     * node, and the topology is refreshed on redirects and every 10 s. Reads always go to masters: a replica may be
     * behind the master by its replication lag, and a read from it could return a version older than one this client
     * already returned.
     */
    public CacheClientBuilder redisMode(String mode) {
        Objects.requireNonNull(mode, "redisMode");
        try {
            this.redisMode = RedisMode.parse(mode);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("redisMode must be auto, standalone or cluster but was '" + mode + "'");
        }
        return this;
    }

    /**
     * Credentials for Redis ACL ({@code AUTH username password}) or, with a {@code null} username, for {@code
     * requirepass}; they override credentials in the URI. The array is copied.
     */
    public CacheClientBuilder redisCredentials(String username, char[] password) {
        Objects.requireNonNull(password, "password");
        this.redisUsername = username;
        this.redisPassword = password.clone();
        return this;
    }

    /** The pipeline's key prefix (keys are {@code <keyPrefix>:<entityType>:<entityId>}). Default {@code cache}. */
    public CacheClientBuilder keyPrefix(String keyPrefix) {
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        if (!RedisLayout.isValidPrefix(keyPrefix)) {
            throw new IllegalArgumentException(
                    "keyPrefix must match [A-Za-z0-9_.{}-]+(:[A-Za-z0-9_.{}-]+)* but was '" + keyPrefix + "'");
        }
        this.keyPrefix = keyPrefix;
        return this;
    }

    /** The Kafka cluster carrying the invalidations topic, {@code host:port[,host:port...]}. Required. */
    public CacheClientBuilder bootstrapServers(String bootstrapServers) {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        if (bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrapServers must not be blank but was '" + bootstrapServers + "'");
        }
        this.bootstrapServers = bootstrapServers.strip();
        return this;
    }

    /**
     * One consumer property for the invalidation listener, e.g. {@code security.protocol}, {@code sasl.jaas.config},
     * {@code ssl.truststore.location}. The listener owns {@code group.id}, {@code group.instance.id}, {@code
     * group.protocol}, {@code enable.auto.commit}, {@code auto.offset.reset}, the deserializers and {@code
     * bootstrap.servers}: setting them is an error. Values are never logged.
     */
    public CacheClientBuilder kafkaProperty(String key, Object value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, () -> "value of kafka property " + key);
        if (FORBIDDEN_KAFKA_PROPERTIES.contains(key)) {
            throw new IllegalArgumentException("kafka property " + key + " cannot be set (the listener reads every"
                    + " partition from the end with no consumer group and no commits; use bootstrapServers(...)"
                    + " for the servers); allowed are all other consumer properties");
        }
        kafkaProperties.put(key, value);
        return this;
    }

    /** {@link #kafkaProperty(String, Object)} for each entry. */
    public CacheClientBuilder kafkaProperties(Map<String, ?> properties) {
        Objects.requireNonNull(properties, "properties");
        properties.forEach(this::kafkaProperty);
        return this;
    }

    /** The topic the cache writer publishes invalidations to. Default {@code cachepipe.invalidations}. */
    public CacheClientBuilder invalidationsTopic(String topic) {
        Objects.requireNonNull(topic, "invalidationsTopic");
        if (!TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
            throw new IllegalArgumentException(
                    "invalidationsTopic must be a Kafka topic name ([A-Za-z0-9._-]{1,249}) but was '" + topic + "'");
        }
        this.invalidationsTopic = topic;
        return this;
    }

    /** Maximum L1 entries per entity type; {@code 0} turns L1 off (every read goes to Redis). Default 10 000. */
    public CacheClientBuilder l1MaximumSize(long maximumSize) {
        this.l1MaximumSize = Check.atLeast("l1MaximumSize", maximumSize, 0);
        return this;
    }

    /**
     * How long an L1 entry lives after it was written or updated: the last bound on staleness, should invalidations
     * be lost in a way the listener cannot detect. Default 5 minutes.
     */
    public CacheClientBuilder l1ExpireAfterWrite(Duration duration) {
        this.l1ExpireAfterWrite = Check.positive("l1ExpireAfterWrite", duration);
        return this;
    }

    /** Where the client's meters go (prefix {@code cachepipe.client.}). Default: a private {@code SimpleMeterRegistry}. */
    public CacheClientBuilder meterRegistry(MeterRegistry registry) {
        this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
        return this;
    }

    /**
     * Timeout of every Redis command and of connecting; a read that takes longer counts as an L2 error and goes on as
     * a miss. Default 500 ms; at most 1 minute.
     */
    public CacheClientBuilder redisTimeout(Duration timeout) {
        Check.positive("redisTimeout", timeout);
        this.redisTimeout = Check.atMost("redisTimeout", timeout, Duration.ofMinutes(1));
        return this;
    }

    /** Timeout of the listener's Kafka metadata and offset calls. Default 5 s; at most 1 minute. */
    public CacheClientBuilder kafkaTimeout(Duration timeout) {
        Check.positive("kafkaTimeout", timeout);
        this.kafkaTimeout = Check.atMost("kafkaTimeout", timeout, Duration.ofMinutes(1));
        return this;
    }

    /**
     * Lifetime of the Redis lease that lets one instance load a cold key while the others wait; should exceed the
     * loader's usual duration (a longer load lets a second instance load too). Also how long a loader's "not found" is
     * shared with waiting instances. Default 5 s; at least 1 ms.
     */
    public CacheClientBuilder leaseTime(Duration leaseTime) {
        this.leaseTime = Check.atLeast("leaseTime", leaseTime, Duration.ofMillis(1));
        return this;
    }

    /**
     * How long a caller waits for a load that another caller in this client, or another instance, is running, before
     * it runs the loader itself. Default 10 s; 0 = never wait.
     */
    public CacheClientBuilder loadWait(Duration loadWait) {
        this.loadWait = Check.atLeast("loadWait", loadWait, Duration.ZERO);
        return this;
    }

    /** Redis TTL of values that loaders filled. Default 10 minutes; at least 1 ms. */
    public CacheClientBuilder fillTtl(Duration ttl) {
        this.fillTtl = Check.atLeast("fillTtl", ttl, Duration.ofMillis(1));
        return this;
    }

    /** Invalidations the listener may fall behind before it clears L1 and skips to the end. Default 10 000. */
    public CacheClientBuilder listenerMaxLag(long maxLag) {
        this.listenerMaxLag = Check.atLeast("listenerMaxLag", maxLag, 1);
        return this;
    }

    /**
     * How long the listener may be out of contact with Kafka before it clears L1; L1 then stays off (reads go to
     * Redis) until the listener is back. Default 30 s.
     */
    public CacheClientBuilder listenerMaxDisconnect(Duration duration) {
        this.listenerMaxDisconnect = Check.positive("listenerMaxDisconnect", duration);
        return this;
    }

    /**
     * Starts a client: connects to Redis (if Redis is down it keeps trying in the background; reads go on without
     * it) and starts the invalidation listener (L1 is used once the listener has found the end of every partition).
     *
     * @throws IllegalStateException if {@code redisUri} or {@code bootstrapServers} was not set
     */
    public CacheClient build() {
        return new DefaultCacheClient(config());
    }

    /** The validated configuration {@link #build()} would use (package-private for tests). */
    ClientConfig config() {
        if (redisUri == null) {
            throw new IllegalStateException("redisUri is required: call redisUri(\"redis://host:6379\")");
        }
        if (bootstrapServers == null) {
            throw new IllegalStateException("bootstrapServers is required: call bootstrapServers(\"host:9092\")");
        }
        RedisTarget target = parseRedisUris(redisUri);
        if (redisPassword != null) {
            target = RedisTarget.parse(redisUri, redisMode, redisUsername, redisPassword, redisTimeout);
        } else {
            target = new RedisTarget(target.seeds(), redisMode).withTimeout(redisTimeout);
        }
        target = target.withTls(redisTls);
        String clientName = name != null ? name : "cachepipe-client-" + SEQUENCE.incrementAndGet();
        return new ClientConfig(
                clientName,
                target,
                keyPrefix,
                bootstrapServers,
                Map.copyOf(kafkaProperties),
                invalidationsTopic,
                l1MaximumSize,
                l1ExpireAfterWrite,
                meterRegistry != null ? meterRegistry : new SimpleMeterRegistry(),
                redisTimeout,
                kafkaTimeout,
                leaseTime,
                loadWait,
                fillTtl,
                listenerMaxLag,
                listenerMaxDisconnect,
                redisReadFrom);
    }

    private static RedisTarget parseRedisUris(String uri) {
        try {
            return RedisTarget.parse(uri, RedisMode.AUTO, null, null, null);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("redisUri is not a valid Redis URI (redis://[[user]:password@]host"
                    + "[:port][/database] or rediss://..., comma-separated for cluster seeds): '"
                    + Redact.credentials(uri) + "'");
        }
    }
}
