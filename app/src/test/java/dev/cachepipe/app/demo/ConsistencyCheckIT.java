package dev.cachepipe.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.topology.CacheMode;
import dev.cachepipe.topology.EntityPolicy;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The check the other ITs rely on must see every kind of divergence, against a real Redis. */
class ConsistencyCheckIT {
    private static final EntityPolicy USER = new EntityPolicy(
            "user",
            List.of("users"),
            CacheMode.WRITE_THROUGH,
            Duration.ofMinutes(5),
            0.0,
            Duration.ofMinutes(1),
            1024,
            512);
    private static final EntityPolicy ORDER = new EntityPolicy(
            "order",
            List.of("orders"),
            CacheMode.INVALIDATE,
            Duration.ofMinutes(5),
            0.0,
            Duration.ofMinutes(1),
            1024,
            512);
    private static final EntityPolicy FLAG = new EntityPolicy(
            "flag",
            List.of("flags"),
            CacheMode.EXPIRE_ONLY,
            Duration.ofMinutes(5),
            0.0,
            Duration.ofMinutes(1),
            1024,
            512);

    private static RedisServer redis;
    private static RedisClient client;
    private static StatefulRedisConnection<String, String> connection;

    @BeforeAll
    static void start() {
        redis = RedisServer.start();
        client = RedisClient.create(redis.uri());
        connection = client.connect();
    }

    @AfterAll
    static void stop() {
        connection.close();
        client.shutdown();
        redis.close();
    }

    private static DomainEvent event(String type, String id, long version, Operation op, String payload, long at) {
        return DomainEvent.newBuilder()
                .setEventId(type + id + version)
                .setEntityType(type)
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(Instant.ofEpochMilli(at))
                .setPayload(payload == null ? null : ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    @Test
    void shouldReportEveryDivergenceAndToleratePassedTtlsWhenComparingRedisWithTheOracle() {
        Oracle oracle = new Oracle("cc", List.of(USER, ORDER, FLAG));
        long now = System.currentTimeMillis();
        RedisCommands<String, String> r = connection.sync();
        // consistent: value, tombstone, fence, expire-only absent
        oracle.record(event("user", "ok", 2, Operation.UPSERT, "{\"a\":1}", 100), now);
        r.hset("cc:user:ok", Map.of("v", "2", "d", "{\"a\":1}", "ct", "application/json", "ts", "100"));
        oracle.record(event("user", "gone", 3, Operation.DELETE, null, 101), now);
        r.hset("cc:user:gone", Map.of("v", "3", "ts", "101", "del", "1"));
        oracle.record(event("order", "o", 4, Operation.UPSERT, "{}", 102), now);
        r.hset("cc:order:o", Map.of("v", "4", "ts", "102", "inv", "1"));
        oracle.record(event("flag", "f", 1, Operation.UPSERT, "{}", 103), now);
        // consistent because its TTL (5 min) may have passed since it was sent 10 minutes ago
        oracle.record(event("user", "old", 1, Operation.UPSERT, "{}", 104), now - 600_000);
        // inconsistent: older version, wrong payload, missing within its TTL, resurrected, fence missing,
        // expire-only present, not a cachepipe entry
        oracle.record(event("user", "behind", 5, Operation.UPSERT, "{\"v\":5}", 105), now);
        r.hset("cc:user:behind", Map.of("v", "4", "d", "{\"v\":4}", "ct", "application/json", "ts", "105"));
        oracle.record(event("user", "payload", 1, Operation.UPSERT, "{\"right\":1}", 106), now);
        r.hset("cc:user:payload", Map.of("v", "1", "d", "{\"wrong\":1}", "ct", "application/json", "ts", "106"));
        oracle.record(event("user", "missing", 1, Operation.UPSERT, "{}", 107), now);
        oracle.record(event("user", "resurrected", 2, Operation.DELETE, null, 108), now);
        r.hset("cc:user:resurrected", Map.of("v", "2", "d", "{}", "ct", "application/json", "ts", "108"));
        oracle.record(event("order", "unfenced", 1, Operation.UPSERT, "{}", 109), now);
        r.hset("cc:order:unfenced", Map.of("v", "1", "d", "{}", "ct", "application/json", "ts", "109"));
        oracle.record(event("flag", "cached", 1, Operation.UPSERT, "{}", 110), now);
        r.hset("cc:flag:cached", Map.of("v", "1", "d", "{}", "ts", "110"));
        oracle.record(event("user", "garbage", 1, Operation.UPSERT, "{}", 111), now);
        r.hset("cc:user:garbage", Map.of("x", "y"));

        try (ConsistencyCheck check = new ConsistencyCheck(RedisURI.create(redis.uri()), oracle)) {
            ConsistencyCheck.Result result = check.check();

            assertThat(result.total()).isEqualTo(12);
            assertThat(result.consistent()).isEqualTo(5);
            assertThat(result.expired()).isEqualTo(1);
            assertThat(result.mismatches())
                    .extracting(ConsistencyCheck.Mismatch::key)
                    .containsExactly(
                            "cc:flag:cached",
                            "cc:order:unfenced",
                            "cc:user:behind",
                            "cc:user:garbage",
                            "cc:user:missing",
                            "cc:user:payload",
                            "cc:user:resurrected");
            assertThat(result.summary()).isEqualTo("consistent 5/12 (1 expired by TTL), 7 inconsistent");
            assertThat(result.mismatches().get(2).toString())
                    .isEqualTo("cc:user:behind: expected VALUE v5 (7 bytes application/json, ts 105), Redis has"
                            + " VALUE v4 (7 bytes application/json, ts 105)");
        }
    }

    @Test
    void shouldReturnOnceConsistentWhenTheLastWriteLandsWhileAwaiting() throws Exception {
        Oracle oracle = new Oracle("await", List.of(USER));
        oracle.record(event("user", "late", 1, Operation.DELETE, null, 5), System.currentTimeMillis());
        Thread writer = new Thread(() -> {
            try {
                Thread.sleep(1200);
            } catch (InterruptedException e) {
                return;
            }
            connection.sync().hset("await:user:late", Map.of("v", "1", "ts", "5", "del", "1"));
        });
        try (ConsistencyCheck check = new ConsistencyCheck(RedisURI.create(redis.uri()), oracle)) {
            assertThat(check.check().isConsistent()).isFalse();
            writer.start();

            ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(20));

            assertThat(result.isConsistent()).isTrue();
            assertThat(result.consistent()).isEqualTo(1);
        } finally {
            writer.join();
        }
    }
}
