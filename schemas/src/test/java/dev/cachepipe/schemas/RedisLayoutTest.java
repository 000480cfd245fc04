package dev.cachepipe.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.schemas.RedisLayout.EntryKey;
import org.junit.jupiter.api.Test;

class RedisLayoutTest {

    @Test
    void shouldBuildEveryKindOfKeyUnderThePrefixWhenAsked() {
        assertThat(RedisLayout.key("cache", "user", "42")).isEqualTo("cache:user:42");
        assertThat(RedisLayout.keyBase("app:cache", "user")).isEqualTo("app:cache:user:");
        assertThat(RedisLayout.leaseKeyBase("cache", "user") + "42").isEqualTo("cache::lease:user:42");
        assertThat(RedisLayout.markerKey("cache")).isEqualTo("cache:@cachepipe");
        assertThat(RedisLayout.watermarkKey("cache")).isEqualTo("cache:@cachepipe:watermarks");
        assertThat(RedisLayout.watermarkField("cache.mutations", 3)).isEqualTo("cache.mutations:3");
    }

    @Test
    void shouldTakeAnEntryKeyApartWhenIdsContainColons() {
        assertThat(RedisLayout.parse("app:cache", "app:cache:order:eu:7")).contains(new EntryKey("order", "eu:7"));
        assertThat(RedisLayout.parse("cache", "cache:lease:user:1")).contains(new EntryKey("lease", "user:1"));
    }

    @Test
    void shouldNotParseLeasesMarkersOrOtherPrefixesAsEntries() {
        String[] prefixes = {"cache", "app:cache", "cache:lease", "{tag}.c"};
        String[] types = {"user", "lease", "a"};
        String[] ids = {"1", "user:1", ":x", "lease:user:1"};
        for (String prefix : prefixes) {
            assertThat(RedisLayout.parse(prefix, RedisLayout.markerKey(prefix))).isEmpty();
            assertThat(RedisLayout.parse(prefix, RedisLayout.watermarkKey(prefix)))
                    .isEmpty();
            for (String type : types) {
                for (String id : ids) {
                    String lease = RedisLayout.leaseKeyBase(prefix, type) + id;
                    assertThat(RedisLayout.parse(prefix, lease)).as(lease).isEmpty();
                    assertThat(RedisLayout.parse(prefix, RedisLayout.key(prefix, type, id)))
                            .contains(new EntryKey(type, id));
                }
            }
        }
        assertThat(RedisLayout.parse("cache", "other:user:1")).isEmpty();
        assertThat(RedisLayout.parse("cache", "cachex:user:1")).isEmpty();
        assertThat(RedisLayout.parse("cache", "cache:user:")).isEmpty();
        assertThat(RedisLayout.parse("cache", "cache:User:1")).isEmpty();
    }
}
