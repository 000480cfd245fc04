package dev.cachepipe.client.internal;

import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisTarget;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a {@link DefaultCacheClient} needs, validated; made by {@code CacheClientBuilder.build()}. Not API.
 *
 * @param name the client's name: meter tag {@code client}, Kafka {@code client.id}, thread names
 * @param redisTarget where L2 lives (one server or cluster seeds, and the mode), credentials included (never log
 *     it: use {@link #redisEndpoint()})
 * @param keyPrefix the pipeline's key prefix
 * @param bootstrapServers the Kafka cluster carrying the invalidations
 * @param kafkaProperties extra consumer properties (security etc.), already checked against the forbidden keys
 * @param invalidationsTopic the invalidations topic
 * @param l1MaximumSize L1 entries per entity type; 0 = no L1
 * @param l1ExpireAfterWrite L1 lifetime of an entry since it was written or updated
 * @param meterRegistry where meters go
 * @param redisTimeout timeout of every Redis command and of connecting
 * @param kafkaTimeout timeout of the listener's metadata and offset calls
 * @param leaseTime lifetime of a load lease (and of a shared "not found")
 * @param loadWait how long a caller waits for another caller's or instance's load before loading itself
 * @param fillTtl Redis TTL of entries filled by loaders
 * @param listenerMaxLag invalidations the listener may be behind before it resyncs
 * @param listenerMaxDisconnect how long the listener may be out of contact before it resyncs
 * @param redisReadFrom in cluster mode, where entry reads go: {@code master} (default), {@code replica-preferred} or
 *     {@code replica}; leases, fills and releases always go to masters
 */
public record ClientConfig(
        String name,
        RedisTarget redisTarget,
        String keyPrefix,
        String bootstrapServers,
        Map<String, Object> kafkaProperties,
        String invalidationsTopic,
        long l1MaximumSize,
        Duration l1ExpireAfterWrite,
        MeterRegistry meterRegistry,
        Duration redisTimeout,
        Duration kafkaTimeout,
        Duration leaseTime,
        Duration loadWait,
        Duration fillTtl,
        long listenerMaxLag,
        Duration listenerMaxDisconnect,
        String redisReadFrom) {

    public ClientConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(redisTarget, "redisTarget");
        if (!RedisLayout.isValidPrefix(keyPrefix)) {
            throw new IllegalArgumentException(
                    "keyPrefix must match [A-Za-z0-9_.{}-]+(:[A-Za-z0-9_.{}-]+)* but was '" + keyPrefix + "'");
        }
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        kafkaProperties = Map.copyOf(kafkaProperties);
        Objects.requireNonNull(invalidationsTopic, "invalidationsTopic");
        Check.atLeast("l1MaximumSize", l1MaximumSize, 0);
        Check.positive("l1ExpireAfterWrite", l1ExpireAfterWrite);
        Objects.requireNonNull(meterRegistry, "meterRegistry");
        Check.positive("redisTimeout", redisTimeout);
        Check.positive("kafkaTimeout", kafkaTimeout);
        Check.atLeast("leaseTime", leaseTime, Duration.ofMillis(1));
        Check.atLeast("loadWait", loadWait, Duration.ZERO);
        Check.atLeast("fillTtl", fillTtl, Duration.ofMillis(1));
        Check.atLeast("listenerMaxLag", listenerMaxLag, 1);
        Check.positive("listenerMaxDisconnect", listenerMaxDisconnect);
        if (!READ_FROM.contains(redisReadFrom)) {
            throw new IllegalArgumentException(
                    "redisReadFrom must be master, replica-preferred or replica but was '" + redisReadFrom + "'");
        }
    }

    /** The values {@link #redisReadFrom} may take. */
    public static final java.util.List<String> READ_FROM = java.util.List.of("master", "replica-preferred", "replica");

    /** {@code host:port} of Redis, safe to log. */
    public String redisEndpoint() {
        return redisTarget.description().replaceFirst("^rediss?://", "");
    }

    /** The first seed (the server, in standalone mode). */
    public RedisURI redisUri() {
        return redisTarget.first();
    }

    @Override
    public String toString() {
        return "ClientConfig[name=" + name + ", redis=" + redisTarget.description() + " ("
                + redisTarget.mode().configName() + "), keyPrefix=" + keyPrefix + ", bootstrapServers="
                + bootstrapServers
                + ", invalidationsTopic=" + invalidationsTopic + ", l1MaximumSize=" + l1MaximumSize
                + ", l1ExpireAfterWrite=" + l1ExpireAfterWrite + ", redisTimeout=" + redisTimeout + ", kafkaTimeout="
                + kafkaTimeout + ", leaseTime=" + leaseTime + ", loadWait=" + loadWait + ", fillTtl=" + fillTtl
                + ", listenerMaxLag=" + listenerMaxLag + ", listenerMaxDisconnect=" + listenerMaxDisconnect
                + ", redisReadFrom=" + redisReadFrom + "]";
    }
}
