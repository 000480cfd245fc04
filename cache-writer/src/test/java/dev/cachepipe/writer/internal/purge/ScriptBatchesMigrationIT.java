package dev.cachepipe.writer.internal.purge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.support.redis.EntryScripts;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.RedisMode;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.support.redis.ScriptRunner;
import io.lettuce.core.MigrateArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A purge's multi-key call on a slot in the middle of a migration: with some of its keys moved to the importing master
 * and the rest still on the migrating one, Redis answers {@code TRYAGAIN} (on both). {@link ScriptBatches} sends the
 * call again until the migration ends, and then every key is fenced on its new master.
 */
class ScriptBatchesMigrationIT {
    @Test
    void shouldSendACallAgainUntilTheMigrationOfItsSlotEnds() throws Exception {
        try (RedisCluster cluster = RedisCluster.start(3, 0)) {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                keys.add("bm:product:{m}" + i); // one slot
            }
            int slot = SlotHash.getSlot(keys.get(0));
            RedisServer source = cluster.masterOf(slot);
            RedisServer target = cluster.masters().stream()
                    .filter(m -> !m.equals(source))
                    .findFirst()
                    .orElseThrow();
            String sourceId = cluster.nodeId(source);
            String targetId = cluster.nodeId(target);
            on(source, r -> {
                keys.forEach(k -> r.hset(k, Map.of("v", "5", "d", "x", "ts", "1")));
                return null;
            });
            on(target, r -> r.clusterSetSlotImporting(slot, sourceId));
            on(source, r -> r.clusterSetSlotMigrating(slot, targetId));
            on(
                    source,
                    r -> r.migrate(
                            target.host(), target.port(), 0, 5_000, MigrateArgs.Builder.keys(keys.subList(0, 5))));

            RedisTarget redis =
                    RedisTarget.parse(cluster.seeds(), RedisMode.CLUSTER, null, null, Duration.ofSeconds(5));
            try (RedisConnector connector = RedisConnector.create(
                            redis, Duration.ofSeconds(5), Duration.ofMillis(50), Duration.ofSeconds(1));
                    StatefulConnection<byte[], byte[]> connection = connector.connect()) {
                ScriptRunner scripts = new ScriptRunner(connection);
                scripts.load(Duration.ofSeconds(5), List.of(EntryScripts.PURGE_ENTRIES));
                List<CompletableFuture<List<Object>>> sent = new ScriptBatches(
                                RedisConnector.async(connection), scripts, true, Duration.ofSeconds(10))
                        .send(
                                EntryScripts.PURGE_ENTRIES,
                                keys.stream()
                                        .map(ScriptBatchesMigrationIT::utf8)
                                        .toList(),
                                utf8("600000"));

                Thread.sleep(500);
                assertThat(sent.get(0))
                        .as("refused (TRYAGAIN) while the slot's keys are split")
                        .isNotDone();

                on(
                        source,
                        r -> r.migrate(
                                target.host(), target.port(), 0, 5_000, MigrateArgs.Builder.keys(keys.subList(5, 10))));
                for (RedisServer m : cluster.masters()) {
                    on(m, r -> r.clusterSetSlotNode(slot, targetId));
                }

                assertThat(sent).hasSize(1);
                assertThat(sent.get(0).get(10, TimeUnit.SECONDS))
                        .containsExactly(1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L);
            }
            on(target, r -> {
                for (String k : keys) {
                    assertThat(r.hgetall(k)).as(k).isEqualTo(Map.of("v", "5", "ts", "1", "inv", "1"));
                }
                return null;
            });
        }
    }

    private static <T> T on(RedisServer node, Function<RedisCommands<String, String>, T> command) {
        RedisClient client = RedisClient.create(RedisURI.create(node.uri()));
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            return command.apply(c.sync());
        } finally {
            client.shutdown();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
