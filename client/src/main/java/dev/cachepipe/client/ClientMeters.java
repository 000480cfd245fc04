package dev.cachepipe.client;

/**
 * Names and tags of the meters a {@link CacheClient} registers (all tagged {@link #CLIENT} with the client's name): the
 * contract that dashboards, the demo, benchmarks and tests compile against instead of retyping strings.
 */
public final class ClientMeters {
    /** Prefix of every client meter. */
    public static final String PREFIX = "cachepipe.client.";

    /** Function counter: gets by {@link #ENTITY}, {@link #LEVEL} and {@link #RESULT} (hit, miss, error). */
    public static final String GETS = PREFIX + "gets";
    /** Function counter: loaded values written to Redis, {@link #RESULT} stored, dropped, behind or error. */
    public static final String FILLS = PREFIX + "fills";
    /** Function counter: values not put into L1 because an invalidation overtook them ({@link #REASON} stale). */
    public static final String L1_REJECTED = PREFIX + "l1.rejected";
    /**
     * Function counter: invalidations by {@link #ENTITY} and effect on L1 ({@link #RESULT} updated, evicted, stale,
     * not_cached; undecodable ones with entity {@link #UNKNOWN_ENTITY}).
     */
    public static final String INVALIDATIONS = PREFIX + "invalidations";
    /** Function counter: payloads the codec could not decode, by {@link #ENTITY}. */
    public static final String DECODE_ERRORS = PREFIX + "decode.errors";
    /** Function counter: load leases by {@link #RESULT} acquired, waited, wait_timeout. */
    public static final String LEASES = PREFIX + "leases";
    /**
     * Function counter: purges ({@code cachepipe purge}) the listener applied to L1, by {@link #ENTITY}: each dropped
     * the entity type's (or an id prefix's) entries.
     */
    public static final String PURGES = PREFIX + "purges";
    /** Function counter: times the listener cleared L1, by {@link #REASON}. */
    public static final String RESYNCS = PREFIX + "resyncs";
    /** Gauge: entries in L1 (estimated), by {@link #ENTITY}. */
    public static final String L1_SIZE = PREFIX + "l1.size";
    /** Gauge: invalidations published but not yet applied. */
    public static final String LISTENER_LAG = PREFIX + "listener.lag";
    /** Gauge: 1 while the listener is in contact with Kafka. */
    public static final String LISTENER_CONNECTED = PREFIX + "listener.connected";
    /** Gauge: 1 while L1 is in use. */
    public static final String L1_ENABLED = PREFIX + "l1.enabled";
    /** Gauge: 1 while Redis answers. */
    public static final String REDIS_AVAILABLE = PREFIX + "redis.available";
    /** Timer (p50, p99 published): from the Redis write to the invalidation being applied to L1. */
    public static final String INVALIDATION_DELAY = PREFIX + "invalidation.delay";
    /**
     * Timer (p50, p99, p99.9 published): from the domain event's {@code occurredAt} to its invalidation being applied
     * to this client's L1, the freshness an application sees end to end (clocks of the producer and this machine).
     */
    public static final String FRESHNESS = PREFIX + "freshness";
    /** Timer (p50, p99 published): Redis round trips of the client, by {@link #OP}. */
    public static final String L2_LATENCY = PREFIX + "l2.latency";
    /** Timer (p50, p99 published): time spent in loaders, by {@link #ENTITY} and {@link #RESULT}. */
    public static final String LOAD_LATENCY = PREFIX + "load.latency";

    /** Tag of every client meter: the client's name. */
    public static final String CLIENT = "client";
    /** Tag: the entity type. */
    public static final String ENTITY = "entity";
    /** Tag of {@link #GETS}: {@link #LEVEL_L1}, {@link #LEVEL_L2} or {@link #LEVEL_LOADER}. */
    public static final String LEVEL = "level";
    /** Tag: what a get, fill, invalidation, lease or load came to. */
    public static final String RESULT = "result";
    /** Tag of {@link #RESYNCS} and {@link #L1_REJECTED}: why. */
    public static final String REASON = "reason";
    /** Tag of {@link #L2_LATENCY}: {@link #OP_READ}, {@link #OP_READ_ALL}, {@link #OP_FILL} or {@link #OP_LEASE}. */
    public static final String OP = "op";

    public static final String LEVEL_L1 = "l1";
    public static final String LEVEL_L2 = "l2";
    public static final String LEVEL_LOADER = "loader";

    public static final String RESULT_HIT = "hit";
    public static final String RESULT_MISS = "miss";
    public static final String RESULT_ERROR = "error";
    public static final String RESULT_STORED = "stored";
    public static final String RESULT_DROPPED = "dropped";
    /** {@link #FILLS}: a loaded value older than a version the client already saw; neither stored nor returned. */
    public static final String RESULT_BEHIND = "behind";

    public static final String RESULT_UPDATED = "updated";
    public static final String RESULT_EVICTED = "evicted";
    public static final String RESULT_STALE = "stale";
    public static final String RESULT_NOT_CACHED = "not_cached";
    public static final String RESULT_UNDECODABLE = "undecodable";
    public static final String RESULT_ACQUIRED = "acquired";
    public static final String RESULT_WAITED = "waited";
    public static final String RESULT_WAIT_TIMEOUT = "wait_timeout";

    /** {@link #REASON} of {@link #L1_REJECTED}. */
    public static final String REASON_STALE = "stale";

    /** {@link #ENTITY} of an invalidation that could not be decoded. */
    public static final String UNKNOWN_ENTITY = "unknown";

    public static final String OP_READ = "read";
    public static final String OP_READ_ALL = "read_all";
    public static final String OP_FILL = "fill";
    public static final String OP_LEASE = "lease";

    private ClientMeters() {}
}
