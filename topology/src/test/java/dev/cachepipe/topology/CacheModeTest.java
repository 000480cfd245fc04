package dev.cachepipe.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CacheModeTest {

    @Test
    void shouldParseConfigNamesWhenGivenInAnyCase() {
        assertThat(CacheMode.parse("write-through")).isEqualTo(CacheMode.WRITE_THROUGH);
        assertThat(CacheMode.parse(" Invalidate ")).isEqualTo(CacheMode.INVALIDATE);
        assertThat(CacheMode.parse("expire-only")).isEqualTo(CacheMode.EXPIRE_ONLY);
    }

    @Test
    void shouldRoundTripWhenParsingItsOwnConfigName() {
        for (CacheMode mode : CacheMode.values()) {
            assertThat(CacheMode.parse(mode.configName())).isEqualTo(mode);
        }
        assertThat(CacheMode.WRITE_THROUGH.configName()).isEqualTo("write-through");
    }

    @Test
    void shouldNameValueAndAllowedOnesWhenModeIsUnknown() {
        assertThatThrownBy(() -> CacheMode.parse("WRITE_THROUGH"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cache mode must be one of [write-through, invalidate, expire-only] but was"
                        + " \"WRITE_THROUGH\"");
        assertThatThrownBy(() -> CacheMode.parse(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("but was null");
    }
}
