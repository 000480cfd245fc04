package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.ClientMeters;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.RedisMode;
import dev.cachepipe.support.redis.RedisTarget;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Issue 11: {@code cachepipe purge} against the real pipeline (shared broker, real redis-server processes), with two
 * client instances holding both entity types in L1, while events of both types keep flowing.
 *
 * <p>Every payload carries its version ({@code {"v":N}}), so a read tells which version it returned. Before the purge
 * starts, the test notes, per product id, the highest version published so far ({@code before}). After it:
 *
 * <ul>
 *   <li>every product entry in Redis is a fence at {@code before} or newer, or a value newer than {@code before};
 *   <li>no user entry is a fence, and every user entry holds the last version published;
 *   <li>neither client returns a product value at or below {@code before} (so neither L1 kept one);
 *   <li>events published after the purge reach Redis and both clients as usual.
 * </ul>
 */
class PurgeIT {
    private static final String PRODUCT_YAML = """
              product:
                topics: [%2$s.products]
                mode: write-through
                ttl: 1h
                ttlJitter: 0
                tombstoneTtl: 30m
                maxPayloadBytes: 2048
                inlineInvalidationMaxBytes: 1024
            """;

    /** The entity as its service publishes it: the version travels in the payload. */
    record Doc(long v) {}

    @Test
    void shouldFenceEveryProductEntryAndDropItFromBothL1sWhileEventsOfBothTypesFlow() throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestPipeline p = TestPipeline.configureWithEntities("purge", redis.uri(), "auto", 3, PRODUCT_YAML)) {
            new Scenario(p, 10_000, "").run(RedisTarget.of(io.lettuce.core.RedisURI.create(redis.uri())));
        }
    }

    @Test
    void shouldPurgeOnlyTheIdPrefixOnEveryMasterOfACluster() throws Exception {
        try (RedisCluster cluster = RedisCluster.start(3, 0);
                TestPipeline p = TestPipeline.configureWithEntities(
                        "purge-cluster", cluster.seeds(), "cluster", 3, PRODUCT_YAML)) {
            RedisTarget target =
                    RedisTarget.parse(cluster.seeds(), RedisMode.CLUSTER, null, null, Duration.ofSeconds(5));
            new Scenario(p, 3_000, "a").run(target);
        }
    }

    /**
     * The pipeline is down when the purge starts and comes up while the purge waits (as after a restart): the purge
     * goes on only once the events published before it are in Redis, and fences the version they wrote. Without the
     * wait the entry would be fenced at the version Redis held, and the events would then write their newer value
     * over the fence: published before the purge, not purged.
     */
    @Test
    void shouldWaitForAPipelineThatStartsMeanwhileAndFenceWhatItApplied() throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestPipeline p =
                        TestPipeline.configureWithEntities("purge-late", redis.uri(), "auto", 1, PRODUCT_YAML);
                io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.uri());
                var connection = client.connect()) {
            p.createTopics(); // no pipeline runs yet
            var sync = connection.sync();
            String key = RedisLayout.key(p.config.redis().keyPrefix(), "product", "p0");
            sync.hset(key, Map.of("v", "3", "d", "{\"v\":3}", "ts", "1"));
            Scenario events = new Scenario(p, 1, "");
            for (int i = 0; i < 5; i++) {
                events.publish("product", "p0"); // versions 1 to 5, none applied yet
            }
            events.producer.flush();
            String config = p.configFile().toString();

            java.util.concurrent.CompletableFuture<TestPipeline.CliRun> purge =
                    java.util.concurrent.CompletableFuture.supplyAsync(
                            () -> TestPipeline.cli("purge", "product", "--wait", "120", "--config", config));
            p.startPipeline(); // Streams takes seconds to start: the purge is waiting by then
            TestPipeline.CliRun run = purge.get(150, TimeUnit.SECONDS);

            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.out()).contains("1 fenced");
            assertThat(sync.hgetall(key)).isEqualTo(Map.of("v", "5", "ts", sync.hget(key, "ts"), "inv", "1"));
            events.producer.close();
        }
    }

    @Test
    void shouldChangeNothingWhenThePipelineIsBehindAndOnlyCountOnADryRun() throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestPipeline p =
                        TestPipeline.configureWithEntities("purge-idle", redis.uri(), "auto", 1, PRODUCT_YAML);
                io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.uri());
                var connection = client.connect()) {
            p.createTopics(); // no pipeline runs
            var sync = connection.sync();
            String prefix = p.config.redis().keyPrefix();
            for (int i = 0; i < 10; i++) {
                sync.hset(RedisLayout.key(prefix, "product", "p" + i), Map.of("v", "3", "d", "{}", "ts", "1"));
            }
            sync.hset(RedisLayout.key(prefix, "product", "gone"), Map.of("v", "2", "ts", "1", "del", "1"));
            sync.hset(RedisLayout.key(prefix, "user", "u1"), Map.of("v", "1", "d", "{}", "ts", "1"));
            Scenario events = new Scenario(p, 1, "");
            events.publish("product", "p0"); // published, never applied: the pipeline is not running
            events.producer.flush();
            String config = p.configFile().toString();

            TestPipeline.CliRun behind = TestPipeline.cli("purge", "product", "--wait", "1", "--config", config);

            assertThat(behind.exitCode()).as(behind.toString()).isEqualTo(1);
            assertThat(behind.err()).contains("nothing purged").contains("had not applied 1 records");
            assertThat(sync.hget(RedisLayout.key(prefix, "product", "p0"), "d")).isEqualTo("{}");

            TestPipeline.CliRun dry =
                    TestPipeline.cli("purge", "product", "--dry-run", "--wait", "0", "--config", config);

            assertThat(dry.exitCode()).as(dry.toString()).isZero();
            assertThat(dry.out())
                    .contains("Examined 11 entries")
                    .contains("10 would be fenced")
                    .contains("1 fences or tombstones already");
            assertThat(sync.hexists(RedisLayout.key(prefix, "product", "p0"), "inv"))
                    .isFalse();

            TestPipeline.CliRun purge = TestPipeline.cli("purge", "product", "--wait", "0", "--config", config);

            assertThat(purge.exitCode()).as(purge.toString()).isZero();
            assertThat(purge.out()).contains("10 fenced");
            assertThat(sync.hgetall(RedisLayout.key(prefix, "product", "p0")))
                    .isEqualTo(Map.of("v", "3", "ts", "1", "inv", "1"));
            assertThat(sync.hget(RedisLayout.key(prefix, "user", "u1"), "d")).isEqualTo("{}");
            events.producer.close();
        }
    }

    /** One run: seed, fill both L1s, purge while events flow, check. */
    private static final class Scenario {
        private final TestPipeline p;
        private final int perType;
        private final String idPrefix;
        private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        private final Map<String, Long> published = new ConcurrentHashMap<>(); // key -> highest version published
        private final AvroSerde<DomainEvent> serde = AvroSerde.of(DomainEvent.class);
        private final KafkaProducer<byte[], byte[]> producer;

        Scenario(TestPipeline p, int perType, String idPrefix) {
            this.p = p;
            this.perType = perType;
            this.idPrefix = idPrefix;
            Map<String, Object> props = new HashMap<>(p.kafkaProperties());
            props.put("linger.ms", 5);
            this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        }

        /** Ids {@code a0, b1, c2, ...}: a third of them start with {@code a}. */
        String id(int i) {
            return (char) ('a' + i % 3) + Integer.toString(i);
        }

        boolean purged(String type, String id) {
            return type.equals("product") && id.startsWith(idPrefix);
        }

        void publish(String type, String id) {
            long version = published.merge(type + ":" + id, 1L, Long::sum);
            byte[] json = ("{\"v\":" + version + "}").getBytes(StandardCharsets.UTF_8);
            DomainEvent e = DomainEvent.newBuilder()
                    .setEventId(UUID.randomUUID().toString())
                    .setEntityType(type)
                    .setEntityId(id)
                    .setVersion(version)
                    .setOp(Operation.UPSERT)
                    .setOccurredAt(Instant.now())
                    .setContentType("application/json")
                    .setPayload(ByteBuffer.wrap(json))
                    .setAttributes(Map.of())
                    .build();
            String topic = p.config.entities().get(type).topics().get(0);
            producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), serde.encode(e)));
        }

        void run(RedisTarget target) throws Exception {
            p.startPipeline();
            String prefix = p.config.redis().keyPrefix();
            List<CacheClient> clients = new ArrayList<>();
            try (RedisConnector connector = RedisConnector.create(
                            target, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofSeconds(1));
                    StatefulConnection<byte[], byte[]> connection = connector.connect()) {
                RedisClusterAsyncCommands<byte[], byte[]> redis = RedisConnector.async(connection);
                for (int i = 0; i < perType; i++) {
                    publish("user", id(i));
                    publish("product", id(i));
                }
                producer.flush();
                await().atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> count(redis, prefix + ":*") >= 2L * perType);

                Map<String, List<EntityCache<Doc>>> caches = new HashMap<>();
                for (String name : List.of("app-a", "app-b")) {
                    CacheClient client = CacheClient.builder()
                            .name(name)
                            .redisUri(target.seeds().get(0).toString())
                            .redisMode(target.mode().name().toLowerCase(java.util.Locale.ROOT))
                            .bootstrapServers(EmbeddedKafka.shared().bootstrapServers())
                            .keyPrefix(prefix)
                            .invalidationsTopic(p.config.topics().invalidations())
                            .redisTimeout(Duration.ofSeconds(5))
                            .kafkaTimeout(Duration.ofSeconds(10))
                            .meterRegistry(registry)
                            .build();
                    clients.add(client);
                    for (String type : List.of("user", "product")) {
                        caches.computeIfAbsent(type, t -> new ArrayList<>())
                                .add(client.entity(type, Codec.json(Doc.class)));
                    }
                }
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < perType; i++) {
                    ids.add(id(i));
                }
                for (List<EntityCache<Doc>> perClient : caches.values()) {
                    for (EntityCache<Doc> cache : perClient) {
                        for (int from = 0; from < ids.size(); from += 500) {
                            assertThat(cache.getAll(ids.subList(from, Math.min(ids.size(), from + 500))))
                                    .hasSize(Math.min(500, ids.size() - from));
                        }
                    }
                }

                // events of both types keep flowing while the purge runs
                AtomicBoolean flowing = new AtomicBoolean(true);
                Thread flow = new Thread(() -> {
                    while (flowing.get()) {
                        int i = ThreadLocalRandom.current().nextInt(perType);
                        publish(ThreadLocalRandom.current().nextBoolean() ? "user" : "product", id(i));
                        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                    }
                });
                flow.start();
                TestPipeline.sleep(1_000);
                Map<String, Long> before = new HashMap<>(published); // at least this much is in Redis before the scan
                TestPipeline.CliRun run = idPrefix.isEmpty()
                        ? TestPipeline.cli(
                                "purge", "product", "--config", p.configFile().toString())
                        : TestPipeline.cli(
                                "purge",
                                "product",
                                "--id-prefix",
                                idPrefix,
                                "--config",
                                p.configFile().toString());
                TestPipeline.sleep(1_000);
                flowing.set(false);
                flow.join();
                producer.flush();
                assertThat(run.exitCode()).as(run.toString()).isZero();
                assertThat(run.out()).contains("fenced").contains("announced to clients");

                // Every event reached Redis (the writer's group is at the end of the mutations topic)
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> {
                            var ends = p.mutationEndOffsets();
                            var committed = p.committedWriterOffsets();
                            return committed.equals(ends) && TestPipeline.sum(ends) >= 2L * perType;
                        });
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    for (String name : List.of("app-a", "app-b")) {
                        assertThat(purges(name))
                                .as("purges applied by %s", name)
                                .isGreaterThanOrEqualTo(1);
                    }
                });
                // let the clients apply the invalidations of the last events
                TestPipeline.sleep(1_000);

                int fences = 0;
                int purgedIds = 0;
                for (String id : ids) {
                    for (String type : List.of("user", "product")) {
                        String key = RedisLayout.key(prefix, type, id);
                        Map<byte[], byte[]> raw = redis.hgetall(key.getBytes(StandardCharsets.UTF_8))
                                .get(5, TimeUnit.SECONDS);
                        Map<String, String> entry = new HashMap<>();
                        raw.forEach((k, v) -> entry.put(
                                new String(k, StandardCharsets.UTF_8), new String(v, StandardCharsets.UTF_8)));
                        long version = Long.parseLong(entry.get("v"));
                        long last = published.get(type + ":" + id);
                        boolean fence = "1".equals(entry.get("inv"));
                        if (purged(type, id)) {
                            purgedIds++;
                            long cut = before.get(type + ":" + id);
                            if (fence) {
                                fences++;
                                assertThat(version).as("fence of %s", key).isGreaterThanOrEqualTo(cut);
                            } else {
                                assertThat(version)
                                        .as("value of %s survived the purge", key)
                                        .isGreaterThan(cut);
                            }
                            assertThat(version)
                                    .as("%s after the last event", key)
                                    .isEqualTo(last);
                        } else {
                            assertThat(fence).as("%s must not be fenced", key).isFalse();
                            assertThat(version).as("%s", key).isEqualTo(last);
                        }
                        for (EntityCache<Doc> cache : caches.get(type)) {
                            Optional<Doc> read = cache.get(id);
                            if (purged(type, id)) {
                                long cut = before.get(type + ":" + id);
                                assertThat(read.map(Doc::v).orElse(Long.MAX_VALUE))
                                        .as("%s through %s: nothing at or below %d", key, cache, cut)
                                        .isGreaterThan(cut);
                            } else {
                                assertThat(read.map(Doc::v))
                                        .as("%s through %s", key, cache)
                                        .contains(last);
                            }
                        }
                    }
                }
                assertThat(purgedIds).isPositive();
                assertThat(fences).as("fences").isGreaterThan(purgedIds / 2);

                // events after the purge are applied as usual, in Redis and in both clients
                List<String> again = ids.stream()
                        .filter(id -> purged("product", id))
                        .limit(50)
                        .toList();
                for (String id : again) {
                    publish("product", id);
                }
                producer.flush();
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    for (String id : again) {
                        long last = published.get("product:" + id);
                        for (EntityCache<Doc> cache : caches.get("product")) {
                            assertThat(cache.get(id).map(Doc::v))
                                    .as("%s after the purge", id)
                                    .contains(last);
                        }
                    }
                });
            } finally {
                clients.forEach(CacheClient::close);
                producer.close();
                registry.close();
            }
        }

        private long purges(String client) {
            return (long) registry.find(ClientMeters.PURGES).tag("client", client).functionCounters().stream()
                    .mapToDouble(FunctionCounter::count)
                    .sum();
        }

        /** Keys matching {@code pattern} on every master. */
        private static long count(RedisClusterAsyncCommands<byte[], byte[]> redis, String pattern) throws Exception {
            long n = 0;
            io.lettuce.core.ScanCursor cursor = io.lettuce.core.ScanCursor.INITIAL;
            io.lettuce.core.ScanArgs args =
                    io.lettuce.core.ScanArgs.Builder.matches(pattern).limit(1000);
            do {
                io.lettuce.core.KeyScanCursor<byte[]> page =
                        redis.scan(cursor, args).get(5, TimeUnit.SECONDS);
                n += page.getKeys().stream()
                        .filter(k -> !new String(k, StandardCharsets.UTF_8).contains("@"))
                        .count();
                cursor = page;
            } while (!cursor.isFinished());
            return n;
        }
    }
}
