package dev.cachepipe.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheEntryTest {

    @Test
    void shouldDecodeValueWhenNoFlagsAreSet() {
        CacheEntry e = CacheEntry.decode(Map.of("v", b("12"), "d", b("{}"), "ct", b("application/json"), "ts", b("5")))
                .orElseThrow();
        assertThat(e.state()).isEqualTo(CacheEntry.State.VALUE);
        assertThat(e.version()).isEqualTo(12);
        assertThat(e.payload()).isEqualTo(b("{}"));
        assertThat(e.contentType()).isEqualTo("application/json");
        assertThat(e.occurredAt()).isEqualTo(5);
    }

    @Test
    void shouldDecodeTombstoneAndFence() {
        assertThat(CacheEntry.decode(Map.of("v", b("3"), "del", b("1"), "ts", b("1")))
                        .orElseThrow()
                        .state())
                .isEqualTo(CacheEntry.State.TOMBSTONE);
        assertThat(CacheEntry.decode(Map.of("v", b("3"), "inv", b("1"), "ts", b("1")))
                        .orElseThrow()
                        .state())
                .isEqualTo(CacheEntry.State.FENCE);
    }

    @Test
    void shouldBeEmptyWhenKeyIsAbsent() {
        assertThat(CacheEntry.decode(Map.of())).isEmpty();
    }

    @Test
    void shouldRejectHashThatIsNotAnEntry() {
        assertThatThrownBy(() -> CacheEntry.decode(Map.of("foo", b("bar")))).hasMessageContaining("'v' missing");
        assertThatThrownBy(() -> CacheEntry.decode(Map.of("v", b("x")))).hasMessageContaining("not a number");
    }

    @Test
    void shouldBuildKeysFromPrefixTypeAndId() {
        assertThat(RedisLayout.key("cache", "user", "a:b")).isEqualTo("cache:user:a:b");
        assertThat(RedisLayout.isValidEntityType("feature_flag")).isTrue();
        assertThat(RedisLayout.isValidEntityType("User")).isFalse();
        assertThat(RedisLayout.isValidEntityType("a:b")).isFalse();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
