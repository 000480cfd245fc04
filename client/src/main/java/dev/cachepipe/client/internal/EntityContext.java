package dev.cachepipe.client.internal;

import dev.cachepipe.client.Codec;

/**
 * What the parts of one entity type's cache ({@link EntryReader}, {@link LoadPath}) share: the type and its codec,
 * its Redis keys, its L1, the client's Redis and freshness guard, and the type's meters. Not API.
 */
record EntityContext<T>(
        String entityType,
        Codec<T> codec,
        EntityKeys keys,
        LocalCache l1,
        RedisL2 l2,
        Freshness freshness,
        EntityMetrics metrics) {}
