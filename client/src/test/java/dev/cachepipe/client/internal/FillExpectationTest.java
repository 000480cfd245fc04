package dev.cachepipe.client.internal;

import static dev.cachepipe.client.Loaded.NO_VERSION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The encoding of a fill's expectation is the one {@code fill_entry.lua} documents for its ARGV[2]. */
class FillExpectationTest {

    @Test
    void shouldEncodeEachExpectationAsFillEntryDocumentsItWhenSent() {
        assertThat(FillExpectation.VERSIONED.luaArgument()).isEqualTo("*");
        assertThat(FillExpectation.ABSENT.luaArgument()).isEmpty();
        assertThat(FillExpectation.fence(0).luaArgument()).isEqualTo("0");
        assertThat(FillExpectation.fence(9_007_199_254_740_993L).luaArgument()).isEqualTo("9007199254740993");
        assertThatThrownBy(FillExpectation.DO_NOT_FILL::luaArgument).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldStoreTheLoadersVersionZeroOrTheFencesWhenFilling() {
        assertThat(FillExpectation.VERSIONED.storedVersion(7)).isEqualTo(7);
        assertThat(FillExpectation.ABSENT.storedVersion(NO_VERSION)).isZero();
        assertThat(FillExpectation.fence(4).storedVersion(NO_VERSION)).isEqualTo(4);
        assertThatThrownBy(() -> FillExpectation.DO_NOT_FILL.storedVersion(7))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldGateEveryVersionedLoadAndLetAnUnversionedOneExpectWhatTheMissSawWhenTheLoadBegins() {
        for (FillExpectation seen :
                new FillExpectation[] {FillExpectation.ABSENT, FillExpectation.fence(3), FillExpectation.DO_NOT_FILL}) {
            assertThat(FillExpectation.forLoad(true, seen)).isEqualTo(FillExpectation.VERSIONED);
            assertThat(FillExpectation.forLoad(false, seen)).isEqualTo(seen);
        }
        assertThat(FillExpectation.DO_NOT_FILL.fills()).isFalse();
        assertThat(FillExpectation.fence(3).fills()).isTrue();
    }

    @Test
    void shouldRefuseAFillWithoutAnExpectationOrANegativeFenceWhenBuilt() {
        byte[] key = {'k'};
        byte[] payload = {'p'};
        assertThatThrownBy(() -> new Fill(key, 1, FillExpectation.DO_NOT_FILL, payload, null, 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FillExpectation.fence(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("version must be >= 0 but was -1");
        assertThat(new Fill(key, 0, FillExpectation.ABSENT, payload, null, 0, 1).expect())
                .isEqualTo(FillExpectation.ABSENT);
    }
}
