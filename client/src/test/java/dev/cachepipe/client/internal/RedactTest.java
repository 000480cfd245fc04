package dev.cachepipe.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactTest {

    @Test
    void shouldHideUserInfoOfUris() {
        assertThat(Redact.credentials("cannot connect to rediss://app:s3cret@cache:6380/0"))
                .isEqualTo("cannot connect to rediss://***@cache:6380/0");
        assertThat(Redact.credentials("redis://:pw@h:1")).isEqualTo("redis://***@h:1");
        assertThat(Redact.credentials("redis://h:1")).isEqualTo("redis://h:1");
    }

    @Test
    void shouldDescribeCausesWithoutCredentials() {
        Exception e = new IllegalStateException("outer", new RuntimeException("redis://u:p@h:1 refused"));

        assertThat(Redact.describe(e))
                .isEqualTo("IllegalStateException: outer <- RuntimeException: redis://***@h:1 refused");
    }
}
