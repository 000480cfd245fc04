package dev.cachepipe.topology.internal;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.topology.EntityPolicy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** Maps a valid domain event to the cache mutation its entity type's policy asks for. Pure functions. */
final class PolicyMapper {
    private PolicyMapper() {}

    /**
     * write-through: UPSERT → UPSERT with the payload and {@code ttl ± jitter}; DELETE → TOMBSTONE with {@code
     * tombstoneTtl}. invalidate: any event → FENCE with {@code tombstoneTtl}. expire-only: nothing.
     */
    static Optional<CacheMutation> toMutation(String redisKey, DomainEvent event, EntityPolicy policy) {
        CacheMutation.Builder m = CacheMutation.newBuilder()
                .setKey(redisKey)
                .setEntityType(event.getEntityType())
                .setEntityId(event.getEntityId())
                .setVersion(event.getVersion())
                .setOccurredAt(event.getOccurredAt())
                .setEventId(event.getEventId())
                .setContentType(null)
                .setPayload(null)
                .setInlineInvalidation(false);
        long tombstoneTtl = policy.tombstoneTtl().toMillis();
        switch (policy.mode()) {
            case WRITE_THROUGH:
                if (event.getOp() == Operation.UPSERT) {
                    ByteBuffer payload = event.getPayload().duplicate();
                    return Optional.of(m.setOp(MutationOp.UPSERT)
                            .setTtlMillis(jitteredTtlMillis(
                                    policy.ttl().toMillis(), policy.ttlJitter(), redisKey, event.getVersion()))
                            .setContentType(event.getContentType())
                            .setPayload(payload)
                            .setInlineInvalidation(payload.remaining() <= policy.inlineInvalidationMaxBytes())
                            .build());
                }
                return Optional.of(
                        m.setOp(MutationOp.TOMBSTONE).setTtlMillis(tombstoneTtl).build());
            case INVALIDATE:
                return Optional.of(fence(m, policy));
            case EXPIRE_ONLY:
                return Optional.empty();
            default:
                throw new IllegalStateException("unhandled mode " + policy.mode());
        }
    }

    /**
     * A FENCE at the event's version for {@code tombstoneTtl}: what a valid event of an invalidate-mode type maps to,
     * and what stands in for an update that could not be emitted (it was dead-lettered) so that readers miss and load
     * instead of being served the value before it. Empty for an expire-only type.
     */
    static Optional<CacheMutation> toFence(String redisKey, DomainEvent event, EntityPolicy policy) {
        if (policy.mode() == dev.cachepipe.topology.CacheMode.EXPIRE_ONLY) {
            return Optional.empty();
        }
        return Optional.of(fence(
                CacheMutation.newBuilder()
                        .setKey(redisKey)
                        .setEntityType(event.getEntityType())
                        .setEntityId(event.getEntityId())
                        .setVersion(event.getVersion())
                        .setOccurredAt(event.getOccurredAt())
                        .setEventId(event.getEventId()),
                policy));
    }

    /** {@code m} as a FENCE of {@code policy}'s {@code tombstoneTtl}, without payload. */
    static CacheMutation fence(CacheMutation.Builder m, EntityPolicy policy) {
        return m.setOp(MutationOp.FENCE)
                .setTtlMillis(policy.tombstoneTtl().toMillis())
                .setContentType(null)
                .setPayload(null)
                .setInlineInvalidation(false)
                .build();
    }

    /**
     * {@code ttlMillis * (1 + jitter * u)} rounded, with {@code u} in {@code [-1, 1)} derived from a hash of the
     * Redis key and the version, so a replay of the same event yields the same TTL. Never less than 1.
     */
    static long jitteredTtlMillis(long ttlMillis, double jitter, String redisKey, long version) {
        if (jitter == 0) {
            return ttlMillis;
        }
        double u = (mix(hash(redisKey, version)) >>> 11) * 0x1.0p-53; // [0, 1)
        return Math.max(1, Math.round(ttlMillis * (1 + jitter * (2 * u - 1))));
    }

    /** FNV-1a over the key's UTF-8 bytes, combined with the version; stable across JVMs and versions. */
    private static long hash(String key, long version) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h ^ (version * 0x9E3779B97F4A7C15L);
    }

    /** The SplitMix64 finalizer: spreads every input bit over the output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
