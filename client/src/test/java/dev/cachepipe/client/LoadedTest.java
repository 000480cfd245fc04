package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LoadedTest {

    @Test
    void shouldCarryValueAndVersionWhenVersioned() {
        Loaded<String> loaded = Loaded.of("v", 12);

        assertThat(loaded.found()).isTrue();
        assertThat(loaded.versioned()).isTrue();
        assertThat(loaded.value()).isEqualTo("v");
        assertThat(loaded.version()).isEqualTo(12);
    }

    @Test
    void shouldMarkUnversionedValuesAndNotFound() {
        assertThat(Loaded.of("v").versioned()).isFalse();
        assertThat(Loaded.of("v").version()).isEqualTo(Loaded.NO_VERSION);
        assertThat(Loaded.notFound().found()).isFalse();
        assertThat(Loaded.notFound().value()).isNull();
    }

    @Test
    void shouldRejectNegativeVersionsAndNullValues() {
        assertThatThrownBy(() -> Loaded.of("v", -1)).hasMessage("version must be >= 0 but was -1");
        assertThatThrownBy(() -> Loaded.of(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void shouldTurnNullIntoNotFoundWhenLoaderIsAFunction() throws Exception {
        Loader<String> loader = Loader.of(id -> id.equals("1") ? "one" : null);

        assertThat(loader.load("1")).isEqualTo(Loaded.of("one"));
        assertThat(loader.load("2")).isSameAs(Loaded.notFound());
    }
}
