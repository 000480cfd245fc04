package dev.cachepipe.topology;

import java.util.Arrays;
import java.util.Locale;

/** How the cache follows the domain events of one entity type. */
public enum CacheMode {
    /** The cache holds the full state: upserts store the payload, deletes write a tombstone. */
    WRITE_THROUGH("write-through"),
    /** Every event fences the key; readers fill it through their loader. */
    INVALIDATE("invalidate"),
    /** Events are ignored (but still validated); entries only expire. */
    EXPIRE_ONLY("expire-only");

    private final String configName;

    CacheMode(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration files: {@code write-through}, {@code invalidate} or {@code expire-only}. */
    public String configName() {
        return configName;
    }

    /**
     * The mode whose {@link #configName()} equals {@code value} (ignoring case and surrounding blanks).
     *
     * @throws IllegalArgumentException naming the value and the allowed ones
     */
    public static CacheMode parse(String value) {
        if (value != null) {
            String wanted = value.trim().toLowerCase(Locale.ROOT);
            for (CacheMode mode : values()) {
                if (mode.configName.equals(wanted)) {
                    return mode;
                }
            }
        }
        throw new IllegalArgumentException("cache mode must be one of "
                + Arrays.stream(values()).map(CacheMode::configName).toList()
                + " but was " + (value == null ? "null" : "\"" + value + "\""));
    }
}
