package dev.cachepipe.client.internal;

/**
 * What a fill expects Redis to hold for the id, decided when the load began; the only place that knows how {@code
 * fill_entry.lua} encodes it (its ARGV[2]). Not API.
 *
 * <ul>
 *   <li>{@link #VERSIONED} ({@code '*'}): the loader returned the entity's version; the fill is version-gated like
 *       the pipeline's writes.
 *   <li>{@link #ABSENT} ({@code ''}): an unversioned load of a key that was absent; stored at version 0 (so that
 *       every later write of the pipeline wins) only if the key is still absent.
 *   <li>{@link Fence} (the decimal version): an unversioned load of a key that held a fence; stored at the fence's
 *       version only if the key still holds exactly that fence.
 *   <li>{@link #DO_NOT_FILL}: Redis holds something this client cannot read (or newer than L1 could take): an
 *       unversioned load leaves it alone. Has no encoding.
 * </ul>
 */
public sealed interface FillExpectation permits FillExpectation.Plain, FillExpectation.Fence {
    FillExpectation VERSIONED = Plain.VERSIONED;
    FillExpectation ABSENT = Plain.ABSENT;
    FillExpectation DO_NOT_FILL = Plain.DO_NOT_FILL;

    /** The key held a fence at {@code version} (a value dropped behind an invalidation). */
    static FillExpectation fence(long version) {
        return new Fence(version);
    }

    /** The expectation of a load that began after a miss that saw {@code seen}: a versioned load is always gated. */
    static FillExpectation forLoad(boolean versioned, FillExpectation seen) {
        return versioned ? VERSIONED : seen;
    }

    /** Whether a fill may be sent with this expectation (all but {@link #DO_NOT_FILL}). */
    default boolean fills() {
        return this != DO_NOT_FILL;
    }

    /**
     * The version the fill stores (field {@code v}): the loader's own under {@link #VERSIONED}, 0 over an absent key,
     * the fence's over a fence.
     *
     * @throws IllegalStateException for {@link #DO_NOT_FILL}
     */
    default long storedVersion(long loadedVersion) {
        if (this instanceof Fence fence) {
            return fence.version();
        }
        if (this == DO_NOT_FILL) {
            throw new IllegalStateException("DO_NOT_FILL stores nothing");
        }
        return this == VERSIONED ? loadedVersion : 0;
    }

    /**
     * ARGV[2] of {@code fill_entry.lua}: {@code *}, the empty string, or the fence's canonical decimal version.
     *
     * @throws IllegalStateException for {@link #DO_NOT_FILL}
     */
    String luaArgument();

    /** The expectations without a version. */
    enum Plain implements FillExpectation {
        VERSIONED("*"),
        ABSENT(""),
        DO_NOT_FILL(null);

        private final String luaArgument;

        Plain(String luaArgument) {
            this.luaArgument = luaArgument;
        }

        @Override
        public String luaArgument() {
            if (luaArgument == null) {
                throw new IllegalStateException(name() + " is not sent to Redis");
            }
            return luaArgument;
        }
    }

    /** The key held a fence at {@code version}. */
    record Fence(long version) implements FillExpectation {
        public Fence {
            Check.atLeast("version", version, 0);
        }

        @Override
        public String luaArgument() {
            return Long.toString(version);
        }
    }
}
