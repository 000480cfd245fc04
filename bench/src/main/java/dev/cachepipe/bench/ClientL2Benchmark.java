package dev.cachepipe.bench;

import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.schemas.RedisLayout;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * L2 hits through the client (L1 off, so every {@code get} reads Redis: HMGET, entry decoding, the monotonic-read
 * check, counters and the latency timer) against raw Lettuce {@code HMGET} of the same five fields on the same
 * Redis, one thread each; on one redis-server and ({@code -p redisMode=cluster}) on a local Redis Cluster of three
 * masters, where both go through Lettuce's cluster client to the key's master. {@code clientBytes} leaves the payload as it is (the client's own overhead);
 * {@code clientJson} also decodes it with Jackson.
 *
 * <pre>
 * ./mvnw -B -o -q -pl client -am install -DskipTests &amp;&amp; ./mvnw -B -o -q -pl bench package -DskipTests
 * java -jar bench/target/cachepipe-bench.jar ClientL2Benchmark -f 1 -wi 2 -i 3 -w 2s -r 3s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ClientL2Benchmark {
    private static final int ENTRIES = 1024;
    private static final byte[][] FIELDS = {
        BenchFixture.bytes(RedisLayout.VERSION),
        BenchFixture.bytes(RedisLayout.DATA),
        BenchFixture.bytes(RedisLayout.CONTENT_TYPE),
        BenchFixture.bytes(RedisLayout.DELETED),
        BenchFixture.bytes(RedisLayout.INVALIDATED)
    };

    private BenchFixture fixture;
    private CacheClient client;
    private CacheClient bytesClient;
    private EntityCache<BenchFixture.Item> json;
    private EntityCache<byte[]> raw;
    /** {@code standalone}: one redis-server; {@code cluster}: a local Redis Cluster of three masters. */
    @Param({"standalone", "cluster"})
    public String redisMode;

    private AbstractRedisClient lettuce;
    private StatefulConnection<byte[], byte[]> connection;
    private RedisClusterCommands<byte[], byte[]> redis;
    private String[] ids;
    private byte[][] keys;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        fixture = new BenchFixture(ENTRIES, "cluster".equals(redisMode));
        ids = fixture.ids;
        keys = new byte[ENTRIES][];
        for (int i = 0; i < ENTRIES; i++) {
            keys[i] = BenchFixture.key(ids[i]);
        }
        client = fixture.client("bench-l2", 0);
        json = client.entity(BenchFixture.TYPE, Codec.json(BenchFixture.Item.class));
        // Same Redis entries read as raw bytes: a second client (one codec per entity type and client).
        bytesClient = fixture.client("bench-l2-bytes", 0);
        raw = bytesClient.entity(BenchFixture.TYPE, Codec.bytes());
        if (fixture.cluster != null) {
            // the same cluster client the pipeline's connector makes: reads go to the key's master
            RedisClusterClient c = RedisClusterClient.create(
                    java.util.Arrays.stream(fixture.redisUris().split(","))
                            .map(RedisURI::create)
                            .toList());
            StatefulRedisClusterConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE);
            lettuce = c;
            connection = conn;
            redis = conn.sync();
        } else {
            RedisClient c = RedisClient.create(fixture.redis.uri());
            StatefulRedisConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE);
            lettuce = c;
            connection = conn;
            redis = conn.sync();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.println();
        System.out.println("client stats (json): " + json.stats());
        System.out.println("client stats (bytes): " + raw.stats());
        connection.close();
        lettuce.shutdown();
        client.close();
        bytesClient.close();
        fixture.close();
    }

    private int index() {
        return next++ & (ENTRIES - 1);
    }

    @Benchmark
    public Optional<BenchFixture.Item> clientJson() {
        return json.get(ids[index()]);
    }

    @Benchmark
    public Optional<byte[]> clientBytes() {
        return raw.get(ids[index()]);
    }

    @Benchmark
    public List<KeyValue<byte[], byte[]>> rawLettuceHmget() {
        return redis.hmget(keys[index()], FIELDS);
    }
}
