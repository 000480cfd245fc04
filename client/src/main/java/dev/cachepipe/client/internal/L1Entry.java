package dev.cachepipe.client.internal;

import java.util.Optional;

/**
 * One L1 entry: a decoded value, or a definite "not found", at a version. Immutable. Not API.
 *
 * @param version the entry's version; {@link #UNVERSIONED} for a loader's value or "not found" whose version is
 *     unknown (every invalidation replaces it)
 * @param value the decoded value, or {@code null} for "not found"
 */
public record L1Entry(long version, Object value) {
    public static final long UNVERSIONED = -1;

    public static L1Entry value(long version, Object value) {
        return new L1Entry(version, java.util.Objects.requireNonNull(value, "value"));
    }

    public static L1Entry notFound(long version) {
        return new L1Entry(version, null);
    }

    public boolean found() {
        return value != null;
    }

    @SuppressWarnings("unchecked")
    public <T> Optional<T> optional() {
        return Optional.ofNullable((T) value);
    }

    @SuppressWarnings("unchecked")
    public <T> T valueOrNull() {
        return (T) value;
    }
}
