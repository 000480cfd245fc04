package dev.cachepipe.app.testing;

import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.CacheEntry;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TransactionResult;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** Reads single cache entries for assertions. */
public final class RedisProbe implements AutoCloseable {
    private final RedisClient client;
    private final StatefulRedisConnection<String, byte[]> connection;

    public RedisProbe(RedisServer redis) {
        RedisURI uri = RedisURI.create(redis.uri());
        uri.setTimeout(Duration.ofSeconds(5));
        client = RedisClient.create(uri);
        connection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    }

    public RedisCommands<String, byte[]> sync() {
        return connection.sync();
    }

    public Optional<CacheEntry> read(String key) {
        return CacheEntry.decode(connection.sync().hgetall(key));
    }

    /** The entry and its remaining TTL in ms, read atomically (MULTI/EXEC) so that no write falls between. */
    public record Snapshot(Optional<CacheEntry> entry, long pttl) {}

    @SuppressWarnings("unchecked")
    public Snapshot readWithTtl(String key) {
        RedisCommands<String, byte[]> redis = connection.sync();
        redis.multi();
        redis.hgetall(key);
        redis.pttl(key);
        TransactionResult result = redis.exec();
        return new Snapshot(CacheEntry.decode((Map<String, byte[]>) result.get(0)), (Long) result.get(1));
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
