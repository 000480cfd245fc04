package dev.cachepipe.topology;

import dev.cachepipe.schemas.RedisLayout;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The cache policy of one entity type.
 *
 * @param entityType the entity type, matching {@code [a-z0-9_-]{1,64}}
 * @param topics the source topics that carry events of this type (at least one)
 * @param mode how the cache follows the events
 * @param ttl lifetime of an upserted entry (at least 1 ms)
 * @param ttlJitter relative jitter applied to {@code ttl}: the TTL lies in {@code ttl * (1 ± ttlJitter)}; {@code
 *     0 <= ttlJitter < 1}
 * @param tombstoneTtl lifetime of tombstones and fences (at least 1 ms)
 * @param maxPayloadBytes events with a larger payload are dead-lettered (> 0)
 * @param inlineInvalidationMaxBytes payloads up to this size ride inline in the invalidation (>= 0)
 */
public record EntityPolicy(
        String entityType,
        List<String> topics,
        CacheMode mode,
        Duration ttl,
        double ttlJitter,
        Duration tombstoneTtl,
        int maxPayloadBytes,
        int inlineInvalidationMaxBytes) {

    private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    /** Validates every field; messages name the key ({@code entities.<type>.<field>}), the value and the bound. */
    public EntityPolicy {
        String p = "entities." + entityType + ".";
        if (!RedisLayout.isValidEntityType(entityType)) {
            throw new IllegalArgumentException(p + "entityType must match [a-z0-9_-]{1,64} but was "
                    + (entityType == null ? "null" : "\"" + entityType + "\""));
        }
        if (topics == null || topics.isEmpty()) {
            throw new IllegalArgumentException(p + "topics must list at least one topic but was " + topics);
        }
        Set<String> seen = new HashSet<>();
        for (String topic : topics) {
            requireTopicName(p + "topics", topic);
            if (!seen.add(topic)) {
                throw new IllegalArgumentException(
                        p + "topics must not repeat a topic but lists \"" + topic + "\" more than once");
            }
        }
        topics = List.copyOf(topics);
        if (mode == null) {
            throw new IllegalArgumentException(
                    p + "mode must be one of [write-through, invalidate, expire-only]" + " but was null");
        }
        requireAtLeastOneMilli(p + "ttl", ttl);
        if (!(ttlJitter >= 0 && ttlJitter < 1)) {
            throw new IllegalArgumentException(p + "ttlJitter must be >= 0 and < 1 but was " + ttlJitter);
        }
        requireAtLeastOneMilli(p + "tombstoneTtl", tombstoneTtl);
        if (maxPayloadBytes <= 0) {
            throw new IllegalArgumentException(p + "maxPayloadBytes must be > 0 but was " + maxPayloadBytes);
        }
        if (inlineInvalidationMaxBytes < 0) {
            throw new IllegalArgumentException(
                    p + "inlineInvalidationMaxBytes must be >= 0 but was " + inlineInvalidationMaxBytes);
        }
    }

    static void requireTopicName(String key, String topic) {
        if (topic == null || !TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
            throw new IllegalArgumentException(key + " must be Kafka topic names ([a-zA-Z0-9._-]{1,249}, not '.'"
                    + " or '..') but one was " + (topic == null ? "null" : "\"" + topic + "\""));
        }
    }

    private static void requireAtLeastOneMilli(String key, Duration value) {
        if (value == null || value.toMillis() < 1) {
            throw new IllegalArgumentException(key + " must be at least 1ms but was " + value);
        }
    }
}
