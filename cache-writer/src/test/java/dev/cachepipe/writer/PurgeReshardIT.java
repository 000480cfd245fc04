package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.RedisMode;
import dev.cachepipe.support.redis.RedisTarget;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A purge while the cluster reshards: {@code SCAN} walks one master after the other, so keys that move from a master
 * not scanned yet to one scanned already are never seen by that scan. Here a fortieth of each master's slots move to the
 * next master (with their keys, as {@code redis-cli --cluster reshard} moves them) between the purge's first and second
 * page, whatever the order the masters are scanned in: without a scan again, some of the keys that moved into the
 * master being scanned lie behind its cursor and stay values.
 */
class PurgeReshardIT {
    private static final int ENTRIES = 20_000;

    @Test
    void shouldFenceEveryEntryWhenSlotsMoveBetweenMastersDuringTheScan() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.shared();
        String id = UUID.randomUUID().toString().substring(0, 8);
        String prefix = "pr" + id;
        String invalidations = "pr-invalidations-" + id;
        kafka.createTopic(invalidations, 1, Map.of());
        try (RedisCluster cluster = RedisCluster.start(3, 0)) {
            RedisTarget target =
                    RedisTarget.parse(cluster.seeds(), RedisMode.CLUSTER, null, null, Duration.ofSeconds(5));
            fill(target, prefix);
            List<RedisServer> masters = cluster.masters();
            AtomicInteger pages = new AtomicInteger();
            WriterConfig config = WriterConfig.defaults(kafka.bootstrapServers(), "pr-mutations-" + id, invalidations)
                    .withGroupId("pr-writer-" + id)
                    .withRedisTimeout(Duration.ofSeconds(5))
                    .withKeyPrefix(prefix);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();

            CachePurge.Result result = CachePurge.run(
                    config,
                    target,
                    CachePurge.Request.now("product", "", Duration.ofMinutes(30)),
                    registry,
                    progress -> {
                        if (pages.incrementAndGet() == 1) {
                            // the purge's thread waits here: the moves happen between its first and second page
                            List<int[]> firstRanges = new ArrayList<>();
                            for (RedisServer m : masters) {
                                firstRanges.add(cluster.slotsOf(m).get(0));
                            }
                            for (int i = 0; i < masters.size(); i++) {
                                int[] range = firstRanges.get(i);
                                int to = range[0] + (range[1] - range[0]) / 40;
                                cluster.migrateSlots(range[0], to, masters.get((i + 1) % masters.size()));
                            }
                        }
                    },
                    () -> false);

            assertThat(result.outcome()).isEqualTo(CachePurge.Outcome.COMPLETED);
            assertThat(pages.get())
                    .as("pages: the moves came before the scan's end")
                    .isGreaterThan(1);
            List<String> values = new ArrayList<>();
            long fences = 0;
            for (RedisServer master : cluster.masters()) {
                RedisClient client = RedisClient.create(RedisURI.create(master.uri()));
                try (StatefulRedisConnection<String, String> c = client.connect()) {
                    RedisCommands<String, String> redis = c.sync();
                    ScanArgs match =
                            ScanArgs.Builder.matches(prefix + ":product:*").limit(1000);
                    KeyScanCursor<String> page = redis.scan(ScanCursor.INITIAL, match);
                    while (true) {
                        for (String key : page.getKeys()) {
                            if ("1".equals(redis.hget(key, "inv")) && !redis.hexists(key, "d")) {
                                fences++;
                            } else {
                                values.add(key);
                            }
                        }
                        if (page.isFinished()) {
                            break;
                        }
                        page = redis.scan(page, match);
                    }
                } finally {
                    client.shutdown();
                }
            }
            assertThat(values).as("entries left as values").isEmpty();
            assertThat(fences).isEqualTo(ENTRIES);
            assertThat(result.progress().fenced()).isEqualTo(ENTRIES);
            // a key that moved from a master scanned already to one not scanned yet is seen twice
            assertThat(result.progress().matched()).isGreaterThanOrEqualTo(ENTRIES);
            registry.close();
        }
    }

    /** {@link #ENTRIES} product values as the writer stores them. */
    private static void fill(RedisTarget target, String prefix) throws Exception {
        try (RedisConnector connector = RedisConnector.create(
                        target, Duration.ofSeconds(5), Duration.ofMillis(50), Duration.ofSeconds(1));
                StatefulConnection<byte[], byte[]> connection = connector.connect()) {
            RedisClusterAsyncCommands<byte[], byte[]> redis = RedisConnector.async(connection);
            List<RedisFuture<?>> sent = new ArrayList<>();
            for (int i = 0; i < ENTRIES; i++) {
                byte[] key = utf8(RedisLayout.key(prefix, "product", Integer.toString(i)));
                sent.add(redis.hset(
                        key,
                        Map.of(
                                utf8("v"),
                                utf8(Integer.toString(1 + i % 7)),
                                utf8("d"),
                                utf8("{}"),
                                utf8("ts"),
                                utf8("1"))));
            }
            assertThat(LettuceFutures.awaitAll(30, TimeUnit.SECONDS, sent.toArray(new RedisFuture<?>[0])))
                    .isTrue();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
