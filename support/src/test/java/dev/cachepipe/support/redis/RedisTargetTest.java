package dev.cachepipe.support.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedisTargetTest {
    @Test
    void shouldParseSeveralSeedsApplyingCredentialsAndTimeoutToEach() {
        RedisTarget t = RedisTarget.parse(
                "redis://h1:7000, h2:7001,redis://h3:7002",
                RedisMode.CLUSTER,
                "cachepipe",
                "s3cret".toCharArray(),
                Duration.ofMillis(700));

        assertThat(t.seeds()).extracting(RedisURI::getHost).containsExactly("h1", "h2", "h3");
        assertThat(t.seeds()).extracting(RedisURI::getPort).containsExactly(7000, 7001, 7002);
        assertThat(t.seeds()).allSatisfy(u -> {
            assertThat(u.getTimeout()).isEqualTo(Duration.ofMillis(700));
            assertThat(u.getCredentialsProvider().resolveCredentials().block().getPassword())
                    .containsExactly("s3cret".toCharArray());
        });
        assertThat(t.mode()).isEqualTo(RedisMode.CLUSTER);
        assertThat(t.description()).isEqualTo("redis://h1:7000,h2:7001,h3:7002");
        assertThat(t.toString()).doesNotContain("s3cret").contains("cluster");
    }

    @Test
    void shouldKeepTheSchemeOfTheFirstSeedForBareHostPorts() {
        RedisTarget t = RedisTarget.parse("rediss://a:6380,b:6380", RedisMode.AUTO, null, null, null);

        assertThat(t.seeds()).allSatisfy(u -> assertThat(u.isSsl()).isTrue());
        assertThat(t.description()).isEqualTo("rediss://a:6380,b:6380");
    }

    @Test
    void shouldNameTheBadSeedWithoutItsPassword() {
        assertThatThrownBy(() -> RedisTarget.parse(
                        "redis://h1:7000,redis://user:pw@h2:notaport", RedisMode.AUTO, null, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("h2:notaport")
                .hasMessageNotContaining("pw@");
    }

    @Test
    void shouldParseModesAndRefuseOthers() {
        assertThat(RedisMode.parse("Cluster")).isEqualTo(RedisMode.CLUSTER);
        assertThat(RedisMode.parse("standalone")).isEqualTo(RedisMode.STANDALONE);
        assertThatThrownBy(() -> RedisMode.parse("sentinel"))
                .hasMessage("mode must be auto, standalone or cluster but was 'sentinel'");
    }
}
