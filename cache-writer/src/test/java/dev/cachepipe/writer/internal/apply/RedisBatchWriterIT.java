package dev.cachepipe.writer.internal.apply;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.support.redis.LuaScript;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.ScriptCall;
import dev.cachepipe.writer.WriteOutcome;
import io.lettuce.core.RedisURI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batch writer against a real redis-server: one pipelined attempt, a server that lost its scripts, and the trailer
 * after the writes.
 */
class RedisBatchWriterIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final LuaScript WATERMARK = LuaScript.of(RedisBatchWriterIT.class, "lua/watermark_raise.lua");
    private static RedisServer redis;
    private static RedisConnector connector;

    @BeforeAll
    static void start() {
        redis = RedisServer.start();
        connector = RedisConnector.create(
                RedisURI.create(redis.uri()), TIMEOUT, Duration.ofMillis(10), Duration.ofMillis(100));
    }

    @AfterAll
    static void stop() {
        if (connector != null) {
            connector.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static List<PendingWrite> writes(String prefix, int n, long version) {
        List<PendingWrite> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            var m = CoalescerTest.mutation(prefix + i, version, MutationOp.UPSERT, 60_000);
            m.setKey(prefix + ":user:" + i);
            out.add(new PendingWrite(m, new TopicPartition("m", 0), i));
        }
        return out;
    }

    @Test
    void shouldLoadEachLostScriptOnceAndFinishTheAttemptWhenRedisFlushedItsScripts() {
        String prefix = "bw-" + UUID.randomUUID();
        try (RedisBatchWriter writer = new RedisBatchWriter(connector, TIMEOUT)) {
            assertThat(writer.attempt(writes(prefix, 3, 1)).failure()).isNull();
            assertThat(redis.command("SCRIPT", "FLUSH")).startsWith("+OK");
            long loadsBefore = scriptLoads();

            List<PendingWrite> batch = writes(prefix, 200, 2);
            RedisBatchWriter.Attempt attempt = writer.attempt(batch);

            assertThat(attempt.failure())
                    .as("NOSCRIPT is handled within the attempt")
                    .isNull();
            assertThat(attempt.failed()).isZero();
            assertThat(batch).allSatisfy(w -> assertThat(w.outcome()).isEqualTo(WriteOutcome.APPLIED));
            assertThat(scriptLoads() - loadsBefore)
                    .as("SCRIPT LOAD calls for 200 writes that met NOSCRIPT")
                    .isEqualTo(1);
        }
    }

    @Test
    void shouldReportDuplicatesAndStaleWritesWhenVersionsAreNotNewer() {
        String prefix = "bw-" + UUID.randomUUID();
        try (RedisBatchWriter writer = new RedisBatchWriter(connector, TIMEOUT)) {
            assertThat(writer.attempt(writes(prefix, 2, 5)).failure()).isNull();
            List<PendingWrite> same = writes(prefix, 2, 5);
            List<PendingWrite> older = writes(prefix, 2, 4);
            writer.attempt(same);
            writer.attempt(older);
            assertThat(same).allSatisfy(w -> assertThat(w.outcome()).isEqualTo(WriteOutcome.DUPLICATE));
            assertThat(older).allSatisfy(w -> assertThat(w.outcome()).isEqualTo(WriteOutcome.STALE));
        }
    }

    /** {@code calls} of {@code cmdstat_script} in INFO commandstats (SCRIPT LOAD is the only SCRIPT call here). */
    private static long scriptLoads() {
        Matcher m = Pattern.compile("cmdstat_script(?:\\|load)?:calls=(\\d+)")
                .matcher(redis.command("INFO", "commandstats"));
        long n = 0;
        while (m.find()) {
            n += Long.parseLong(m.group(1));
        }
        return n;
    }

    @Test
    void shouldAnswerTheTrailerAfterTheWritesInTheSameAttemptWhenOneIsGiven() {
        String prefix = "bw-" + UUID.randomUUID();
        String key = prefix + ":@cachepipe:watermarks";
        try (RedisBatchWriter writer = new RedisBatchWriter(connector, TIMEOUT, List.of(WATERMARK))) {
            List<PendingWrite> batch = writes(prefix, 3, 1);
            BatchTrailer trailer = new BatchTrailer(List.of(raise(key, 41, -1)));

            RedisBatchWriter.Attempt attempt = writer.attempt(batch, trailer);

            assertThat(attempt.failure()).isNull();
            assertThat(batch).allSatisfy(w -> assertThat(w.outcome()).isEqualTo(WriteOutcome.APPLIED));
            assertThat(trailer.answered()).isTrue();
            assertThat(trailer.reply(0)).as("no watermark before").isEqualTo(-1);
            assertThat(redis.command("HGET", key, "m:0")).contains("41");

            BatchTrailer alone = new BatchTrailer(List.of(raise(key, 42, 41)));
            assertThat(writer.attempt(List.of(), alone).failure())
                    .as("a trailer is sent without writes too")
                    .isNull();
            assertThat(alone.reply(0)).isEqualTo(41);
        }
    }

    @Test
    void shouldFailTheAttemptWhenTheTrailerIsNotAnsweredAlthoughTheWritesAre() {
        String prefix = "bw-" + UUID.randomUUID();
        try (RedisBatchWriter writer = new RedisBatchWriter(connector, TIMEOUT, List.of(WATERMARK))) {
            List<PendingWrite> batch = writes(prefix, 2, 1);
            BatchTrailer refused = new BatchTrailer(List.of(new ScriptCall(
                    WATERMARK, bytes(prefix + ":@cachepipe:watermarks"), bytes("m:0"), bytes("x"), bytes("-1"))));

            RedisBatchWriter.Attempt attempt = writer.attempt(batch, refused);

            assertThat(attempt.failure()).contains("watermark_raise expects");
            assertThat(attempt.failed()).as("the writes themselves are done").isZero();
            assertThat(refused.answered()).isFalse();
        }
    }

    private static ScriptCall raise(String key, long offset, long floor) {
        return new ScriptCall(
                WATERMARK, bytes(key), bytes("m:0"), bytes(Long.toString(offset)), bytes(Long.toString(floor)));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
