package dev.cachepipe.schemas;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Redis layout of a cache entry, shared by the cache writer, the client and any non-Java reader: the one place
 * where keys are built and parsed.
 *
 * <p>Key: {@code <keyPrefix>:<entityType>:<entityId>}. Value: a HASH with the fields below. Entity types match
 * {@code [a-z0-9_-]{1,64}} and therefore never contain {@code ':'}; entity ids may.
 *
 * <p>Beside the entries, under the same prefix: the self-healing marker {@code <keyPrefix>:@cachepipe} ('@' never
 * occurs in an entity type), the writer's watermarks {@code <keyPrefix>:@cachepipe:watermarks} and the clients' load
 * leases {@code <keyPrefix>::lease:<entityType>:<entityId>} (the
 * empty segment after the prefix cannot occur in an entry key, since prefix segments and entity types are never
 * empty). None of them can be mistaken for an entry, for any entity type.
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
        Objects.requireNonNull(entityId, "entityId");
        return keyBase(prefix, entityType) + entityId;
    }

    /** {@code <keyPrefix>:<entityType>:}: every entry key of that entity type starts with it, the id follows. */
    public static String keyBase(String prefix, String entityType) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(entityType, "entityType");
        return prefix + ':' + entityType + ':';
    }

    /** {@code <keyPrefix>::lease:<entityType>:}: the client's load lease of an id is this plus the id. */
    public static String leaseKeyBase(String prefix, String entityType) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(entityType, "entityType");
        return prefix + "::lease:" + entityType + ':';
    }

    /** {@code <keyPrefix>:@cachepipe}: the self-healing marker (see the writer's rebuild). */
    public static String markerKey(String prefix) {
        return Objects.requireNonNull(prefix, "prefix") + ":@cachepipe";
    }

    /**
     * {@code <keyPrefix>:@cachepipe:watermarks}: a HASH beside the marker whose field {@code <mutationsTopic>:<partition>}
     * holds the highest mutations offset of that partition whose writes this Redis holds, with every write before it
     * (see the writer's watermarks).
     */
    public static String watermarkKey(String prefix) {
        return markerKey(prefix) + ":watermarks";
    }

    /** The field of {@link #watermarkKey} for one partition of the mutations topic. */
    public static String watermarkField(String mutationsTopic, int partition) {
        Objects.requireNonNull(mutationsTopic, "mutationsTopic");
        return mutationsTopic + ':' + partition;
    }

    /**
     * Kafka record header of a purge announcement on the invalidations topic (value {@code 1}). Such a record is a
     * {@code CacheInvalidation} of the unchanged schema whose {@code entityType} is the purged type, whose {@code
     * entityId} is the purged id prefix (empty: every id) and whose {@code key} is {@link #purgeKey}: a key that names
     * no entry, so a client that does not know purges ignores the record as "another key prefix".
     */
    public static final String PURGE_HEADER = "cachepipe.purge";

    /** {@code <keyPrefix>:@purge:<entityType>:<idPrefix>}: the key of a purge announcement (see {@link #PURGE_HEADER}). */
    public static String purgeKey(String prefix, String entityType, String idPrefix) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(entityType, "entityType");
        return prefix + ":@purge:" + entityType + ':' + Objects.requireNonNull(idPrefix, "idPrefix");
    }

    /** An entry key taken apart. */
    public record EntryKey(String entityType, String entityId) {}

    /**
     * {@code key} as an entry key under {@code prefix}: its entity type (up to the next {@code ':'}, which must be a
     * valid entity type) and its non-empty id; empty for any other key (another prefix, a lease, the marker).
     */
    public static Optional<EntryKey> parse(String prefix, String key) {
        Objects.requireNonNull(prefix, "prefix");
        if (key == null
                || key.length() <= prefix.length() + 1
                || !key.startsWith(prefix)
                || key.charAt(prefix.length()) != ':') {
            return Optional.empty();
        }
        int typeStart = prefix.length() + 1;
        int colon = key.indexOf(':', typeStart);
        if (colon < 0 || colon + 1 >= key.length()) {
            return Optional.empty();
        }
        String type = key.substring(typeStart, colon);
        if (!isValidEntityType(type)) {
            return Optional.empty();
        }
        return Optional.of(new EntryKey(type, key.substring(colon + 1)));
    }
}
