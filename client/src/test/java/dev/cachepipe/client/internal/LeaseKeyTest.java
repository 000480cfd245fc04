package dev.cachepipe.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.schemas.RedisLayout;
import org.junit.jupiter.api.Test;

class LeaseKeyTest {

    @Test
    void shouldPutLeasesUnderAnEmptySegmentAfterThePrefix() {
        assertThat(DefaultEntityCache.leaseKeyBase("cache", "user") + "42").isEqualTo("cache::lease:user:42");
    }

    @Test
    void shouldNeverCollideWithAnEntryKeyOfTheSamePrefixEvenForAnEntityTypeCalledLease() {
        String[] prefixes = {"cache", "app:cache", "cache:lease", "{tag}.c"};
        String[] types = {"user", "lease", "a"};
        String[] ids = {"1", "user:1", ":x", "lease:user:1"};
        for (String prefix : prefixes) {
            for (String type : types) {
                for (String id : ids) {
                    String lease = DefaultEntityCache.leaseKeyBase(prefix, type) + id;
                    assertThat(parsesAsEntryKey(lease, prefix))
                            .as("lease key %s parses as an entry key", lease)
                            .isFalse();
                }
            }
        }
        assertThat(parsesAsEntryKey(RedisLayout.key("cache", "lease", "user:1"), "cache"))
                .isTrue();
    }

    /** Whether {@code key} is an entry key {@code prefix:type:id} of {@code prefix} with a valid entity type. */
    private static boolean parsesAsEntryKey(String key, String prefix) {
        if (!key.startsWith(prefix + ":")) {
            return false;
        }
        String rest = key.substring(prefix.length() + 1);
        int colon = rest.indexOf(':');
        return colon > 0 && RedisLayout.isValidEntityType(rest.substring(0, colon)) && colon + 1 < rest.length();
    }
}
