package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.writer.RedisScripts.Script;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The Lua scripts against a real redis-server. */
class RedisScriptsIT {
    private static final long TTL = 60_000;
    private static final long TWO_TO_53 = 1L << 53;

    private static RedisServer server;
    private static RedisClient client;
    private static StatefulRedisConnection<byte[], byte[]> connection;
    private static RedisCommands<byte[], byte[]> sync;
    private static RedisScripts scripts;

    private String key;

    @BeforeAll
    static void startRedis() {
        server = RedisServer.start();
        client = RedisClient.create(RedisURI.create(server.uri()));
        connection = client.connect(ByteArrayCodec.INSTANCE);
        sync = connection.sync();
        scripts = new RedisScripts(connection);
        scripts.load(Duration.ofSeconds(5));
    }

    @AfterAll
    static void stopRedis() {
        if (connection != null) {
            connection.close();
        }
        if (client != null) {
            client.shutdown();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void uniqueKey() {
        key = "scripts-it-" + UUID.randomUUID() + ":user:42";
    }

    private static long await(RedisFuture<Long> f) throws Exception {
        return f.get(5, TimeUnit.SECONDS);
    }

    private long call(Script script, long version) throws Exception {
        return switch (script) {
            case UPSERT_ENTRY -> await(scripts.upsert(key, version, payload(version), "application/json", 7, TTL));
            case WRITE_TOMBSTONE -> await(scripts.tombstone(key, version, 7, TTL));
            case WRITE_FENCE -> await(scripts.fence(key, version, 7, TTL));
        };
    }

    private static byte[] payload(long version) {
        return ("{\"version\":" + version + "}").getBytes(StandardCharsets.UTF_8);
    }

    private Map<String, byte[]> hash() {
        Map<String, byte[]> out = new HashMap<>();
        sync.hgetall(bytes(key)).forEach((k, v) -> out.put(new String(k, StandardCharsets.UTF_8), v));
        return out;
    }

    private Map<String, String> hashText() {
        Map<String, String> out = new HashMap<>();
        hash().forEach((k, v) -> out.put(k, new String(v, StandardCharsets.ISO_8859_1)));
        return out;
    }

    private CacheEntry entry() {
        return CacheEntry.decode(hash()).orElseThrow();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldApplyHigherVersionAndSetTtlWhenUpserting() throws Exception {
        assertThat(await(scripts.upsert(key, 1, payload(1), "application/json", 1234, TTL)))
                .isEqualTo(RedisScripts.APPLIED);
        Map<String, byte[]> h = hash();
        assertThat(h).containsOnlyKeys("v", "d", "ct", "ts");
        assertThat(new String(h.get("v"), StandardCharsets.UTF_8)).isEqualTo("1");
        assertThat(h.get("d")).isEqualTo(payload(1));
        assertThat(new String(h.get("ct"), StandardCharsets.UTF_8)).isEqualTo("application/json");
        assertThat(new String(h.get("ts"), StandardCharsets.UTF_8)).isEqualTo("1234");
        assertThat(sync.pttl(bytes(key))).isBetween(TTL - 5_000, TTL);

        assertThat(await(scripts.upsert(key, 2, payload(2), null, 1235, 5_000))).isEqualTo(RedisScripts.APPLIED);
        assertThat(hash()).containsOnlyKeys("v", "d", "ts"); // no content type given: no ct field
        assertThat(entry()).isEqualTo(new CacheEntry(2, CacheEntry.State.VALUE, null, 1235, payload(2)));
        assertThat(sync.pttl(bytes(key))).isBetween(1L, 5_000L);
    }

    @Test
    void shouldWriteLayoutFieldsAndTombstoneTtlWhenDeletingOrFencing() throws Exception {
        assertThat(await(scripts.tombstone(key, 3, 99, 10_000))).isEqualTo(RedisScripts.APPLIED);
        assertThat(hash()).containsOnlyKeys("v", "ts", "del");
        assertThat(entry()).isEqualTo(new CacheEntry(3, CacheEntry.State.TOMBSTONE, null, 99, null));
        assertThat(sync.pttl(bytes(key))).isBetween(5_000L, 10_000L);

        assertThat(await(scripts.fence(key, 4, 100, 20_000))).isEqualTo(RedisScripts.APPLIED);
        assertThat(hash()).containsOnlyKeys("v", "ts", "inv"); // the DEL dropped del=1
        assertThat(entry()).isEqualTo(new CacheEntry(4, CacheEntry.State.FENCE, null, 100, null));
        assertThat(sync.pttl(bytes(key))).isBetween(15_000L, 20_000L);

        assertThat(await(scripts.upsert(key, 5, payload(5), "application/json", 101, TTL)))
                .isEqualTo(RedisScripts.APPLIED);
        assertThat(hash()).containsOnlyKeys("v", "d", "ct", "ts"); // no leftover inv=1
    }

    @ParameterizedTest
    @EnumSource(Script.class)
    void shouldReturnStaleOrSameAndChangeNothingWhenVersionIsNotHigher(Script stored) throws Exception {
        assertThat(call(stored, 10)).isEqualTo(RedisScripts.APPLIED);
        Map<String, String> before = hashText();
        for (Script incoming : Script.values()) {
            assertThat(call(incoming, 9)).as(incoming + " v9 over v10").isEqualTo(RedisScripts.STALE);
            assertThat(call(incoming, 10)).as(incoming + " v10 over v10").isEqualTo(RedisScripts.SAME_VERSION);
            assertThat(call(incoming, 0)).as(incoming + " v0 over v10").isEqualTo(RedisScripts.STALE);
        }
        assertThat(hashText()).isEqualTo(before);
        assertThat(sync.pttl(bytes(key))).isBetween(TTL - 5_000, TTL); // TTL not refreshed either
    }

    @Test
    void shouldNotResurrectWhenOlderUpsertFollowsTombstone() throws Exception {
        assertThat(call(Script.UPSERT_ENTRY, 1)).isEqualTo(RedisScripts.APPLIED);
        assertThat(call(Script.WRITE_TOMBSTONE, 2)).isEqualTo(RedisScripts.APPLIED);
        assertThat(call(Script.UPSERT_ENTRY, 1)).isEqualTo(RedisScripts.STALE);
        assertThat(call(Script.UPSERT_ENTRY, 2)).isEqualTo(RedisScripts.SAME_VERSION);
        assertThat(entry().state()).isEqualTo(CacheEntry.State.TOMBSTONE);
        assertThat(entry().version()).isEqualTo(2);
    }

    @Test
    void shouldCompareExactlyWhenVersionsExceedTwoToThe53() throws Exception {
        // tonumber() would map 2^53 and 2^53 + 1 to the same double and answer SAME_VERSION.
        assertThat(call(Script.UPSERT_ENTRY, TWO_TO_53 + 1)).isEqualTo(RedisScripts.APPLIED);
        assertThat(call(Script.UPSERT_ENTRY, TWO_TO_53)).isEqualTo(RedisScripts.STALE);
        assertThat(call(Script.WRITE_FENCE, TWO_TO_53)).isEqualTo(RedisScripts.STALE);
        assertThat(call(Script.UPSERT_ENTRY, TWO_TO_53 + 1)).isEqualTo(RedisScripts.SAME_VERSION);
        assertThat(call(Script.UPSERT_ENTRY, TWO_TO_53 + 2)).isEqualTo(RedisScripts.APPLIED);
        assertThat(call(Script.WRITE_TOMBSTONE, Long.MAX_VALUE - 1)).isEqualTo(RedisScripts.APPLIED);
        assertThat(call(Script.UPSERT_ENTRY, Long.MAX_VALUE - 2)).isEqualTo(RedisScripts.STALE);
        assertThat(call(Script.UPSERT_ENTRY, Long.MAX_VALUE)).isEqualTo(RedisScripts.APPLIED);
        assertThat(entry().version()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void shouldCompareByLengthFirstWhenDecimalsDifferInDigits() throws Exception {
        // As plain strings "1000" < "999"; as numbers it is greater.
        assertThat(call(Script.UPSERT_ENTRY, 999)).isEqualTo(RedisScripts.APPLIED);
        assertThat(call(Script.UPSERT_ENTRY, 1000)).isEqualTo(RedisScripts.APPLIED);
        assertThat(call(Script.UPSERT_ENTRY, 999)).isEqualTo(RedisScripts.STALE);
        assertThat(call(Script.UPSERT_ENTRY, 99)).isEqualTo(RedisScripts.STALE);
        assertThat(entry().version()).isEqualTo(1000);
    }

    @Test
    void shouldFailWithNoScriptAndWorkAfterReloadWhenScriptCacheIsFlushed() throws Exception {
        assertThat(call(Script.UPSERT_ENTRY, 1)).isEqualTo(RedisScripts.APPLIED);
        sync.scriptFlush();
        assertThatThrownBy(() -> call(Script.UPSERT_ENTRY, 2))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(RedisNoScriptException.class);
        scripts.load(Duration.ofSeconds(5)); // also checks that Redis computed the same SHA-1
        assertThat(call(Script.UPSERT_ENTRY, 2)).isEqualTo(RedisScripts.APPLIED);
        assertThat(sync.scriptExists(
                        Script.UPSERT_ENTRY.sha1(), Script.WRITE_TOMBSTONE.sha1(), Script.WRITE_FENCE.sha1()))
                .containsOnly(true);
    }

    @Test
    void shouldReplaceForeignValueWhenKeyIsNotAHash() throws Exception {
        sync.set(bytes(key), bytes("not a cache entry"));
        assertThat(call(Script.WRITE_FENCE, 1)).isEqualTo(RedisScripts.APPLIED);
        assertThat(entry().state()).isEqualTo(CacheEntry.State.FENCE);
    }

    @Test
    void shouldRejectInvalidArgumentsWithoutWritingWhenCalledDirectly() {
        byte[][] keys = {bytes(key)};
        for (String[] args : new String[][] {
            {"1", "0", "0"}, // ttl 0 would delete the key
            {"1", "0", "-5"},
            {"1", "0", "9223372036854775807"}, // PEXPIRE would fail after the HSET: no key without a TTL
            {"007", "0", "1000"}, // not canonical
            {"-1", "0", "1000"},
            {"1", "yesterday", "1000"}
        }) {
            assertThatThrownBy(() -> sync.evalsha(
                            Script.WRITE_TOMBSTONE.sha1(),
                            ScriptOutputType.INTEGER,
                            keys,
                            bytes(args[0]),
                            bytes(args[1]),
                            bytes(args[2])))
                    .as(String.join(",", args))
                    .isInstanceOf(RedisCommandExecutionException.class)
                    .hasMessageContaining("write_tombstone");
        }
        assertThat(sync.exists(keys)).isZero();
    }
}
