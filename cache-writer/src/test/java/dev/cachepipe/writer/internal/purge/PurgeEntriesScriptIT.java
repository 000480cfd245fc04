package dev.cachepipe.writer.internal.purge;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code purge_entries.lua} against a real redis-server: fence at the version read, and every way it declines. */
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

    private long purge(String version) {
        return purge(List.of(key), List.of(version)).get(0);
    }

    private static List<Long> purge(List<String> keys, List<String> versions) {
        byte[][] k = keys.stream().map(PurgeEntriesScriptIT::utf8).toArray(byte[][]::new);
        byte[][] args = new byte[versions.size() + 1][];
        args[0] = utf8("600000");
        for (int i = 0; i < versions.size(); i++) {
            args[i + 1] = utf8(versions.get(i));
        }
        List<Object> codes = bytes.sync().evalsha(EntryScripts.PURGE_ENTRIES.sha1(), ScriptOutputType.MULTI, k, args);
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

        List<ScriptBatches.Batch> sent = new ScriptBatches(
                        RedisConnector.async(bytes), scripts, false, Duration.ofSeconds(5))
                .send(
                        EntryScripts.PURGE_ENTRIES,
                        List.of(utf8(base + "1"), utf8(base + "2")),
                        utf8("600000"),
                        List.of(utf8("3"), utf8("4")));

        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).reply().get(5, java.util.concurrent.TimeUnit.SECONDS))
                .containsExactly(1L, 1L);
        assertThat(redis.hget(base + "2", "inv")).isEqualTo("1");
    }

    @Test
    void shouldGateEveryKeyOfABatchOnItsOwnVersion() {
        String base = "purge-it-" + UUID.randomUUID() + ":product:";
        redis.hset(base + "value", Map.of("v", "3", "d", "x", "ts", "1"));
        redis.hset(base + "newer", Map.of("v", "9", "d", "y", "ts", "1"));
        redis.hset(base + "fence", Map.of("v", "4", "ts", "1", "inv", "1"));

        List<Long> codes = purge(
                List.of(base + "value", base + "newer", base + "fence", base + "missing"), List.of("3", "8", "4", "1"));

        assertThat(codes).containsExactly(1L, 0L, 2L, 3L);
        assertThat(redis.hgetall(base + "value")).isEqualTo(Map.of("v", "3", "ts", "1", "inv", "1"));
        assertThat(redis.hget(base + "newer", "d")).isEqualTo("y");
    }

    @Test
    void shouldTurnAValueIntoAFenceAtItsOwnVersionKeepingItsTimeAndTakingTheFenceTtl() {
        redis.hset(key, Map.of("v", "7", "d", "{\"v\":7}", "ct", "application/json", "ts", "1234"));
        redis.pexpire(key, 5_000);

        assertThat(purge("7")).isEqualTo(1);

        assertThat(redis.hgetall(key)).isEqualTo(Map.of("v", "7", "ts", "1234", "inv", "1"));
        assertThat(redis.pttl(key)).isBetween(590_000L, 600_000L);
    }

    @Test
    void shouldKeepAValueNewerThanTheVersionReadByTheScan() {
        redis.hset(key, Map.of("v", "8", "d", "new", "ts", "1"));

        assertThat(purge("7")).isEqualTo(0);

        assertThat(redis.hget(key, "d")).isEqualTo("new");
        assertThat(redis.hexists(key, "inv")).isFalse();
    }

    @Test
    void shouldLeaveFencesAndTombstonesAsTheyAre() {
        redis.hset(key, Map.of("v", "7", "ts", "1", "del", "1"));
        redis.pexpire(key, 5_000);

        assertThat(purge("7")).isEqualTo(2);

        assertThat(redis.hgetall(key)).isEqualTo(Map.of("v", "7", "ts", "1", "del", "1"));
        assertThat(redis.pttl(key)).isLessThanOrEqualTo(5_000L);
        assertThat(purge("7")).as("twice").isEqualTo(2);
    }

    @Test
    void shouldBeSafeToRunTwice() {
        redis.hset(key, Map.of("v", "7", "d", "x", "ts", "1"));

        assertThat(purge("7")).isEqualTo(1);
        assertThat(purge("7")).isEqualTo(2);
        assertThat(redis.hgetall(key)).isEqualTo(Map.of("v", "7", "ts", "1", "inv", "1"));
    }

    @Test
    void shouldReportGoneForAMissingKeyAnOlderEntryOrAKeyThatIsNotAnEntry() {
        assertThat(purge("7")).as("missing").isEqualTo(3);
        assertThat(redis.exists(key)).isZero();

        redis.hset(key, Map.of("v", "6", "d", "x"));
        assertThat(purge("7")).as("older than read: changed under the scan").isEqualTo(3);
        assertThat(redis.hget(key, "d")).isEqualTo("x");

        redis.del(key);
        redis.set(key, "a string");
        assertThat(purge("7")).as("not a hash").isEqualTo(3);
        assertThat(redis.get(key)).isEqualTo("a string");
    }

    @Test
    void shouldCompareVersionsBeyondTwoToThe53AsDecimals() {
        redis.hset(key, Map.of("v", "9007199254740993", "d", "x"));

        assertThat(purge("9007199254740992")).isEqualTo(0);
        assertThat(purge("9007199254740993")).isEqualTo(1);
    }

    @Test
    void shouldRefuseBadArgumentsWithoutWriting() {
        redis.hset(key, Map.of("v", "7", "d", "x"));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> purge("07")).hasMessageContaining("canonical");
        assertThat(redis.hget(key, "d")).isEqualTo("x");
    }
}
