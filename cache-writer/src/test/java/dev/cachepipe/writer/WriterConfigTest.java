package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WriterConfigTest {
    private final WriterConfig base = WriterConfig.defaults("localhost:9092", "m", "i");

    @Test
    void shouldUseDocumentedDefaultsWhenCreatedWithDefaults() {
        assertThat(base.groupId()).isEqualTo("cachepipe-writer");
        assertThat(base.maxBatchSize()).isEqualTo(500);
        assertThat(base.kafkaProperties()).isEmpty();
        assertThat(base.retryBackoffMin()).isLessThan(base.retryBackoffMax());
    }

    @Test
    void shouldLeaveSelfHealingOffUntilAKeyPrefixIsGiven() {
        assertThat(base.keyPrefix()).isNull();
        assertThat(base.selfHealing()).isFalse();
        assertThat(base.markerCheckInterval()).isEqualTo(WriterConfig.DEFAULT_MARKER_CHECK_INTERVAL);
        WriterConfig healing = base.withKeyPrefix("cache").withMarkerCheckInterval(Duration.ofSeconds(2));
        assertThat(healing.selfHealing()).isTrue();
        assertThat(healing.withMaxBatchSize(7).keyPrefix())
                .as("kept by the other copies")
                .isEqualTo("cache");
        assertThat(healing.withGroupId("g").markerCheckInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(healing.withKeyPrefix(null).selfHealing()).isFalse();
    }

    @Test
    void shouldNameKeyAndValueWhenKeyPrefixOrMarkerIntervalIsInvalid() {
        assertThatThrownBy(() -> base.withKeyPrefix("has space"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyPrefix must be null (self-healing off) or")
                .hasMessageContaining("but was 'has space'");
        assertThatThrownBy(() -> base.withMarkerCheckInterval(Duration.ZERO))
                .hasMessageContaining("markerCheckInterval must be a positive duration but was PT0S");
    }

    @Test
    void shouldNameKeyAndValueWhenBatchSizeIsInvalid() {
        assertThatThrownBy(() -> base.withMaxBatchSize(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBatchSize must be >= 1 but was 0");
    }

    @Test
    void shouldRejectBackoffWhenMaxIsBelowMin() {
        assertThatThrownBy(() -> base.withRetryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retryBackoffMax must be >= retryBackoffMin (PT2S) but was PT1S");
        assertThatThrownBy(() -> base.withRedisTimeout(Duration.ZERO))
                .hasMessageContaining("redisTimeout must be a positive duration but was PT0S");
    }

    @Test
    void shouldRejectReservedKafkaPropertyWhenItWouldBreakTheGuarantees() {
        assertThatThrownBy(() -> base.withKafkaProperties(Map.of("enable.auto.commit", "true")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafkaProperties must not set 'enable.auto.commit' (was 'true')");
    }

    @Test
    void shouldRejectSameTopicWhenMutationsAndInvalidationsCoincide() {
        assertThatThrownBy(() -> WriterConfig.defaults("b:1", "t", "t"))
                .hasMessageContaining("invalidationsTopic must differ from mutationsTopic but both were 't'");
        assertThatThrownBy(() -> WriterConfig.defaults(" ", "a", "b"))
                .hasMessageContaining("bootstrapServers must be a non-blank string but was ' '");
    }

    @Test
    void shouldCopyKafkaPropertiesWhenCallerMutatesTheirMap() {
        Map<String, String> props = new HashMap<>(Map.of("security.protocol", "SSL"));
        WriterConfig c = base.withKafkaProperties(props);
        props.put("security.protocol", "PLAINTEXT");
        assertThat(c.kafkaProperties()).containsEntry("security.protocol", "SSL");
    }
}
