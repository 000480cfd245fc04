package dev.cachepipe.bench;

import dev.cachepipe.client.CacheClient;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisConnector;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the client benchmarks run against: a local redis-server and a private embedded broker, with {@code entries}
 * entities of type {@code item} written to Redis in the pipeline's layout (JSON payloads of about 100 bytes).
 */
final class BenchFixture implements AutoCloseable {
    static final String PREFIX = "bench";
    static final String TOPIC = "cachepipe.invalidations";
    static final String TYPE = "item";

    /** The benchmarks' entity. */
    record Item(String id, long version, String name, String email, long updatedAt) {}

    final RedisServer redis; // null on a cluster
    final RedisCluster cluster; // null on one server
    final EmbeddedKafka kafka;
    final String[] ids;

    BenchFixture(int entries) {
        this(entries, false);
    }

    /** On one redis-server, or on a local Redis Cluster of three masters (no replicas) when {@code cluster}. */
    BenchFixture(int entries, boolean cluster) {
        this.redis = cluster ? null : RedisServer.start();
        this.cluster = cluster ? RedisCluster.start(3, 0) : null;
        this.kafka = EmbeddedKafka.startTemporary();
        kafka.createTopic(TOPIC, 3, Map.of());
        this.ids = new String[entries];
        AbstractRedisClient client = cluster
                ? RedisClusterClient.create(
                        java.util.Arrays.stream(this.cluster.seeds().split(","))
                                .map(RedisURI::create)
                                .toList())
                : RedisClient.create(redis.uri());
        try (StatefulConnection<byte[], byte[]> c = client instanceof RedisClusterClient cc
                ? cc.connect(ByteArrayCodec.INSTANCE)
                : ((RedisClient) client).connect(ByteArrayCodec.INSTANCE)) {
            for (int i = 0; i < entries; i++) {
                ids[i] = "id-" + i;
                String json = "{\"id\":\"" + ids[i] + "\",\"version\":1,\"name\":\"Name " + i + "\",\"email\":\"user"
                        + i + "@example.com\",\"updatedAt\":1700000000000}";
                Map<byte[], byte[]> hash = new LinkedHashMap<>();
                hash.put(bytes(RedisLayout.VERSION), bytes("1"));
                hash.put(bytes(RedisLayout.DATA), bytes(json));
                hash.put(bytes(RedisLayout.CONTENT_TYPE), bytes("application/json"));
                hash.put(bytes(RedisLayout.OCCURRED_AT), bytes("1700000000000"));
                RedisConnector.async(c).hset(key(ids[i]), hash).get();
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot write the fixture's entries", e);
        } finally {
            client.shutdown();
        }
    }

    /** The Redis URI (a cluster's seeds, comma-separated) for clients. */
    String redisUris() {
        return cluster != null ? cluster.seeds() : redis.uri();
    }

    static byte[] key(String id) {
        return bytes(RedisLayout.key(PREFIX, TYPE, id));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A client for this fixture with the given L1 size (0 = no L1: every get reads Redis). */
    CacheClient client(String name, long l1MaximumSize) {
        return CacheClient.builder()
                .name(name)
                .redisUri(redisUris())
                .bootstrapServers(kafka.bootstrapServers())
                .invalidationsTopic(TOPIC)
                .keyPrefix(PREFIX)
                .l1MaximumSize(l1MaximumSize)
                .l1ExpireAfterWrite(Duration.ofHours(1))
                .build();
    }

    @Override
    public void close() {
        kafka.close();
        if (redis != null) {
            redis.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }
}
