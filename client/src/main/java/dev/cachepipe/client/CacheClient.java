package dev.cachepipe.client;

/**
 * The application's entry point to cachepipe: typed entity caches that read a Caffeine L1 in this process, then the
 * Redis L2 that the pipeline writes, then (optionally) a loader — kept fresh by a listener on the invalidations
 * topic.
 *
 * <p>Build one per application with {@link #builder()} and close it on shutdown:
 *
 * <pre>{@code
 * try (CacheClient client = CacheClient.builder()
 *         .redisUri("redis://localhost:6379")
 *         .bootstrapServers("localhost:9092")
 *         .build()) {
 *     EntityCache<User> users = client.entity("user", Codec.json(User.class));
 *     Optional<User> user = users.get("42");
 * }
 * }</pre>
 *
 * <p>Instances are thread-safe. Reads never throw because Redis or Kafka is unavailable: see {@link EntityCache}.
 */
public interface CacheClient extends AutoCloseable {

    /** A new builder with the defaults documented on its methods. */
    static CacheClientBuilder builder() {
        return new CacheClientBuilder();
    }

    /**
     * The cache of one entity type. Calling it again with the same type returns the same instance when the codec is
     * equal to the first one.
     *
     * @param entityType the entity type, as in the domain events ({@code [a-z0-9_-]{1,64}})
     * @param codec decodes the payloads the pipeline stored (and encodes what loaders return)
     * @throws IllegalArgumentException if the type is invalid, or already registered with a different codec
     * @throws IllegalStateException if the client is closed
     */
    <T> EntityCache<T> entity(String entityType, Codec<T> codec);

    /** Counters summed over every entity type, plus the listener's state. */
    CacheStats stats();

    /** Stops the invalidation listener, closes the Redis connection and removes this client's meters. Idempotent. */
    @Override
    void close();
}
