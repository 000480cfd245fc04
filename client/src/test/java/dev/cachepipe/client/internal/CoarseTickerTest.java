package dev.cachepipe.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CoarseTickerTest {
    @Test
    void shouldFollowTheClockWithinItsResolutionWhileAClientUsesItAndStopWithTheLast() {
        CoarseTicker a = CoarseTicker.acquire();
        CoarseTicker b = CoarseTicker.acquire();
        try {
            long before = System.nanoTime();
            await().atMost(Duration.ofSeconds(5)).until(() -> a.read() >= before);
            long lag = System.nanoTime() - a.read();
            assertThat(lag)
                    .as("how far behind the clock it reads")
                    .isLessThan(Duration.ofMillis(500).toNanos());
            assertThat(sampler()).isTrue();
            CoarseTicker.release();
            assertThat(sampler()).as("still used by one").isTrue();
        } finally {
            CoarseTicker.release();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> !sampler());
        assertThat(b).isSameAs(a);
    }

    private static boolean sampler() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("cachepipe-l1-clock") && t.isAlive());
    }
}
