package dev.cachepipe.schemas;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.InvalidationOp;
import java.time.Instant;
import java.util.Objects;

/**
 * How a purge ({@code cachepipe purge}) is announced on the invalidations topic, with the {@code CacheInvalidation}
 * schema unchanged, so that clients of earlier releases decode it and ignore it:
 *
 * <ul>
 *   <li>Kafka header {@link RedisLayout#PURGE_HEADER} = {@code 1} (clients that know purges look for it);
 *   <li>{@code key} (and the Kafka record key) {@link RedisLayout#purgeKey}, which names no entry: a client that does
 *       not know purges finds it is not the key of {@code entityType}/{@code entityId} under its prefix and skips it,
 *       as it skips another key prefix's invalidations;
 *   <li>{@code entityType} the purged type, {@code entityId} the purged id prefix ({@code ""}: every id), {@code op}
 *       {@code INVALIDATE}, {@code version} 0, {@code occurredAt} when the purge started, {@code writtenAt} when its
 *       last fence was acknowledged.
 * </ul>
 *
 * <p>It is published on every partition of the topic; a client applies it once.
 */
public final class PurgeAnnouncement {
    private PurgeAnnouncement() {}

    /** The announcement of a purge of {@code entityType} ids starting with {@code idPrefix} under {@code keyPrefix}. */
    public static CacheInvalidation of(
            String keyPrefix, String entityType, String idPrefix, Instant startedAt, Instant finishedAt) {
        return CacheInvalidation.newBuilder()
                .setKey(RedisLayout.purgeKey(keyPrefix, entityType, idPrefix))
                .setEntityType(entityType)
                .setEntityId(idPrefix)
                .setVersion(0)
                .setOp(InvalidationOp.INVALIDATE)
                .setOccurredAt(Objects.requireNonNull(startedAt, "startedAt"))
                .setWrittenAt(Objects.requireNonNull(finishedAt, "finishedAt"))
                .build();
    }

    /** Whether {@code inv}, which came with the purge header, announces a purge under {@code keyPrefix}. */
    public static boolean isUnder(String keyPrefix, CacheInvalidation inv) {
        return inv.getKey().equals(RedisLayout.purgeKey(keyPrefix, inv.getEntityType(), inv.getEntityId()));
    }
}
