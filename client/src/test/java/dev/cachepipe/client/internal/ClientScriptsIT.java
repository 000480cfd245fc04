package dev.cachepipe.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.embedded.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** fill_entry.lua and release_lease.lua against a real redis-server, state by state. */
class ClientScriptsIT {
    private static RedisServer server;
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;
    private static RedisCommands<String, String> redis;
    private static final String KEY = "lua:item:1";
    private static final String LEASE = "lua::lease:item:1";

    @BeforeAll
    static void start() {
        server = RedisServer.start();
        client = RedisClient.create(server.uri());
        connection = client.connect(StringCodec.UTF8);
        redis = connection.sync();
    }

    @AfterAll
    static void stop() {
        connection.close();
        client.shutdown();
        server.close();
    }

    @BeforeEach
    void clean() {
        redis.flushall();
    }

    private long fill(String version, String expect) {
        return fill(ScriptOutputType.INTEGER, version, expect);
    }

    /** fill_entry.lua with ARGV[7] = '1': a dropped fill replies with what the key holds. */
    private Object fillReplyingFound(String version, String expect) {
        return fill(ScriptOutputType.MULTI, version, expect, ClientScript.REPLY_FOUND);
    }

    private <R> R fill(ScriptOutputType type, String version, String expect, String... more) {
        String[] args = {version, expect, "payload-" + version, "application/json", "1000", "60000"};
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(more))
                .toArray(String[]::new);
        return redis.eval(
                new String(ClientScript.FILL_ENTRY.script().text(), java.nio.charset.StandardCharsets.UTF_8),
                type,
                new String[] {KEY},
                all);
    }

    private void value(String v) {
        redis.hset(KEY, Map.of("v", v, "d", "old", "ct", "application/json", "ts", "1"));
    }

    private void tombstone(String v) {
        redis.hset(KEY, Map.of("v", v, "ts", "1", "del", "1"));
    }

    private void fence(String v) {
        redis.hset(KEY, Map.of("v", v, "ts", "1", "inv", "1"));
    }

    @Test
    void shouldReplyWithWhatTheKeyHoldsWhenADroppedFillAsksForIt() {
        fence("6");

        assertThat(fill("4", "*")).as("six arguments: the reply stays 0").isZero();
        assertThat(fillReplyingFound("4", "*")).isEqualTo(java.util.Arrays.asList("6", null, null, null, "1"));
        redis.del(KEY);
        value("7");
        assertThat(fillReplyingFound("4", ""))
                .isEqualTo(java.util.Arrays.asList("7", "old", "application/json", null, null));
        assertThat(fillReplyingFound("8", "*")).isEqualTo(java.util.List.of(1L));
        assertThat(redis.hget(KEY, "v")).isEqualTo("8");
    }

    @Test
    void shouldStoreAVersionedFillWhenTheKeyIsAbsent() {
        assertThat(fill("5", "*")).isEqualTo(1);

        assertThat(redis.hgetall(KEY))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of("v", "5", "d", "payload-5", "ct", "application/json", "ts", "1000"));
        assertThat(redis.pttl(KEY)).isBetween(1L, 60_000L);
    }

    @Test
    void shouldNeverOverwriteAnEqualOrNewerValueOrTombstone() {
        value("5");
        assertThat(fill("5", "*")).isZero();
        assertThat(fill("4", "*")).isZero();
        assertThat(redis.hget(KEY, "d")).isEqualTo("old");

        tombstone("5");
        assertThat(fill("5", "*")).isZero();
        assertThat(redis.hget(KEY, "del")).isEqualTo("1");
    }

    @Test
    void shouldOverwriteOlderValuesAndTombstones() {
        value("5");
        assertThat(fill("6", "*")).isEqualTo(1);
        assertThat(redis.hget(KEY, "v")).isEqualTo("6");

        redis.del(KEY);
        tombstone("5");
        assertThat(fill("6", "*")).isEqualTo(1);
        assertThat(redis.hgetall(KEY)).doesNotContainKey("del").containsEntry("v", "6");
    }

    @Test
    void shouldReplaceAFenceAtTheSameOrALowerVersionOnly() {
        fence("5");
        assertThat(fill("4", "*")).isZero();
        assertThat(fill("5", "*")).isEqualTo(1);
        assertThat(redis.hgetall(KEY)).doesNotContainKey("inv").containsEntry("d", "payload-5");
    }

    @Test
    void shouldCompareVersionsBeyondTwoToThe53Exactly() {
        value("9007199254740993");

        assertThat(fill("9007199254740992", "*"))
                .as("tonumber would call these equal")
                .isZero();
        assertThat(fill("9007199254740994", "*")).isEqualTo(1);
        assertThat(fill("10000000000000000000", "*")).isEqualTo(1);
        assertThat(fill("9999999999999999999", "*")).isZero();
    }

    @Test
    void shouldStoreAnUnversionedFillOnlyIfTheKeyIsStillAbsent() {
        assertThat(fill("0", "")).isEqualTo(1);
        assertThat(fill("0", "")).isZero();
    }

    @Test
    void shouldStoreAnUnversionedFillOnlyOverExactlyTheFenceSeenBefore() {
        fence("5");
        assertThat(fill("5", "4")).isZero();
        assertThat(fill("5", "6")).isZero();
        assertThat(fill("5", "5")).isEqualTo(1);
        assertThat(fill("5", "5")).as("now a value, not the fence").isZero();

        redis.del(KEY);
        tombstone("5");
        assertThat(fill("5", "5")).isZero();
    }

    @Test
    void shouldRejectInvalidArgumentsBeforeWriting() {
        assertThatThrownBy(() -> fill("05", "*"))
                .isInstanceOf(RedisCommandExecutionException.class)
                .hasMessageContaining("canonical");
        assertThatThrownBy(() -> fill("-1", "*")).hasMessageContaining("canonical");
        assertThatThrownBy(() -> fill("5", "x")).hasMessageContaining("expect must be");
        assertThat(redis.exists(KEY)).isZero();
    }

    private long release(String token, String marker) {
        return redis.eval(
                new String(ClientScript.RELEASE_LEASE.script().text(), java.nio.charset.StandardCharsets.UTF_8),
                ScriptOutputType.INTEGER,
                new String[] {LEASE},
                token,
                marker,
                "5000");
    }

    @Test
    void shouldReleaseOnlyTheHoldersLease() {
        redis.set(LEASE, "mine", io.lettuce.core.SetArgs.Builder.nx().px(5000));

        assertThat(release("theirs", "")).isZero();
        assertThat(redis.get(LEASE)).isEqualTo("mine");
        assertThat(release("mine", "")).isEqualTo(1);
        assertThat(redis.exists(LEASE)).isZero();
        assertThat(release("mine", "")).isZero();
    }

    @Test
    void shouldLeaveTheNotFoundMarkerForWaitingInstances() {
        redis.set(LEASE, "mine");

        assertThat(release("mine", "!notfound")).isEqualTo(1);

        assertThat(redis.get(LEASE)).isEqualTo("!notfound");
        assertThat(redis.pttl(LEASE)).isBetween(1L, 5000L);
    }
}
