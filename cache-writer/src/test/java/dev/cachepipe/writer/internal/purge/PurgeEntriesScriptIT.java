package dev.cachepipe.writer.internal.purge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.support.redis.EntryScripts;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.ScriptRunner;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.StringCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code purge_entries.lua} against a real redis-server: each value fenced at its own version, and every way it declines. */
class PurgeEntriesScriptIT {
    private static RedisServer server;
    private static RedisClient client;
    private static StatefulRedisConnection<byte[], byte[]> bytes;
    private static StatefulRedisConnection<String, String> strings;
    private static RedisCommands<String, String> redis;
    private static ScriptRunner scripts;

    private String key;

    @BeforeAll
    static void startRedis() {
        server = RedisServer.start();
        client = RedisClient.create(RedisURI.create(server.uri()));
        bytes = client.connect(ByteArrayCodec.INSTANCE);
        strings = client.connect(StringCodec.UTF8);
        redis = strings.sync();
        scripts = new ScriptRunner(bytes);
        scripts.load(Duration.ofSeconds(5), List.of(EntryScripts.PURGE_ENTRIES));
    }

    @AfterAll
    static void stopRedis() {
        bytes.close();
        strings.close();
        client.shutdown();
        server.close();
    }

    @BeforeEach
    void uniqueKey() {
        key = "purge-it-" + UUID.randomUUID() + ":product:42";
    }

    private long purge() {
        return purge(List.of(key)).get(0);
    }

    private static List<Long> purge(List<String> keys) {
        return purge(keys, "600000");
    }

    private static List<Long> purge(List<String> keys, String ttl) {
        byte[][] k = keys.stream().map(PurgeEntriesScriptIT::utf8).toArray(byte[][]::new);
        List<Object> codes =
                bytes.sync().evalsha(EntryScripts.PURGE_ENTRIES.sha1(), ScriptOutputType.MULTI, k, utf8(ttl));
        return codes.stream().map(c -> (Long) c).toList();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldLoadTheScriptAgainAndFenceWhenRedisLostItMidPurge() throws Exception {
        String base = "purge-it-" + UUID.randomUUID() + ":product:";
        redis.hset(base + "1", Map.of("v", "3", "d", "x", "ts", "1"));
        redis.hset(base + "2", Map.of("v", "4", "d", "y", "ts", "1"));
        redis.scriptFlush(); // a restart or failover between the purge's SCRIPT LOAD and this page

        List<CompletableFuture<List<Object>>> sent = new ScriptBatches(
                        RedisConnector.async(bytes), scripts, false, Duration.ofSeconds(5))
                .send(EntryScripts.PURGE_ENTRIES, List.of(utf8(base + "1"), utf8(base + "2")), utf8("600000"));

        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).get(5, TimeUnit.SECONDS)).containsExactly(1L, 1L);
        assertThat(redis.hget(base + "2", "inv")).isEqualTo("1");
    }

    @Test
    void shouldAnswerForEveryKeyOfABatchInOrder() {
        String base = "purge-it-" + UUID.randomUUID() + ":product:";
        redis.hset(base + "value", Map.of("v", "3", "d", "x", "ts", "1"));
        redis.hset(base + "fence", Map.of("v", "4", "ts", "1", "inv", "1"));
        redis.hset(base + "other", Map.of("v", "9", "d", "y", "ts", "1"));

        List<Long> codes = purge(List.of(base + "value", base + "fence", base + "missing", base + "other"));

        assertThat(codes).containsExactly(1L, 2L, 3L, 1L);
        assertThat(redis.hgetall(base + "value")).isEqualTo(Map.of("v", "3", "ts", "1", "inv", "1"));
        assertThat(redis.hgetall(base + "other")).isEqualTo(Map.of("v", "9", "ts", "1", "inv", "1"));
        assertThat(redis.exists(base + "missing")).isZero();
    }

    @Test
    void shouldTurnAValueIntoAFenceAtItsOwnVersionKeepingItsTimeAndTakingTheFenceTtl() {
        redis.hset(key, Map.of("v", "7", "d", "{\"v\":7}", "ct", "application/json", "ts", "1234"));
        redis.pexpire(key, 5_000);

        assertThat(purge()).isEqualTo(1);

        assertThat(redis.hgetall(key)).isEqualTo(Map.of("v", "7", "ts", "1234", "inv", "1"));
        assertThat(redis.pttl(key)).isBetween(590_000L, 600_000L);
    }

    @Test
    void shouldRefuseTheFencedVersionAndLetANewerWriteThrough() {
        redis.hset(key, Map.of("v", "7", "d", "old", "ts", "1"));
        assertThat(purge()).isEqualTo(1);
        scripts.load(Duration.ofSeconds(5), List.of(EntryScripts.UPSERT_ENTRY));

        assertThat(upsert("7", "old again")).as("the purged version, replayed").isNotEqualTo(1);
        assertThat(redis.hgetall(key)).isEqualTo(Map.of("v", "7", "ts", "1", "inv", "1"));

        assertThat(upsert("8", "new")).as("an event after the purge").isEqualTo(1);
        assertThat(redis.hget(key, "d")).isEqualTo("new");
        assertThat(redis.hexists(key, "inv")).isFalse();
    }

    private long upsert(String version, String payload) {
        return bytes.sync()
                .evalsha(
                        EntryScripts.UPSERT_ENTRY.sha1(),
                        ScriptOutputType.INTEGER,
                        new byte[][] {utf8(key)},
                        utf8(version),
                        utf8(payload),
                        utf8("text/plain"),
                        utf8("2"),
                        utf8("600000"));
    }

    @Test
    void shouldLeaveFencesAndTombstonesAsTheyAre() {
        redis.hset(key, Map.of("v", "7", "ts", "1", "del", "1"));
        redis.pexpire(key, 5_000);

        assertThat(purge()).isEqualTo(2);

        assertThat(redis.hgetall(key)).isEqualTo(Map.of("v", "7", "ts", "1", "del", "1"));
        assertThat(redis.pttl(key)).isLessThanOrEqualTo(5_000L);
        assertThat(purge()).as("twice").isEqualTo(2);
    }

    @Test
    void shouldBeSafeToRunTwice() {
        redis.hset(key, Map.of("v", "7", "d", "x", "ts", "1"));

        assertThat(purge()).isEqualTo(1);
        assertThat(purge()).isEqualTo(2);
        assertThat(redis.hgetall(key)).isEqualTo(Map.of("v", "7", "ts", "1", "inv", "1"));
    }

    @Test
    void shouldReportGoneAndChangeNothingForAMissingKeyOrAKeyThatIsNotAnEntry() {
        assertThat(purge()).as("missing").isEqualTo(3);
        assertThat(redis.exists(key)).isZero();

        redis.hset(key, Map.of("name", "not ours"));
        assertThat(purge()).as("a hash that is not an entry").isEqualTo(3);
        assertThat(redis.hgetall(key)).isEqualTo(Map.of("name", "not ours"));
        assertThat(redis.pttl(key)).isEqualTo(-1);

        redis.del(key);
        redis.set(key, "a string");
        assertThat(purge()).as("not a hash").isEqualTo(3);
        assertThat(redis.get(key)).isEqualTo("a string");
    }

    @Test
    void shouldKeepAVersionBeyondTwoToThe53Verbatim() {
        redis.hset(key, Map.of("v", "9007199254740993", "d", "x"));

        assertThat(purge()).isEqualTo(1);
        assertThat(redis.hget(key, "v")).isEqualTo("9007199254740993");
    }

    @Test
    void shouldRefuseABadTtlWithoutWriting() {
        redis.hset(key, Map.of("v", "7", "d", "x"));

        for (String ttl : List.of("0", "07", "-1", "1000000000000000", "soon")) {
            assertThatThrownBy(() -> purge(List.of(key), ttl)).as(ttl).hasMessageContaining("ttl");
        }
        assertThat(redis.hget(key, "d")).isEqualTo("x");
    }
}
