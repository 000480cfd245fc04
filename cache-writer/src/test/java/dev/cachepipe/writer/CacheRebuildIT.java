package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.writer.internal.replay.ReplayDriver;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link CacheRebuild} against the shared Kafka broker and a redis-server of its own. */
class CacheRebuildIT {
    private static final AvroSerde<CacheMutation> MUTATIONS = AvroSerde.of(CacheMutation.class);
    private static final AvroSerde<CacheInvalidation> INVALIDATIONS = AvroSerde.of(CacheInvalidation.class);

    private static EmbeddedKafka kafka;
    private static RedisServer redis;
    private static RedisClient redisClient;
    private static StatefulRedisConnection<String, byte[]> connection;

    private String prefix;
    private String mutationsTopic;
    private String invalidationsTopic;
    private String groupId;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<CacheRebuild.Progress> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.shared();
        redis = RedisServer.start();
        redisClient = RedisClient.create(RedisURI.create(redis.uri()));
        connection = redisClient.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    }

    @AfterAll
    static void stop() {
        connection.close();
        redisClient.shutdown();
        redis.close();
    }

    @BeforeEach
    void setUp() {
        String id = UUID.randomUUID().toString().substring(0, 8);
        prefix = "rb" + id;
        mutationsTopic = "rb-mutations-" + id;
        invalidationsTopic = "rb-invalidations-" + id;
        groupId = "rb-writer-" + id;
        kafka.createTopic(mutationsTopic, 1, Map.of("cleanup.policy", "compact"));
        kafka.createTopic(invalidationsTopic, 1, Map.of());
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    private RedisCommands<String, byte[]> redis() {
        return connection.sync();
    }

    private WriterConfig config() {
        return WriterConfig.defaults(kafka.bootstrapServers(), mutationsTopic, invalidationsTopic)
                .withGroupId(groupId)
                .withRedisTimeout(Duration.ofSeconds(1))
                .withRetryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .withKeyPrefix(prefix);
    }

    private CacheRebuild.Result rebuild(String entityType) {
        return CacheRebuild.run(
                config(), RedisURI.create(redis.uri()), entityType, registry, progress::add, () -> false);
    }

    private String key(String type, String id) {
        return prefix + ":" + type + ":" + id;
    }

    private CacheMutation mutation(
            String type, String id, long version, MutationOp op, Instant occurredAt, long ttlMillis) {
        return CacheMutation.newBuilder()
                .setKey(key(type, id))
                .setEntityType(type)
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(occurredAt)
                .setTtlMillis(ttlMillis)
                .setContentType(op == MutationOp.UPSERT ? "application/json" : null)
                .setPayload(
                        op == MutationOp.UPSERT
                                ? ByteBuffer.wrap(("{\"v\":" + version + "}").getBytes(StandardCharsets.UTF_8))
                                : null)
                .setInlineInvalidation(true)
                .build();
    }

    private void send(CacheMutation... mutations) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(),
                new ByteArraySerializer())) {
            for (CacheMutation m : mutations) {
                producer.send(new ProducerRecord<>(mutationsTopic, m.getKey(), MUTATIONS.encode(m)))
                        .get(10, TimeUnit.SECONDS);
            }
        }
    }

    private CacheEntry entry(String key) {
        return CacheEntry.decode(redis().hgetall(key)).orElse(null);
    }

    private List<CacheInvalidation> invalidations() {
        List<CacheInvalidation> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(invalidationsTopic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (c.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(INVALIDATIONS.decode(r.value()));
                }
            }
        }
        return out;
    }

    @Test
    void shouldRestoreEveryEntryWithTheTtlItHasLeftWhenRedisIsEmpty() throws Exception {
        Instant now = Instant.now();
        send(
                mutation("user", "a", 1, MutationOp.UPSERT, now.minusSeconds(60), 600_000),
                mutation("user", "a", 2, MutationOp.UPSERT, now.minusSeconds(60), 600_000),
                mutation("user", "b", 4, MutationOp.TOMBSTONE, now, 300_000),
                mutation("order", "c", 7, MutationOp.FENCE, now, 300_000),
                mutation("user", "d", 1, MutationOp.UPSERT, now.minusSeconds(3600), 600_000)); // expired long ago

        CacheRebuild.Result result = rebuild(null);

        assertThat(result.outcome()).isEqualTo(CacheRebuild.Outcome.COMPLETED);
        CacheRebuild.Progress p = result.progress();
        assertThat(p.total()).isEqualTo(5);
        assertThat(p.read()).isEqualTo(5);
        assertThat(p.applied()).isEqualTo(4); // a v1 and v2 coalesce to v2
        assertThat(p.expired()).isEqualTo(1);
        assertThat(p.fraction()).isEqualTo(1.0);
        assertThat(progress).isNotEmpty();
        assertThat(entry(key("user", "a")).version()).isEqualTo(2);
        assertThat(entry(key("user", "a")).state()).isEqualTo(CacheEntry.State.VALUE);
        assertThat(entry(key("user", "b")).state()).isEqualTo(CacheEntry.State.TOMBSTONE);
        assertThat(entry(key("order", "c")).state()).isEqualTo(CacheEntry.State.FENCE);
        // the TTL left, not a fresh one: written 60 s after it occurred, with 600 s to live
        assertThat(redis().pttl(key("user", "a"))).isBetween(500_000L, 540_001L);
        assertThat(redis().pttl(key("user", "b"))).isBetween(280_000L, 300_001L);
        TimeUnit.MILLISECONDS.sleep(20);
        assertThat(redis().exists(key("user", "d")))
                .as("expired: gone after 1 ms")
                .isZero();
        Map<String, byte[]> marker = redis().hgetall(CacheRebuild.markerKey(prefix));
        assertThat(marker).containsKeys("epoch", "rebuiltAt").doesNotContainKeys("lock", "lockUntil");
        assertThat(registry.find("cachepipe.rebuild.records").counters())
                .as("a standalone run removes its meters again")
                .isEmpty();
    }

    @Test
    void shouldFailRatherThanSkipAndMarkCompleteWhenAMutationHasAnUnknownSchema() throws Exception {
        CacheMutation known = mutation("user", "k", 1, MutationOp.UPSERT, Instant.now(), 600_000);
        byte[] newer = MUTATIONS.encode(mutation("user", "n", 1, MutationOp.UPSERT, Instant.now(), 600_000));
        newer[2] ^= 0x55; // a CacheMutation schema fingerprint this writer does not know (a newer topology)
        send(known);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(mutationsTopic, key("user", "n"), newer))
                    .get(10, TimeUnit.SECONDS);
        }

        assertThatThrownBy(() -> rebuild(null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has a schema this writer does not know");
        assertThat(redis().hget(CacheRebuild.markerKey(prefix), "epoch"))
                .as("a rebuild that could not replay everything does not mark Redis complete")
                .isNull();
        assertThat(redis().hget(CacheRebuild.markerKey(prefix), "lock"))
                .as("and gives its lease up")
                .isNull();
    }

    @Test
    void shouldNotResurrectAnOlderVersionWhenTheNewerOneHasExpired() throws Exception {
        Instant now = Instant.now();
        // v1 still has minutes to live; v2 (the delete) occurred earlier with a short tombstone TTL that is over
        send(
                mutation("user", "a", 1, MutationOp.UPSERT, now.minusSeconds(30), 600_000),
                mutation("user", "a", 2, MutationOp.TOMBSTONE, now.minusSeconds(120), 60_000));
        // the older upsert is in Redis already (written by an earlier batch, or by a live writer)
        redis().hset(key("user", "a"), Map.of("v", "1".getBytes(), "d", "{}".getBytes(), "ts", "0".getBytes()));

        CacheRebuild.Result result = rebuild(null);

        assertThat(result.outcome()).isEqualTo(CacheRebuild.Outcome.COMPLETED);
        TimeUnit.MILLISECONDS.sleep(20);
        assertThat(redis().exists(key("user", "a")))
                .as("the expired delete superseded v1, then expired")
                .isZero();
    }

    /**
     * Both first passes: the index of each key's newest version (the default), and the guards written when the range
     * holds more keys than the index takes ({@code indexMaxKeys} 0 here).
     */
    @ParameterizedTest(name = "indexMaxKeys={0}")
    @ValueSource(ints = {500_000, 0})
    void shouldNeverServeADeletedEntityWhenARebuildRacesADeleteWhoseTombstoneHasExpired(int indexMaxKeys)
            throws Exception {
        System.setProperty(ReplayDriver.INDEX_MAX_KEYS_PROPERTY, Integer.toString(indexMaxKeys));
        try {
            rebuildRacingAnExpiredDelete(indexMaxKeys);
        } finally {
            System.clearProperty(ReplayDriver.INDEX_MAX_KEYS_PROPERTY);
        }
    }

    private void rebuildRacingAnExpiredDelete(int indexMaxKeys) throws Exception {
        Instant now = Instant.now();
        String gone = key("user", "gone");
        // the upsert has minutes to live, the tombstone of its delete ran out already; the 1,000 records of other keys
        // between them put the two into different polls (a rebuild's poll returns at most 500 records)
        List<CacheMutation> ms = new ArrayList<>();
        ms.add(mutation("user", "gone", 1, MutationOp.UPSERT, now.minusSeconds(30), 600_000));
        for (int i = 0; i < 1000; i++) {
            ms.add(mutation("user", "f" + i, 1, MutationOp.UPSERT, now, 600_000));
        }
        ms.add(mutation("user", "gone", 2, MutationOp.TOMBSTONE, now.minusSeconds(120), 60_000));
        send(ms.toArray(new CacheMutation[0]));
        List<String> served = new CopyOnWriteArrayList<>();
        // What a reader would get, looked at after every batch the rebuild applied (on its thread, between batches)
        // and, all the time, by a thread of its own.
        Runnable look = () -> {
            CacheEntry e = entry(gone);
            if (e != null && e.state() == CacheEntry.State.VALUE) {
                served.add("v" + e.version());
            }
        };
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread reader = new Thread(
                () -> {
                    while (running.get()) {
                        look.run();
                    }
                },
                "rebuild-reader");
        reader.start();
        CacheRebuild.Result result;
        try {
            result = CacheRebuild.run(
                    config(), RedisURI.create(redis.uri()), null, registry, p -> look.run(), () -> false);
        } finally {
            running.set(false);
            reader.join();
        }

        assertThat(result.outcome()).isEqualTo(CacheRebuild.Outcome.COMPLETED);
        assertThat(served).as("the deleted entity served while the rebuild ran").isEmpty();
        TimeUnit.MILLISECONDS.sleep(20);
        assertThat(redis().exists(gone))
                .as("the expired delete superseded v1, then expired")
                .isZero();
        assertThat(entry(key("user", "f999")).state()).isEqualTo(CacheEntry.State.VALUE);
        assertThat(result.progress().read()).isEqualTo(1002);
        assertThat(result.progress().applied())
                .as("the newest state of each key: 1,000 upserts, one delete")
                .isEqualTo(1001);
        // the upsert the delete superseded: met its guard (a fence at its own version) or skipped (the index knew)
        assertThat(
                        indexMaxKeys == 0
                                ? result.progress().duplicate()
                                : result.progress().stale())
                .as(indexMaxKeys == 0 ? "refused by its guard" : "skipped by the index")
                .isEqualTo(1);
    }

    @Test
    void shouldAnnounceOnlyWritesAtOrAfterTheWritersCommittedOffset() throws Exception {
        Instant now = Instant.now();
        List<CacheMutation> ms = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ms.add(mutation("user", "k" + i, 1, MutationOp.UPSERT, now, 600_000));
        }
        send(ms.toArray(new CacheMutation[0]));
        // the writer group had committed up to offset 6: k0..k5 were written and announced before Redis lost them
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ConsumerConfig.GROUP_ID_CONFIG,
                        groupId),
                new StringDeserializer(),
                new ByteArrayDeserializer())) {
            c.commitSync(Map.of(new TopicPartition(mutationsTopic, 0), new OffsetAndMetadata(6)));
        }

        CacheRebuild.Result result = rebuild(null);

        assertThat(result.outcome()).isEqualTo(CacheRebuild.Outcome.COMPLETED);
        assertThat(result.progress().applied()).isEqualTo(10);
        assertThat(result.progress().invalidations()).isEqualTo(4);
        for (int i = 0; i < 10; i++) {
            assertThat(entry(key("user", "k" + i))).isNotNull();
        }
        assertThat(invalidations())
                .extracting(CacheInvalidation::getEntityId)
                .containsExactlyInAnyOrder("k6", "k7", "k8", "k9");

        // a second run finds everything current: nothing applied, nothing announced
        CacheRebuild.Result again = rebuild(null);
        assertThat(again.progress().applied()).as("second run: %s", again).isZero();
        assertThat(again.progress().duplicate()).isEqualTo(10);
        assertThat(invalidations()).hasSize(4);
    }

    @Test
    void shouldDoNothingAndSayBusyWhenAnotherRebuildHoldsTheLease() throws Exception {
        send(mutation("user", "a", 1, MutationOp.UPSERT, Instant.now(), 600_000));
        String marker = CacheRebuild.markerKey(prefix);
        String until = Long.toString(System.currentTimeMillis() + 60_000);
        redis().hset(marker, Map.of("lock", "someone-else".getBytes(), "lockUntil", until.getBytes()));

        CacheRebuild.Result result = rebuild(null);

        assertThat(result.outcome()).isEqualTo(CacheRebuild.Outcome.BUSY);
        assertThat(redis().exists(key("user", "a"))).isZero();
        assertThat(new String(redis().hget(marker, "lock"), StandardCharsets.UTF_8))
                .isEqualTo("someone-else");

        // once that lease has expired (its holder died), a rebuild takes over
        redis().hset(
                        marker,
                        "lockUntil",
                        Long.toString(System.currentTimeMillis() - 1).getBytes());
        assertThat(rebuild(null).outcome()).isEqualTo(CacheRebuild.Outcome.COMPLETED);
        assertThat(redis().hget(marker, "epoch")).isNotNull();
        assertThat(redis().hget(marker, "lock")).isNull();
    }

    @Test
    void shouldRebuildOneEntityTypeAndLeaveTheMarkerAloneWhenAnEntityTypeIsGiven() throws Exception {
        Instant now = Instant.now();
        send(
                mutation("user", "a", 1, MutationOp.UPSERT, now, 600_000),
                mutation("order", "b", 1, MutationOp.FENCE, now, 600_000));

        CacheRebuild.Result result = rebuild("user");

        assertThat(result.outcome()).isEqualTo(CacheRebuild.Outcome.COMPLETED);
        assertThat(result.progress().filtered()).isEqualTo(1);
        assertThat(entry(key("user", "a"))).isNotNull();
        assertThat(redis().exists(key("order", "b"))).isZero();
        assertThat(redis().exists(CacheRebuild.markerKey(prefix))).isZero();
    }
}
