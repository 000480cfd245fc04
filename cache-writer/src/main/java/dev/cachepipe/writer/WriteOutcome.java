package dev.cachepipe.writer;

import java.util.Locale;

/**
 * What one version-gated script call did to Redis: the {@code outcome} tag of {@link WriterMeters#WRITES} and
 * {@link WriterMeters#REBUILD_RECORDS}.
 */
public enum WriteOutcome {
    /** Redis now holds this write because of this writer: an invalidation is due. */
    APPLIED,
    /** Redis holds a newer version; nothing changed. */
    STALE,
    /** Redis holds this version already; nothing changed. */
    DUPLICATE;

    private final String tag = name().toLowerCase(Locale.ROOT);

    /** The meter tag value: {@code applied}, {@code stale} or {@code duplicate}. */
    public String tag() {
        return tag;
    }
}
