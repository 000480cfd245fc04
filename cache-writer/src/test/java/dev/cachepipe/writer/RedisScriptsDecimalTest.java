package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RedisScriptsDecimalTest {
    @Test
    void shouldWriteTheSameDigitsAsLongToString() {
        long[] values = {0, 1, 9, 10, 99, 100, 1_700_000_000_000L, 3_600_000, Long.MAX_VALUE, -1, Long.MIN_VALUE};
        for (long v : values) {
            assertThat(new String(RedisScripts.decimal(v), StandardCharsets.US_ASCII))
                    .isEqualTo(Long.toString(v));
        }
        for (long v = 1; v > 0 && v < Long.MAX_VALUE / 7; v = v * 7 + 3) {
            assertThat(new String(RedisScripts.decimal(v), StandardCharsets.US_ASCII))
                    .isEqualTo(Long.toString(v));
        }
    }
}
