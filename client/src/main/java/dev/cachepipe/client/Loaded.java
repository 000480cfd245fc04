package dev.cachepipe.client;

import java.util.Objects;

/**
 * What a {@link Loader} found: a value with or without its version, or "not found". Immutable.
 *
 * @param <T> the entity's Java type
 */
public final class Loaded<T> {
    /** Marks a value whose version the loader does not know. */
    public static final long NO_VERSION = -1;

    private static final Loaded<?> NOT_FOUND = new Loaded<>(null, NO_VERSION);

    private final T value;
    private final long version;

    private Loaded(T value, long version) {
        this.value = value;
        this.version = version;
    }

    /**
     * A value at a known version (the same version the domain events carry for this entity).
     *
     * @throws IllegalArgumentException if {@code version} is negative
     */
    public static <T> Loaded<T> of(T value, long version) {
        Objects.requireNonNull(value, "value");
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0 but was " + version);
        }
        return new Loaded<>(value, version);
    }

    /** A value whose version is unknown; prefer {@link #of(Object, long)}. */
    public static <T> Loaded<T> of(T value) {
        return new Loaded<>(Objects.requireNonNull(value, "value"), NO_VERSION);
    }

    /** The entity does not exist. */
    @SuppressWarnings("unchecked")
    public static <T> Loaded<T> notFound() {
        return (Loaded<T>) NOT_FOUND;
    }

    /** Whether a value was found. */
    public boolean found() {
        return value != null;
    }

    /** The value, or {@code null} if not found. */
    public T value() {
        return value;
    }

    /** The version, or {@link #NO_VERSION}. */
    public long version() {
        return version;
    }

    /** Whether the loader returned the version. */
    public boolean versioned() {
        return version != NO_VERSION;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Loaded<?> l && version == l.version && Objects.equals(value, l.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(value, version);
    }

    @Override
    public String toString() {
        if (!found()) {
            return "Loaded[notFound]";
        }
        return "Loaded[" + value + (versioned() ? ", version=" + version : ", unversioned") + "]";
    }
}
