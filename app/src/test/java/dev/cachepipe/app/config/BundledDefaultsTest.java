package dev.cachepipe.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BundledDefaultsTest {
    @Test
    void shouldReadTheBundledConfigurationWhenAskedForDefaults() {
        CachepipeConfig config = CachepipeConfig.defaults();

        assertThat(config.entities()).isNotEmpty();
        assertThat(config.redis().keyPrefix()).isNotBlank();
    }
}
