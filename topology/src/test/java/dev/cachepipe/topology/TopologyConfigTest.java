package dev.cachepipe.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopologyConfigTest {

    private static EntityPolicy policy(String type, List<String> topics) {
        return new EntityPolicy(
                type, topics, CacheMode.WRITE_THROUGH, Duration.ofMinutes(1), 0.1, Duration.ofSeconds(5), 100, 10);
    }

    private static void assertPolicyRejected(Runnable create, String message) {
        assertThatThrownBy(create::run)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void shouldRejectJitterOutsideZeroToOneWhenPolicyIsCreated() {
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user",
                        List.of("t"),
                        CacheMode.INVALIDATE,
                        Duration.ofMinutes(1),
                        1.5,
                        Duration.ofSeconds(5),
                        100,
                        10),
                "entities.user.ttlJitter must be >= 0 and < 1 but was 1.5");
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user",
                        List.of("t"),
                        CacheMode.INVALIDATE,
                        Duration.ofMinutes(1),
                        1.0,
                        Duration.ofSeconds(5),
                        100,
                        10),
                "entities.user.ttlJitter must be >= 0 and < 1 but was 1.0");
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user",
                        List.of("t"),
                        CacheMode.INVALIDATE,
                        Duration.ofMinutes(1),
                        -0.1,
                        Duration.ofSeconds(5),
                        100,
                        10),
                "entities.user.ttlJitter must be >= 0 and < 1 but was -0.1");
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user",
                        List.of("t"),
                        CacheMode.INVALIDATE,
                        Duration.ofMinutes(1),
                        Double.NaN,
                        Duration.ofSeconds(5),
                        100,
                        10),
                "entities.user.ttlJitter must be >= 0 and < 1 but was NaN");
    }

    @Test
    void shouldNameFieldValueAndBoundWhenPolicyFieldIsInvalid() {
        assertPolicyRejected(
                () -> policy("User", List.of("t")),
                "entities.User.entityType must match [a-z0-9_-]{1,64} but was \"User\"");
        assertPolicyRejected(
                () -> policy("user", List.of()), "entities.user.topics must list at least one topic but was []");
        assertPolicyRejected(
                () -> policy("user", List.of("a", "a")),
                "entities.user.topics must not repeat a topic but lists \"a\" more than once");
        assertPolicyRejected(
                () -> policy("user", List.of("bad topic")),
                "entities.user.topics must be Kafka topic names ([a-zA-Z0-9._-]{1,249}, not '.' or '..') but one"
                        + " was \"bad topic\"");
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user", List.of("t"), null, Duration.ofMinutes(1), 0, Duration.ofSeconds(5), 100, 10),
                "entities.user.mode must be one of [write-through, invalidate, expire-only] but was null");
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user", List.of("t"), CacheMode.INVALIDATE, Duration.ZERO, 0, Duration.ofSeconds(5), 100, 10),
                "entities.user.ttl must be at least 1ms but was PT0S");
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user",
                        List.of("t"),
                        CacheMode.INVALIDATE,
                        Duration.ofMinutes(1),
                        0,
                        Duration.ofSeconds(-5),
                        100,
                        10),
                "entities.user.tombstoneTtl must be at least 1ms but was PT-5S");
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user",
                        List.of("t"),
                        CacheMode.INVALIDATE,
                        Duration.ofMinutes(1),
                        0,
                        Duration.ofSeconds(5),
                        0,
                        10),
                "entities.user.maxPayloadBytes must be > 0 but was 0");
        assertPolicyRejected(
                () -> new EntityPolicy(
                        "user",
                        List.of("t"),
                        CacheMode.INVALIDATE,
                        Duration.ofMinutes(1),
                        0,
                        Duration.ofSeconds(5),
                        100,
                        -1),
                "entities.user.inlineInvalidationMaxBytes must be >= 0 but was -1");
    }

    @Test
    void shouldCopyTopicsWhenCallerListChangesLater() {
        List<String> topics = new ArrayList<>(Arrays.asList("a", "b"));
        EntityPolicy p = policy("user", topics);
        topics.add("c");

        assertThat(p.topics()).containsExactly("a", "b");
        assertThatThrownBy(() -> p.topics().add("d")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void shouldNameKeyAndValueWhenTopologyConfigIsInvalid() {
        Map<String, EntityPolicy> ok = Map.of("user", policy("user", List.of("users")));
        assertPolicyRejected(
                () -> new TopologyConfig("bad prefix", "m", "d", ok),
                "keyPrefix must be one or more ':'-separated segments of [A-Za-z0-9_.{}-] but was \"bad prefix\"");
        assertPolicyRejected(
                () -> new TopologyConfig("cache", "m", "m", ok),
                "deadLetterTopic must differ from mutationsTopic but both were \"m\"");
        assertPolicyRejected(
                () -> new TopologyConfig("cache", null, "d", ok),
                "mutationsTopic must be Kafka topic names ([a-zA-Z0-9._-]{1,249}, not '.' or '..') but one was"
                        + " null");
        assertPolicyRejected(
                () -> new TopologyConfig("cache", "m", "d", Map.of()),
                "entities must configure at least one entity type but was {}");
        assertPolicyRejected(
                () -> new TopologyConfig("cache", "m", "d", Map.of("users", policy("user", List.of("t")))),
                "entities.users must have entityType \"users\" but was \"user\"");
        assertPolicyRejected(
                () -> new TopologyConfig("cache", "users", "d", ok),
                "entities.user.topics must not contain the mutations or dead-letter topic but contains \"users\"");
        Map<String, EntityPolicy> withNull = new HashMap<>();
        withNull.put("user", null);
        assertPolicyRejected(
                () -> new TopologyConfig("cache", "m", "d", withNull), "entities.user must be a policy but was null");
    }

    @Test
    void shouldListEachSourceTopicOnceWhenTypesShareTopics() {
        TopologyConfig config = new TopologyConfig(
                "cache:{eu}",
                "m",
                "d",
                Map.of(
                        "user", policy("user", List.of("users", "shared")),
                        "order", policy("order", List.of("shared", "orders"))));

        assertThat(config.sourceTopics()).containsExactly("orders", "shared", "users");
        assertThatThrownBy(() -> config.entities().put("x", null)).isInstanceOf(UnsupportedOperationException.class);
    }
}
