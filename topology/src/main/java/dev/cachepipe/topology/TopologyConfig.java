package dev.cachepipe.topology;

import dev.cachepipe.schemas.RedisLayout;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything the topology needs to know.
 *
 * <p>One topic may carry several entity types: the event's {@code entityType} selects the policy, and an event
 * whose policy does not list the topic it arrived on is dead-lettered.
 *
 * @param keyPrefix Redis key prefix, e.g. {@code cache}
 * @param mutationsTopic compacted output topic of cache mutations (key = Redis key)
 * @param deadLetterTopic topic receiving bad input unchanged, with reason headers
 * @param entities policies by entity type; each key equals its policy's {@code entityType}
 * @param versionRetention how long, in stream time (record timestamps), the topology remembers the highest version it
 *     emitted for a key after that version was last raised (at least {@link #MIN_VERSION_RETENTION}); a key forgotten
 *     since lets its next event through whatever its version, and Redis's own version gate decides while the entry
 *     lives there
 * @param maxFutureSkew how far ahead of this machine's clock a record timestamp may move the stream time that the
 *     version retention runs on: a record stamped later is still processed, but counts as stamped {@code now +
 *     maxFutureSkew}, so that one far-future timestamp cannot make the retention forget every version at once
 */
public record TopologyConfig(
        String keyPrefix,
        String mutationsTopic,
        String deadLetterTopic,
        Map<String, EntityPolicy> entities,
        Duration versionRetention,
        Duration maxFutureSkew) {

    /** How long versions are remembered unless configured: a week. */
    public static final Duration DEFAULT_VERSION_RETENTION = Duration.ofDays(7);

    /** The shortest allowed {@code versionRetention}. */
    public static final Duration MIN_VERSION_RETENTION = Duration.ofMinutes(1);

    /** How far ahead of the clock record timestamps may move stream time unless configured: five minutes. */
    public static final Duration DEFAULT_MAX_FUTURE_SKEW = Duration.ofMinutes(5);

    /** A configuration that remembers versions for {@link #DEFAULT_VERSION_RETENTION}. */
    public TopologyConfig(
            String keyPrefix, String mutationsTopic, String deadLetterTopic, Map<String, EntityPolicy> entities) {
        this(keyPrefix, mutationsTopic, deadLetterTopic, entities, DEFAULT_VERSION_RETENTION);
    }

    /** A configuration with the {@link #DEFAULT_MAX_FUTURE_SKEW}. */
    public TopologyConfig(
            String keyPrefix,
            String mutationsTopic,
            String deadLetterTopic,
            Map<String, EntityPolicy> entities,
            Duration versionRetention) {
        this(keyPrefix, mutationsTopic, deadLetterTopic, entities, versionRetention, DEFAULT_MAX_FUTURE_SKEW);
    }

    /** Validates every field; messages name the key, the value and what is allowed. */
    public TopologyConfig {
        if (!RedisLayout.isValidPrefix(keyPrefix)) {
            throw new IllegalArgumentException("keyPrefix must be one or more ':'-separated segments of"
                    + " [A-Za-z0-9_.{}-] but was " + (keyPrefix == null ? "null" : "\"" + keyPrefix + "\""));
        }
        EntityPolicy.requireTopicName("mutationsTopic", mutationsTopic);
        EntityPolicy.requireTopicName("deadLetterTopic", deadLetterTopic);
        if (mutationsTopic.equals(deadLetterTopic)) {
            throw new IllegalArgumentException(
                    "deadLetterTopic must differ from mutationsTopic but both were \"" + mutationsTopic + "\"");
        }
        if (entities == null || entities.isEmpty()) {
            throw new IllegalArgumentException("entities must configure at least one entity type but was " + entities);
        }
        for (Map.Entry<String, EntityPolicy> e : entities.entrySet()) {
            if (e.getValue() == null) {
                throw new IllegalArgumentException("entities." + e.getKey() + " must be a policy but was null");
            }
            if (!e.getValue().entityType().equals(e.getKey())) {
                throw new IllegalArgumentException("entities." + e.getKey() + " must have entityType \"" + e.getKey()
                        + "\" but was \"" + e.getValue().entityType() + "\"");
            }
            for (String topic : e.getValue().topics()) {
                if (topic.equals(mutationsTopic) || topic.equals(deadLetterTopic)) {
                    throw new IllegalArgumentException("entities." + e.getKey() + ".topics must not contain the"
                            + " mutations or dead-letter topic but contains \"" + topic + "\"");
                }
            }
        }
        entities = Collections.unmodifiableMap(new TreeMap<>(entities));
        if (versionRetention == null || versionRetention.compareTo(MIN_VERSION_RETENTION) < 0) {
            throw new IllegalArgumentException("versionRetention must be at least 1m but was " + versionRetention);
        }
        if (maxFutureSkew == null || maxFutureSkew.isNegative()) {
            throw new IllegalArgumentException("maxFutureSkew must be 0 or more but was " + maxFutureSkew);
        }
    }

    /** The distinct source topics of all entity types, sorted. */
    public SortedSet<String> sourceTopics() {
        TreeSet<String> topics = new TreeSet<>();
        entities.values().forEach(policy -> topics.addAll(policy.topics()));
        return Collections.unmodifiableSortedSet(topics);
    }
}
