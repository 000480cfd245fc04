package dev.cachepipe.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One decoded Redis cache entry (see {@link RedisLayout}).
 *
 * @param version the stored version
 * @param state whether the entry holds a value, a tombstone or a fence
 * @param contentType content type of {@code payload}, or {@code null} when there is none
 * @param occurredAt occurredAt of the event that wrote the entry, epoch ms
 * @param payload the value bytes; {@code null} unless {@code state == VALUE}
 */
public record CacheEntry(long version, State state, String contentType, long occurredAt, byte[] payload) {

    /** What an entry says about its entity. */
    public enum State {
        /** The entity's current state is {@code payload}. */
        VALUE,
        /** The entity was deleted: a definite "not found". */
        TOMBSTONE,
        /** The value was dropped at {@code version}: a miss; fills older than the fence are refused. */
        FENCE
    }

    public CacheEntry {
        Objects.requireNonNull(state, "state");
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0 but was " + version);
        }
        if (state == State.VALUE && payload == null) {
            throw new IllegalArgumentException("a VALUE entry needs a payload");
        }
    }

    /**
     * Decodes the fields of a Redis HASH. Returns empty for an empty map (absent key).
     *
     * @throws IllegalArgumentException if the hash is not a cachepipe entry
     */
    public static Optional<CacheEntry> decode(Map<String, byte[]> hash) {
        if (hash == null || hash.isEmpty()) {
            return Optional.empty();
        }
        byte[] v = hash.get(RedisLayout.VERSION);
        if (v == null) {
            throw new IllegalArgumentException("not a cachepipe entry: field '" + RedisLayout.VERSION + "' missing");
        }
        long version = parseLong(v, RedisLayout.VERSION);
        byte[] ts = hash.get(RedisLayout.OCCURRED_AT);
        long occurredAt = ts == null ? 0L : parseLong(ts, RedisLayout.OCCURRED_AT);
        byte[] ct = hash.get(RedisLayout.CONTENT_TYPE);
        String contentType = ct == null ? null : new String(ct, StandardCharsets.UTF_8);
        State state;
        if (isOne(hash.get(RedisLayout.DELETED))) {
            state = State.TOMBSTONE;
        } else if (isOne(hash.get(RedisLayout.INVALIDATED))) {
            state = State.FENCE;
        } else {
            state = State.VALUE;
        }
        byte[] payload = state == State.VALUE ? hash.get(RedisLayout.DATA) : null;
        if (state == State.VALUE && payload == null) {
            throw new IllegalArgumentException("not a cachepipe entry: value without field '" + RedisLayout.DATA + "'");
        }
        return Optional.of(new CacheEntry(version, state, contentType, occurredAt, payload));
    }

    private static boolean isOne(byte[] b) {
        return b != null && b.length == 1 && b[0] == '1';
    }

    private static long parseLong(byte[] b, String field) {
        String s = new String(b, StandardCharsets.UTF_8);
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a cachepipe entry: field '" + field + "' is not a number: " + s, e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheEntry e
                && version == e.version
                && occurredAt == e.occurredAt
                && state == e.state
                && Objects.equals(contentType, e.contentType)
                && java.util.Arrays.equals(payload, e.payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, state, contentType, occurredAt, java.util.Arrays.hashCode(payload));
    }

    @Override
    public String toString() {
        return "CacheEntry[version=" + version + ", state=" + state + ", contentType=" + contentType + ", occurredAt="
                + occurredAt + ", payload=" + (payload == null ? "null" : payload.length + " bytes") + "]";
    }
}
