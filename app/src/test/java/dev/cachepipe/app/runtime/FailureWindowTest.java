package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FailureWindowTest {
    private static final long MINUTE = Duration.ofMinutes(1).toNanos();

    @Test
    void shouldGiveUpWhenFailuresExceedMaxWithinWindow() {
        FailureWindow w = new FailureWindow(5, Duration.ofMinutes(10));
        for (int i = 0; i < 5; i++) {
            assertThat(w.recordAndCheck(i * MINUTE)).isFalse();
        }
        assertThat(w.recordAndCheck(5 * MINUTE)).isTrue();
    }

    @Test
    void shouldForgetFailuresOlderThanWindow() {
        FailureWindow w = new FailureWindow(2, Duration.ofMinutes(10));
        w.recordAndCheck(0);
        w.recordAndCheck(MINUTE);
        assertThat(w.recordAndCheck(30 * MINUTE)).isFalse();
        assertThat(w.count()).isEqualTo(1);
    }
}
