package dev.cachepipe.client.internal;

import java.util.Objects;

/**
 * One call of {@code fill_entry.lua}: store a value a loader produced, unless an invalidation overtook the load.
 * Not API.
 *
 * @param entryKey the entry's Redis key
 * @param version the version to store (field {@code v})
 * @param expect what Redis must still hold for the fill to be stored; never {@link FillExpectation#DO_NOT_FILL}
 * @param payload the encoded value (field {@code d})
 * @param contentType the codec's content type (field {@code ct}), or {@code null} for none
 * @param occurredAtMillis when the loader ran, epoch milliseconds (field {@code ts})
 * @param ttlMillis how long the filled entry lives, at least 1
 */
public record Fill(
        byte[] entryKey,
        long version,
        FillExpectation expect,
        byte[] payload,
        String contentType,
        long occurredAtMillis,
        long ttlMillis) {
    public Fill {
        Check.atLeast("version", version, 0);
        Objects.requireNonNull(entryKey, "entryKey");
        Objects.requireNonNull(payload, "payload");
        if (!Objects.requireNonNull(expect, "expect").fills()) {
            throw new IllegalArgumentException("expect must say what Redis holds but was " + expect);
        }
        Check.atLeast("ttlMillis", ttlMillis, 1);
    }
}
