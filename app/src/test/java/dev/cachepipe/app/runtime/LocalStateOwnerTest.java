package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.runtime.LocalStateOwner.Owner;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LocalStateOwnerTest {
    private static final Owner RECORDED = owner("c1", Map.of("users", "u1", "cachepipe.mutations", "m1"));

    @Test
    void shouldSeeNoChangeWhenOnlyATopicWasCreatedSince() {
        // the changelog does not exist at the first start; its creation must not wipe the state at the second
        Owner now = owner("c1", Map.of("users", "u1", "cachepipe.mutations", "m1", "app-changelog", "x1"));
        assertThat(now.changesSince(RECORDED)).isEmpty();
    }

    @Test
    void shouldNameTheClusterWhenItChanged() {
        Owner now = owner("c2", Map.of("users", "u9", "cachepipe.mutations", "m9"));
        assertThat(now.changesSince(RECORDED))
                .startsWith("Kafka cluster c1 -> c2")
                .contains("topic users u1 -> u9");
    }

    @Test
    void shouldNameATopicThatWasRecreatedOrDeleted() {
        assertThat(owner("c1", Map.of("users", "u2", "cachepipe.mutations", "m1"))
                        .changesSince(RECORDED))
                .isEqualTo("topic users u1 -> u2");
        assertThat(owner("c1", Map.of("cachepipe.mutations", "m1")).changesSince(RECORDED))
                .isEqualTo("topic users u1 -> (absent)");
    }

    @Test
    void shouldReadBackWhatItWrote() {
        assertThat(Owner.fromProperties(RECORDED.toProperties())).isEqualTo(RECORDED);
    }

    private static Owner owner(String cluster, Map<String, String> topics) {
        return new Owner(cluster, new TreeMap<>(topics));
    }
}
