package dev.cachepipe.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
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
    void shouldHidePasswordsContainingSlashOrAt() {
        assertThat(Redact.credentials("redis://u:a/b@c@host:1 refused")).isEqualTo("redis://***@host:1 refused");
        assertThat(Redact.uri("redis://u:a/b@c@host:1")).isEqualTo("redis://u:****@host:1");
    }

    @Test
    void shouldKeepTextWhenItHasNoCredentials() {
        assertThat(Redact.credentials("Connection refused: 127.0.0.1:6379"))
                .isEqualTo("Connection refused: 127.0.0.1:6379");
        assertThat(Redact.uri("redis://host:6379")).isEqualTo("redis://host:6379");
    }

    @Test
    void shouldMaskPasswordWhenRedactingUri() {
        assertThat(Redact.uri("rediss://app:pw@host:6380/0")).isEqualTo("rediss://app:****@host:6380/0");
        assertThat(Redact.uri("redis://pw@host")).isEqualTo("redis://****@host");
    }

    @Test
    void shouldDescribeCauseChainWithoutCredentialsWhenExceptionIsNested() {
        Exception e = new IllegalStateException("outer", new RuntimeException("redis://u:p4ss@h:1 refused"));
        assertThat(Redact.describe(e))
                .isEqualTo("IllegalStateException: outer <- RuntimeException: redis://***@h:1 refused");
    }

    @Test
    void shouldMaskSecretPropertiesOnly() {
        assertThat(Redact.properties(Map.of(
                        "sasl.jaas.config", "x required password=\"p\";",
                        "ssl.key.password", "p",
                        "security.protocol", "SASL_SSL")))
                .containsEntry("sasl.jaas.config", "****")
                .containsEntry("ssl.key.password", "****")
                .containsEntry("security.protocol", "SASL_SSL");
    }
}
