package dev.cachepipe.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RedisServerIT {

    @Test
    void shouldKeepDataWhenStoppedWithSaveAndRestarted() {
        try (RedisServer redis = RedisServer.start()) {
            assertThat(redis.command("SET", "k", "v")).startsWith("+OK");
            redis.stopKeepingData();
            assertThat(redis.isRunning()).isFalse();
            redis.restart();
            assertThat(redis.command("GET", "k")).isEqualTo("$1\r\nv\r\n");
        }
    }

    @Test
    void shouldLoseDataWhenKilledAndRestarted() {
        try (RedisServer redis = RedisServer.start()) {
            redis.command("SET", "k", "v");
            redis.kill();
            redis.restart();
            assertThat(redis.command("GET", "k")).isEqualTo("$-1\r\n");
        }
    }

    @Test
    void shouldNotAnswerWhenPaused() {
        try (RedisServer redis = RedisServer.start()) {
            redis.pause();
            assertThatThrownBy(() -> redis.command("PING")).isInstanceOf(IllegalStateException.class);
            redis.resume();
            assertThat(redis.command("PING")).startsWith("+PONG");
        }
    }
}
