package dev.cachepipe.client.internal;

import dev.cachepipe.schemas.RedisLayout;
import java.nio.charset.StandardCharsets;

/**
 * The Redis keys of one entity type's ids, as {@link RedisLayout} lays them out: the entry and the load lease. Both
 * bases are built once; a key costs one string per call. Not API.
 */
record EntityKeys(String entryBase, String leaseBase) {

    static EntityKeys of(String keyPrefix, String entityType) {
        return new EntityKeys(
                RedisLayout.keyBase(keyPrefix, entityType), RedisLayout.leaseKeyBase(keyPrefix, entityType));
    }

    /** {@code <keyPrefix>:<entityType>:<id>}. */
    byte[] entry(String id) {
        return (entryBase + id).getBytes(StandardCharsets.UTF_8);
    }

    /** {@code <keyPrefix>::lease:<entityType>:<id>}. */
    byte[] lease(String id) {
        return (leaseBase + id).getBytes(StandardCharsets.UTF_8);
    }
}
