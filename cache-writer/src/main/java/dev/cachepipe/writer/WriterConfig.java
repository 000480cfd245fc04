package dev.cachepipe.writer;

import dev.cachepipe.schemas.RedisLayout;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Configuration of a {@link CacheWriter}. Start from {@link #defaults} and adjust with the {@code with...} copies.
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param kafkaProperties extra Kafka client settings (security, timeouts, ...) given to both the consumer and the
 *     producer; keys that only one of them knows go only to that one. Settings the writer's guarantees rest on
 *     (group id, auto commit, isolation level, serializers, transactions) cannot be overridden here.
 * @param groupId consumer group of the writer
 * @param mutationsTopic topic the {@code CacheMutation} records are read from
 * @param invalidationsTopic topic the {@code CacheInvalidation} records are published to
 * @param maxBatchSize most records per poll, and so most Redis commands per pipelined batch
 * @param redisTimeout timeout of each Redis command and of connecting to Redis
 * @param retryBackoffMin first delay before retrying after Redis or Kafka failed
 * @param retryBackoffMax longest delay between retries (the delay doubles up to here)
 * @param keyPrefix the Redis key prefix the mutations write under ({@code <keyPrefix>:<entityType>:<id>}); it also
 *     names the self-healing marker key {@code <keyPrefix>:@cachepipe} (see {@link CacheRebuild}). {@code null}
 *     (what the nine-argument constructor and {@link #defaults} give) turns self-healing off: the writer then never
 *     looks for the marker and never rebuilds by itself
 * @param markerCheckInterval how often the writer checks the marker (it also checks at start-up and whenever Redis
 *     answers again after an outage); ignored while {@code keyPrefix} is {@code null}
 */
public record WriterConfig(
        String bootstrapServers,
        Map<String, String> kafkaProperties,
        String groupId,
        String mutationsTopic,
        String invalidationsTopic,
        int maxBatchSize,
        Duration redisTimeout,
        Duration retryBackoffMin,
        Duration retryBackoffMax,
        String keyPrefix,
        Duration markerCheckInterval) {

    public static final String DEFAULT_GROUP_ID = "cachepipe-writer";
    public static final int DEFAULT_MAX_BATCH_SIZE = 500;
    public static final Duration DEFAULT_REDIS_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_RETRY_BACKOFF_MIN = Duration.ofMillis(100);
    public static final Duration DEFAULT_RETRY_BACKOFF_MAX = Duration.ofSeconds(10);
    public static final Duration DEFAULT_MARKER_CHECK_INTERVAL = Duration.ofSeconds(5);

    /**
     * Kafka settings the writer sets itself; {@code kafkaProperties} must not contain them: where it reads and which
     * group it is, how records are (de)serialized, and what "acknowledged" means (commits after Redis, read_committed,
     * acks=all, idempotent, no transactions).
     */
    public static final Set<String> RESERVED_KAFKA_PROPERTIES = union(
            Set.of("bootstrap.servers", "group.id"),
            Set.of("key.deserializer", "value.deserializer", "key.serializer", "value.serializer"),
            Set.of("enable.auto.commit", "isolation.level", "acks", "enable.idempotence", "transactional.id"));

    public WriterConfig {
        requireText("bootstrapServers", bootstrapServers);
        Objects.requireNonNull(kafkaProperties, "kafkaProperties must not be null (use Map.of())");
        kafkaProperties.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException(
                        "kafkaProperties must not hold null keys or values but had " + k + "=" + v);
            }
            if (RESERVED_KAFKA_PROPERTIES.contains(k)) {
                throw new IllegalArgumentException("kafkaProperties must not set '" + k + "' (was '" + v
                        + "'): the writer sets it itself; reserved keys are " + RESERVED_KAFKA_PROPERTIES);
            }
        });
        kafkaProperties = Map.copyOf(kafkaProperties);
        requireText("groupId", groupId);
        requireText("mutationsTopic", mutationsTopic);
        requireText("invalidationsTopic", invalidationsTopic);
        if (mutationsTopic.equals(invalidationsTopic)) {
            throw new IllegalArgumentException(
                    "invalidationsTopic must differ from mutationsTopic but both were '" + mutationsTopic + "'");
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1 but was " + maxBatchSize);
        }
        requirePositive("redisTimeout", redisTimeout);
        requirePositive("retryBackoffMin", retryBackoffMin);
        requirePositive("retryBackoffMax", retryBackoffMax);
        if (retryBackoffMax.compareTo(retryBackoffMin) < 0) {
            throw new IllegalArgumentException(
                    "retryBackoffMax must be >= retryBackoffMin (" + retryBackoffMin + ") but was " + retryBackoffMax);
        }
        if (keyPrefix != null && !RedisLayout.isValidPrefix(keyPrefix)) {
            throw new IllegalArgumentException("keyPrefix must be null (self-healing off) or letters, digits and"
                    + " . _ - { } in segments separated by ':' but was '" + keyPrefix + "'");
        }
        requirePositive("markerCheckInterval", markerCheckInterval);
    }

    /**
     * The configuration without a key prefix, so without self-healing (source compatible with the first version of
     * this record).
     */
    public WriterConfig(
            String bootstrapServers,
            Map<String, String> kafkaProperties,
            String groupId,
            String mutationsTopic,
            String invalidationsTopic,
            int maxBatchSize,
            Duration redisTimeout,
            Duration retryBackoffMin,
            Duration retryBackoffMax) {
        this(
                bootstrapServers,
                kafkaProperties,
                groupId,
                mutationsTopic,
                invalidationsTopic,
                maxBatchSize,
                redisTimeout,
                retryBackoffMin,
                retryBackoffMax,
                null,
                DEFAULT_MARKER_CHECK_INTERVAL);
    }

    /** Whether the writer checks the marker and rebuilds Redis by itself after data loss. */
    public boolean selfHealing() {
        return keyPrefix != null;
    }

    /** A configuration with the default group id, batch size, Redis timeout and retry backoff. */
    public static WriterConfig defaults(String bootstrapServers, String mutationsTopic, String invalidationsTopic) {
        return new WriterConfig(
                bootstrapServers,
                Map.of(),
                DEFAULT_GROUP_ID,
                mutationsTopic,
                invalidationsTopic,
                DEFAULT_MAX_BATCH_SIZE,
                DEFAULT_REDIS_TIMEOUT,
                DEFAULT_RETRY_BACKOFF_MIN,
                DEFAULT_RETRY_BACKOFF_MAX);
    }

    public WriterConfig withKafkaProperties(Map<String, String> properties) {
        return new WriterConfig(
                bootstrapServers,
                properties,
                groupId,
                mutationsTopic,
                invalidationsTopic,
                maxBatchSize,
                redisTimeout,
                retryBackoffMin,
                retryBackoffMax,
                keyPrefix,
                markerCheckInterval);
    }

    public WriterConfig withGroupId(String id) {
        return new WriterConfig(
                bootstrapServers,
                kafkaProperties,
                id,
                mutationsTopic,
                invalidationsTopic,
                maxBatchSize,
                redisTimeout,
                retryBackoffMin,
                retryBackoffMax,
                keyPrefix,
                markerCheckInterval);
    }

    public WriterConfig withMaxBatchSize(int size) {
        return new WriterConfig(
                bootstrapServers,
                kafkaProperties,
                groupId,
                mutationsTopic,
                invalidationsTopic,
                size,
                redisTimeout,
                retryBackoffMin,
                retryBackoffMax,
                keyPrefix,
                markerCheckInterval);
    }

    public WriterConfig withRedisTimeout(Duration timeout) {
        return new WriterConfig(
                bootstrapServers,
                kafkaProperties,
                groupId,
                mutationsTopic,
                invalidationsTopic,
                maxBatchSize,
                timeout,
                retryBackoffMin,
                retryBackoffMax,
                keyPrefix,
                markerCheckInterval);
    }

    public WriterConfig withRetryBackoff(Duration min, Duration max) {
        return new WriterConfig(
                bootstrapServers,
                kafkaProperties,
                groupId,
                mutationsTopic,
                invalidationsTopic,
                maxBatchSize,
                redisTimeout,
                min,
                max,
                keyPrefix,
                markerCheckInterval);
    }

    /**
     * A copy with this key prefix, which turns self-healing on ({@code null} turns it off).
     *
     * @see CacheRebuild
     */
    public WriterConfig withKeyPrefix(String prefix) {
        return new WriterConfig(
                bootstrapServers,
                kafkaProperties,
                groupId,
                mutationsTopic,
                invalidationsTopic,
                maxBatchSize,
                redisTimeout,
                retryBackoffMin,
                retryBackoffMax,
                prefix,
                markerCheckInterval);
    }

    public WriterConfig withMarkerCheckInterval(Duration interval) {
        return new WriterConfig(
                bootstrapServers,
                kafkaProperties,
                groupId,
                mutationsTopic,
                invalidationsTopic,
                maxBatchSize,
                redisTimeout,
                retryBackoffMin,
                retryBackoffMax,
                keyPrefix,
                interval);
    }

    @SafeVarargs
    private static Set<String> union(Set<String>... sets) {
        Set<String> all = new java.util.HashSet<>();
        for (Set<String> s : sets) {
            all.addAll(s);
        }
        return Set.copyOf(all);
    }

    private static void requireText(String name, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(
                    name + " must be a non-blank string but was " + (value == null ? "null" : "'" + value + "'"));
        }
    }

    private static void requirePositive(String name, Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(name + " must be a positive duration but was " + value);
        }
    }
}
