package dev.cachepipe.writer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactTest {

    @Test
    void shouldHideUserInfoWhenTextContainsUriWithCredentials() {
        String text = "Unable to connect to redis://default:s3cret@cache.internal:6379/0 and rediss://:pw@h:1";
        assertThat(Redact.credentials(text))
                .doesNotContain("s3cret", "pw@")
                .contains("redis://***@cache.internal:6379/0", "rediss://***@h:1");
    }

    @Test
    void shouldKeepTextWhenItHasNoCredentials() {
        assertThat(Redact.credentials("Connection refused: 127.0.0.1:6379"))
                .isEqualTo("Connection refused: 127.0.0.1:6379");
    }

    @Test
    void shouldDescribeCauseChainWithoutCredentialsWhenExceptionIsNested() {
        Exception e = new IllegalStateException("outer", new RuntimeException("redis://u:p4ss@h:1 refused"));
        assertThat(Redact.describe(e))
                .isEqualTo("IllegalStateException: outer <- RuntimeException: redis://***@h:1 refused");
    }
}
