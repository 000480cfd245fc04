package dev.cachepipe.writer.internal.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.support.redis.ScriptCall;
import dev.cachepipe.support.redis.ScriptRunner;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code lua/watermark_raise.lua} against a real redis-server. */
class WatermarkScriptIT {
    private static final String FIELD = "cache.mutations:0";

    private static RedisServer server;
    private static RedisClient client;
    private static StatefulRedisConnection<byte[], byte[]> connection;
    private static ScriptRunner scripts;

    @BeforeAll
    static void startRedis() {
        server = RedisServer.start();
        client = RedisClient.create(RedisURI.create(server.uri()));
        connection = client.connect(ByteArrayCodec.INSTANCE);
        scripts = new ScriptRunner(connection);
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        server.close();
    }

    @Test
    void shouldKeepTheMaximumAndReturnThePreviousValueWhenRaised() throws Exception {
        String key = newKey();
        assertThat(raise(key, 10, -1)).as("absent").isEqualTo(-1);
        assertThat(stored(key)).isEqualTo("10");
        assertThat(raise(key, 25, 10)).isEqualTo(10);
        assertThat(raise(key, 20, 25)).as("lower: a zombie or a replay").isEqualTo(25);
        assertThat(stored(key)).isEqualTo("25");
        assertThat(raise(key, -1, 25)).as("only read").isEqualTo(25);
        assertThat(stored(key)).isEqualTo("25");
        assertThat(raise(key, 9_007_199_254_740_000L, 25)).isEqualTo(25);
        assertThat(stored(key)).isEqualTo("9007199254740000");
    }

    @Test
    void shouldNotRaisePastAGapWhenThePreviousValueIsBelowTheFloor() throws Exception {
        String key = newKey();
        raise(key, 100, -1);
        assertThat(raise(key, 200, 150))
                .as("Redis went back: it holds 100, the writer knows 150")
                .isEqualTo(100);
        assertThat(stored(key)).isEqualTo("100");
        assertThat(raise(key, 180, 100)).as("the replay of 101..180 completed").isEqualTo(100);
        assertThat(stored(key)).isEqualTo("180");
    }

    @Test
    void shouldOnlyReadWhenAskedToRaiseAnAbsentWatermarkToMinusOne() throws Exception {
        String key = newKey();
        assertThat(raise(key, -1, 5)).isEqualTo(-1);
        assertThat(stored(key)).isNull();
    }

    @Test
    void shouldDropAWatermarkAboveThePartitionsEndWhenGivenALimit() throws Exception {
        String key = newKey();
        raise(key, 5_000, -1); // written for the topic on another Kafka cluster
        assertThat(limited(key, -1, -1, 100))
                .as("the partition's end offset is 100: foreign")
                .isEqualTo(-2);
        assertThat(stored(key)).isNull();
        raise(key, 5_000, -1);
        assertThat(limited(key, 42, -1, 100)).as("replaced by the raise").isEqualTo(-2);
        assertThat(stored(key)).isEqualTo("42");
        assertThat(limited(key, -1, -1, 100)).as("below the end: kept").isEqualTo(42);
        assertThat(limited(key, -1, -1, 42)).as("at the end offset: foreign").isEqualTo(-2);
        raise(key, 0, -1);
        assertThat(limited(key, -1, -1, -1)).as("end not known").isEqualTo(0);
        assertThat(limited(key, -1, -1, 0))
                .as("an empty partition has no offset 0 yet")
                .isEqualTo(-2);
    }

    @Test
    void shouldRefuseBadArgumentsWhenCalled() {
        assertThatThrownBy(() -> call(newKey(), "x", "-1"))
                .hasMessageContaining("watermark_raise expects 1 key and 3 or 4 arguments");
    }

    private static long limited(String key, long offset, long floor, long end) throws Exception {
        return scripts.call(new ScriptCall(
                        Watermarks.RAISE,
                        bytes(key),
                        bytes(FIELD),
                        bytes(Long.toString(offset)),
                        bytes(Long.toString(floor)),
                        bytes(Long.toString(end))))
                .get(5, TimeUnit.SECONDS);
    }

    private static String newKey() {
        return "t" + UUID.randomUUID() + ":@cachepipe:watermarks";
    }

    private static long raise(String key, long offset, long floor) throws Exception {
        return call(key, Long.toString(offset), Long.toString(floor));
    }

    private static long call(String key, String offset, String floor) throws Exception {
        return scripts.call(new ScriptCall(Watermarks.RAISE, bytes(key), bytes(FIELD), bytes(offset), bytes(floor)))
                .get(5, TimeUnit.SECONDS);
    }

    private static String stored(String key) {
        byte[] v = connection.sync().hget(bytes(key), bytes(FIELD));
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
