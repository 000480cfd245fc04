package dev.cachepipe.writer.internal.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration MIN = Duration.ofMillis(100);
    private static final Duration MAX = Duration.ofMillis(1000);

    @Test
    void shouldDoubleUpToMaxWhenRetriesRepeat() {
        Backoff upper = new Backoff(MIN, MAX, () -> 1.0); // jitter at the top of [d/2, d]
        long[] ceilings = new long[8];
        for (int i = 0; i < ceilings.length; i++) {
            ceilings[i] = upper.next().toMillis();
        }
        assertThat(ceilings).containsExactly(100, 200, 400, 800, 1000, 1000, 1000, 1000);
    }

    @Test
    void shouldStayWithinHalfAndFullCeilingWhenJittered() {
        Backoff b = new Backoff(MIN, MAX);
        for (int i = 0; i < 50; i++) {
            Duration d = b.next();
            assertThat(d).isBetween(Duration.ofMillis(50), MAX);
        }
        assertThat(b.attempts()).isEqualTo(50);
    }

    @Test
    void shouldStartFromMinWhenReset() {
        Backoff b = new Backoff(MIN, MAX, () -> 0.0); // jitter at the bottom: d/2
        b.next();
        b.next();
        b.next();
        b.reset();
        assertThat(b.next()).isEqualTo(Duration.ofMillis(50));
    }

    @Test
    void shouldNotOverflowWhenRetriedVeryOften() {
        Backoff b = new Backoff(Duration.ofNanos(1), Duration.ofDays(365), () -> 1.0);
        Duration last = Duration.ZERO;
        for (int i = 0; i < 200; i++) {
            last = b.next();
            assertThat(last).isPositive();
        }
        assertThat(last).isEqualTo(Duration.ofDays(365));
    }

    @Test
    void shouldRejectBoundsWhenMaxBelowMin() {
        assertThatThrownBy(() -> new Backoff(MAX, MIN))
                .hasMessageContaining("backoff needs 0 < min <= max but was min=PT1S, max=PT0.1S");
    }
}
