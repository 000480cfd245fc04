package dev.cachepipe.client.internal;

import java.time.Duration;
import java.util.Objects;

/** Argument checks whose messages name the setting, the bound and the value (Caffeine's style). Not API. */
public final class Check {
    private Check() {}

    public static long atLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + " but was " + value);
        }
        return value;
    }

    public static Duration positive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0 but was " + value);
        }
        return value;
    }

    public static Duration atLeast(String name, Duration value, Duration min) {
        Objects.requireNonNull(value, name);
        if (value.compareTo(min) < 0) {
            throw new IllegalArgumentException(name + " must be >= " + min + " but was " + value);
        }
        return value;
    }

    public static Duration atMost(String name, Duration value, Duration max) {
        Objects.requireNonNull(value, name);
        if (value.compareTo(max) > 0) {
            throw new IllegalArgumentException(name + " must be <= " + max + " but was " + value);
        }
        return value;
    }
}
