package dev.cachepipe.writer.internal.replay;

import java.util.HashMap;
import java.util.Map;

/**
 * The newest version of every key of a replayed range, read by a rebuild's first pass, so that the second pass writes
 * only each key's newest record (see {@link ReplayDriver}); bounded: it refuses a key beyond {@code maxKeys}.
 */
final class ReplayIndex {
    private final int maxKeys;
    private final Map<String, Long> newest = new HashMap<>();

    ReplayIndex(int maxKeys) {
        this.maxKeys = maxKeys;
    }

    /** Notes a record of {@code key}; false if the key is new and the index is full. */
    boolean offer(String key, long version) {
        Long known = newest.get(key);
        if (known == null) {
            if (newest.size() >= maxKeys) {
                return false;
            }
            newest.put(key, version);
        } else if (version > known) {
            newest.put(key, version);
        }
        return true;
    }

    /** Whether a newer record of {@code key} than {@code version} is in the range. */
    boolean superseded(String key, long version) {
        Long known = newest.get(key);
        return known != null && version < known;
    }

    int keys() {
        return newest.size();
    }
}
