package dev.cachepipe.topology.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyMapperTest {

    @Test
    void shouldReturnTtlUnchangedWhenJitterIsZero() {
        assertThat(PolicyMapper.jitteredTtlMillis(60_000, 0.0, "cache:user:1", 1))
                .isEqualTo(60_000);
    }

    @Test
    void shouldStayWithinBoundsWhenJitterIsLarge() {
        for (int i = 0; i < 10_000; i++) {
            long ttl = PolicyMapper.jitteredTtlMillis(1_000, 0.999, "cache:user:" + i, i);
            assertThat(ttl).isBetween(1L, 1_999L);
        }
    }

    @Test
    void shouldDependOnKeyAndVersionOnlyWhenComputingJitter() {
        long a = PolicyMapper.jitteredTtlMillis(600_000, 0.2, "cache:user:42", 7);
        assertThat(PolicyMapper.jitteredTtlMillis(600_000, 0.2, "cache:user:42", 7))
                .isEqualTo(a);

        Set<Long> byVersion = new HashSet<>();
        for (long v = 0; v < 50; v++) {
            byVersion.add(PolicyMapper.jitteredTtlMillis(600_000, 0.2, "cache:user:42", v));
        }
        assertThat(byVersion).hasSizeGreaterThan(40);
    }

    @Test
    void shouldYieldPinnedTtlWhenKeyAndVersionAreFixed() {
        // pins the hash: changing the algorithm would give replayed events different TTLs than the first run
        assertThat(PolicyMapper.jitteredTtlMillis(600_000, 0.2, "cache:user:42", 7))
                .isEqualTo(549_470L);
    }
}
