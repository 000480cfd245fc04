package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CacheStatsTest {

    @Test
    void shouldComputeRatesLikeCaffeine() {
        CacheStats s = new CacheStats(3, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        assertThat(s.requestCount()).isEqualTo(4);
        assertThat(s.l1HitRate()).isEqualTo(0.75);
        assertThat(s.l2RequestCount()).isEqualTo(2);
        assertThat(s.l2HitRate()).isEqualTo(0.5);
        assertThat(CacheStats.empty().l1HitRate()).isEqualTo(1.0);
    }

    @Test
    void shouldSumCountersButNotListenerFieldsWhenAdding() {
        CacheStats a = new CacheStats(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 5, 7);
        CacheStats b = new CacheStats(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 6, 3);

        CacheStats sum = a.plus(b);

        assertThat(sum.l1Hits()).isEqualTo(2);
        assertThat(sum.l1Size()).isEqualTo(11);
        assertThat(sum.resyncs()).isEqualTo(2);
        assertThat(sum.listenerLag()).isEqualTo(7);
    }

    @Test
    void shouldRejectNegativeCounters() {
        assertThatThrownBy(() -> new CacheStats(0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
                .hasMessage("l1Misses must be >= 0 but was -1");
    }
}
