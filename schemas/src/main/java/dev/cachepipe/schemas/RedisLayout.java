package dev.cachepipe.schemas;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The Redis layout of a cache entry, shared by the cache writer, the client and any non-Java reader.
 *
 * <p>Key: {@code <keyPrefix>:<entityType>:<entityId>}. Value: a HASH with the fields below. Entity types match
 * {@code [a-z0-9_-]{1,64}} and therefore never contain {@code ':'}; entity ids may.
 */
public final class RedisLayout {
    /** Version of the stored entry, decimal. */
    public static final String VERSION = "v";
    /** Payload bytes (absent for tombstones and fences). */
    public static final String DATA = "d";
    /** Content type of the payload. */
    public static final String CONTENT_TYPE = "ct";
    /** occurredAt of the event that wrote the entry, epoch milliseconds. */
    public static final String OCCURRED_AT = "ts";
    /** {@code 1} when the entity was deleted: readers get a definite "not found". */
    public static final String DELETED = "del";
    /** {@code 1} when the value was dropped behind an invalidation fence: readers treat it as a miss. */
    public static final String INVALIDATED = "inv";

    /** Default key prefix. */
    public static final String DEFAULT_PREFIX = "cache";

    private static final Pattern ENTITY_TYPE = Pattern.compile("[a-z0-9_-]{1,64}");
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.{}-]+(:[A-Za-z0-9_.{}-]+)*");

    private RedisLayout() {}

    /** Whether {@code entityType} is a valid entity type name. */
    public static boolean isValidEntityType(String entityType) {
        return entityType != null && ENTITY_TYPE.matcher(entityType).matches();
    }

    /** Whether {@code prefix} is a valid key prefix. */
    public static boolean isValidPrefix(String prefix) {
        return prefix != null && PREFIX.matcher(prefix).matches();
    }

    /** The Redis key of one entity. */
    public static String key(String prefix, String entityType, String entityId) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(entityType, "entityType");
        Objects.requireNonNull(entityId, "entityId");
        return prefix + ':' + entityType + ':' + entityId;
    }
}
