package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.InvalidationOp;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.CacheEntry;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.micrometer.core.instrument.Counter;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
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
import org.slf4j.LoggerFactory;

/** The writer loop against the shared embedded Kafka broker and a redis-server per test. */
class CacheWriterIT {
    private static final AvroSerde<CacheMutation> MUTATIONS = AvroSerde.of(CacheMutation.class);
    private static final AvroSerde<CacheInvalidation> INVALIDATIONS = AvroSerde.of(CacheInvalidation.class);
    private static final long TTL = 600_000;

    private static EmbeddedKafka kafka;
    private static KafkaProducer<String, byte[]> producer;
    private static Admin admin;

    private RedisServer redis;
    private String redisUri;
    private RedisClient redisClient;
    private StatefulRedisConnection<byte[], byte[]> redisConnection;
    private String prefix;
    private String mutationsTopic;
    private String invalidationsTopic;
    private String groupId;
    private SimpleMeterRegistry registry;
    private CacheWriter writer;
    private Thread writerThread;
    private final List<Throwable> writerErrors = new CopyOnWriteArrayList<>();
    private KafkaConsumer<String, byte[]> invalidationConsumer;
    private final List<CacheInvalidation> received = new ArrayList<>();
    private final List<String> orderViolations = new ArrayList<>();

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.shared();
        producer = new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ProducerConfig.LINGER_MS_CONFIG,
                        0),
                new StringSerializer(),
                new ByteArraySerializer());
        admin = kafka.admin();
    }

    @AfterAll
    static void closeClients() {
        if (producer != null) {
            producer.close();
        }
        if (admin != null) {
            admin.close();
        }
    }

    @BeforeEach
    void setUp() {
        String id = UUID.randomUUID().toString().substring(0, 8);
        prefix = "it" + id;
        mutationsTopic = "mutations-" + id;
        invalidationsTopic = "invalidations-" + id;
        groupId = "writer-" + id;
        kafka.createTopic(mutationsTopic, 2, Map.of("cleanup.policy", "compact"));
        kafka.createTopic(invalidationsTopic, 1, Map.of());
        redis = RedisServer.start();
        redisUri = redis.uri();
        registry = new SimpleMeterRegistry();
        invalidationConsumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers(),
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                        "read_committed"),
                new StringDeserializer(),
                new ByteArrayDeserializer());
        TopicPartition tp = new TopicPartition(invalidationsTopic, 0);
        invalidationConsumer.assign(List.of(tp));
        invalidationConsumer.seekToBeginning(List.of(tp));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (writer != null) {
            writer.close();
            writerThread.join(10_000);
            assertThat(writerThread.isAlive())
                    .as("run() returned after close()")
                    .isFalse();
        }
        invalidationConsumer.close();
        if (redisConnection != null) {
            redisConnection.close();
        }
        if (redisClient != null) {
            redisClient.shutdown();
        }
        if (redis != null) {
            redis.close();
        }
        assertThat(writerErrors).isEmpty();
    }

    private WriterConfig config() {
        return WriterConfig.defaults(kafka.bootstrapServers(), mutationsTopic, invalidationsTopic)
                .withGroupId(groupId)
                .withRedisTimeout(Duration.ofMillis(300))
                .withRetryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                // A writer that stopped polling while Redis is down would be evicted within 4 s.
                .withKafkaProperties(Map.of("max.poll.interval.ms", "4000"));
    }

    private void startWriter() {
        writer = new CacheWriter(config(), RedisURI.create(redisUri), registry);
        assertThat(writer.healthy()).isFalse();
        assertThat(writer.healthReason()).contains("not running");
        writerThread = new Thread(
                () -> {
                    try {
                        writer.run();
                    } catch (Throwable t) {
                        writerErrors.add(t);
                    }
                },
                "cache-writer-it");
        writerThread.start();
    }

    private String key(String id) {
        return prefix + ":user:" + id;
    }

    private CacheMutation upsert(String id, long version, boolean inline) {
        return CacheMutation.newBuilder()
                .setKey(key(id))
                .setEntityType("user")
                .setEntityId(id)
                .setVersion(version)
                .setOp(MutationOp.UPSERT)
                .setOccurredAt(Instant.now().minusMillis(5))
                .setTtlMillis(TTL)
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap(payload(id, version)))
                .setInlineInvalidation(inline)
                .setEventId("e-" + id + "-" + version)
                .build();
    }

    private CacheMutation other(String id, long version, MutationOp op) {
        return CacheMutation.newBuilder()
                .setKey(key(id))
                .setEntityType("user")
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(Instant.now().minusMillis(5))
                .setTtlMillis(60_000)
                .setInlineInvalidation(true)
                .build();
    }

    private static byte[] payload(String id, long version) {
        return ("{\"id\":\"" + id + "\",\"v\":" + version + "}").getBytes(StandardCharsets.UTF_8);
    }

    private void send(CacheMutation... mutations) throws Exception {
        for (CacheMutation m : mutations) {
            sendRaw(m.getKey(), MUTATIONS.encode(m));
        }
    }

    private void sendRaw(String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(mutationsTopic, key, value)).get(10, TimeUnit.SECONDS);
    }

    private void sendTo(int partition, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(mutationsTopic, partition, key, value))
                .get(10, TimeUnit.SECONDS);
    }

    private StatefulRedisConnection<byte[], byte[]> redisConnection() {
        if (redisConnection == null) {
            redisClient = RedisClient.create(RedisURI.create(redisUri));
            redisConnection = redisClient.connect(ByteArrayCodec.INSTANCE);
        }
        return redisConnection;
    }

    private Optional<CacheEntry> entry(String id) {
        Map<String, byte[]> hash = new HashMap<>();
        redisConnection()
                .sync()
                .hgetall(key(id).getBytes(StandardCharsets.UTF_8))
                .forEach((k, v) -> hash.put(new String(k, StandardCharsets.UTF_8), v));
        return CacheEntry.decode(hash);
    }

    /** Polls invalidations; for each one, checks that Redis already holds its version (invalidate after write). */
    private void pollInvalidations(Duration timeout) {
        for (ConsumerRecord<String, byte[]> r : invalidationConsumer.poll(timeout)) {
            CacheInvalidation inv = INVALIDATIONS.decode(r.value());
            assertThat(r.key()).isEqualTo(inv.getKey());
            String id = inv.getEntityId();
            long stored = entry(id).map(CacheEntry::version).orElse(-1L);
            if (stored < inv.getVersion()) {
                orderViolations.add(inv.getKey() + " v" + inv.getVersion() + " published while Redis had v" + stored);
            }
            received.add(inv);
        }
    }

    private List<CacheInvalidation> awaitInvalidations(int count) {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            pollInvalidations(Duration.ofMillis(200));
            assertThat(received.size()).as("invalidations received").isGreaterThanOrEqualTo(count);
        });
        // and no more than that
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(700);
        while (System.nanoTime() < end) {
            pollInvalidations(Duration.ofMillis(100));
        }
        assertThat(orderViolations).isEmpty();
        assertThat(received).hasSize(count);
        return List.copyOf(received);
    }

    private long committed() throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupId)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS);
        return offsets.values().stream()
                .filter(o -> o != null)
                .mapToLong(OffsetAndMetadata::offset)
                .sum();
    }

    private void awaitCommitted(long total) {
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(
                        () -> assertThat(committed()).as("offsets committed").isEqualTo(total));
    }

    private int groupMembers() throws Exception {
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(groupId))
                .describedGroups()
                .get(groupId)
                .get(10, TimeUnit.SECONDS);
        return d.members().size();
    }

    private double counter(String name, String... tags) {
        return registry.find("cachepipe.writer." + name).tags(tags).counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    private CacheInvalidation find(List<CacheInvalidation> list, String id) {
        return list.stream()
                .filter(i -> i.getEntityId().equals(id))
                .reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no invalidation for " + id + " in " + list));
    }

    @Test
    void shouldWriteEntriesAndPublishInvalidationsExactlyForChangesWhenMutationsArrive() throws Exception {
        startWriter();
        CacheMutation a = upsert("a", 1, true);
        CacheMutation b = upsert("b", 3, false);
        send(a, b, other("c", 2, MutationOp.TOMBSTONE), other("d", 1, MutationOp.FENCE));

        List<CacheInvalidation> first = awaitInvalidations(4);
        CacheInvalidation ia = find(first, "a");
        assertThat(ia.getOp()).isEqualTo(InvalidationOp.UPSERT);
        assertThat(ia.getVersion()).isEqualTo(1);
        assertThat(ia.getKey()).isEqualTo(key("a"));
        assertThat(ia.getEntityType()).isEqualTo("user");
        assertThat(ia.getContentType()).isEqualTo("application/json");
        assertThat(ia.getPayload()).isEqualTo(ByteBuffer.wrap(payload("a", 1)));
        assertThat(ia.getOccurredAt()).isEqualTo(a.getOccurredAt());
        assertThat(ia.getWrittenAt()).isAfterOrEqualTo(a.getOccurredAt()).isBeforeOrEqualTo(Instant.now());
        CacheInvalidation ib = find(first, "b");
        assertThat(ib.getVersion()).isEqualTo(3);
        assertThat(ib.getPayload()).as("not inline").isNull();
        assertThat(ib.getContentType()).isNull();
        assertThat(find(first, "c").getOp()).isEqualTo(InvalidationOp.DELETE);
        assertThat(find(first, "c").getPayload()).isNull();
        assertThat(find(first, "d").getOp()).isEqualTo(InvalidationOp.INVALIDATE);

        assertThat(entry("a"))
                .contains(new CacheEntry(
                        1,
                        CacheEntry.State.VALUE,
                        "application/json",
                        a.getOccurredAt().toEpochMilli(),
                        payload("a", 1)));
        assertThat(entry("b").orElseThrow().version()).isEqualTo(3);
        assertThat(entry("c").orElseThrow().state()).isEqualTo(CacheEntry.State.TOMBSTONE);
        assertThat(entry("d").orElseThrow().state()).isEqualTo(CacheEntry.State.FENCE);
        assertThat(redisConnection().sync().pttl(key("a").getBytes(StandardCharsets.UTF_8)))
                .isBetween(TTL - 30_000, TTL);

        // A duplicate, two stale writes (one would resurrect c) and a marker: only the marker changes Redis.
        send(upsert("a", 1, true), upsert("b", 2, false), upsert("c", 1, false), upsert("e", 1, false));
        List<CacheInvalidation> all = awaitInvalidations(5);
        assertThat(all.get(4).getEntityId()).isEqualTo("e");
        assertThat(entry("b").orElseThrow().version()).isEqualTo(3);
        assertThat(entry("c").orElseThrow().state()).isEqualTo(CacheEntry.State.TOMBSTONE);

        awaitCommitted(8);
        assertThat(counter("writes", "outcome", "applied", "entity_type", "user"))
                .isEqualTo(5);
        assertThat(counter("writes", "outcome", "stale")).isEqualTo(2);
        assertThat(counter("writes", "outcome", "duplicate")).isEqualTo(1);
        assertThat(counter("invalidations.published")).isEqualTo(5);
        assertThat(registry.get("cachepipe.writer.freshness").timer().count()).isEqualTo(5);
        assertThat(registry.get("cachepipe.writer.redis.latency").timer().count())
                .isPositive();
        assertThat(registry.get("cachepipe.writer.batch.size").summary().totalAmount())
                .isEqualTo(8);
        assertThat(writer.healthy()).isTrue();
        assertThat(writer.healthReason()).isEqualTo("ok");
        assertThat(registry.get("cachepipe.writer.healthy").gauge().value()).isEqualTo(1.0);
    }

    @Test
    void shouldCoalesceToHighestVersionWhenOneKeyHasManyMutationsInABatch() throws Exception {
        for (int v = 1; v <= 50; v++) {
            send(upsert("hot", v, false));
        }
        send(upsert("cold", 1, false));
        startWriter(); // everything is waiting: the first poll sees it all

        await().atMost(Duration.ofSeconds(30)).until(() -> {
            pollInvalidations(Duration.ofMillis(200));
            return received.stream().anyMatch(i -> i.getEntityId().equals("hot") && i.getVersion() == 50);
        });
        awaitCommitted(51);
        pollInvalidations(Duration.ofMillis(300));
        assertThat(orderViolations).isEmpty();
        List<Long> hotVersions = received.stream()
                .filter(i -> i.getEntityId().equals("hot"))
                .map(CacheInvalidation::getVersion)
                .toList();
        assertThat(hotVersions).hasSizeLessThan(50).isSorted().endsWith(50L);
        assertThat(entry("hot").orElseThrow().version()).isEqualTo(50);
        assertThat(entry("cold").orElseThrow().version()).isEqualTo(1);
        assertThat(counter("coalesced")).isEqualTo(50 - hotVersions.size());
    }

    @Test
    void shouldCommitNothingAndKeepMembershipWhenRedisIsPausedThenCatchUp() throws Exception {
        startWriter();
        send(upsert("p1", 1, false), upsert("p2", 1, false), upsert("p3", 1, false));
        awaitInvalidations(3);
        awaitCommitted(3);

        redis.pause();
        try {
            send(upsert("p1", 2, false), upsert("p2", 2, true), other("p3", 2, MutationOp.TOMBSTONE));
            send(upsert("p4", 1, false), upsert("p5", 7, false));
            await().atMost(Duration.ofSeconds(10)).until(() -> !writer.healthy());
            assertThat(writer.healthReason()).startsWith("Redis unavailable:");
            assertThat(registry.get("cachepipe.writer.healthy").gauge().value()).isZero();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            while (System.nanoTime() < until) {
                assertThat(committed())
                        .as("offsets committed while Redis is paused")
                        .isEqualTo(3);
                assertThat(groupMembers()).as("writer still in its group").isEqualTo(1);
                assertThat(writerThread.isAlive()).isTrue();
                assertThat(writer.healthy()).isFalse();
                Thread.sleep(500);
            }
        } finally {
            redis.resume();
        }

        awaitCommitted(8);
        await().atMost(Duration.ofSeconds(10)).until(writer::healthy);
        // Timed-out attempts ran once Redis thawed; the retry then found the same version: still invalidated.
        List<CacheInvalidation> all = awaitInvalidations(8);
        assertThat(all.subList(3, 8))
                .extracting(CacheInvalidation::getEntityId, CacheInvalidation::getVersion)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("p1", 2L),
                        org.assertj.core.groups.Tuple.tuple("p2", 2L),
                        org.assertj.core.groups.Tuple.tuple("p3", 2L),
                        org.assertj.core.groups.Tuple.tuple("p4", 1L),
                        org.assertj.core.groups.Tuple.tuple("p5", 7L));
        assertThat(find(all, "p2").getPayload()).isEqualTo(ByteBuffer.wrap(payload("p2", 2)));
        assertThat(entry("p1").orElseThrow().version()).isEqualTo(2);
        assertThat(entry("p3").orElseThrow().state()).isEqualTo(CacheEntry.State.TOMBSTONE);
        assertThat(entry("p5").orElseThrow().version()).isEqualTo(7);
        assertThat(counter("retries", "stage", "redis")).isPositive();
    }

    @Test
    void shouldCommitNothingAndRecoverWhenRedisIsStoppedAndRestartedWithItsData() throws Exception {
        startWriter();
        send(upsert("r1", 1, false), upsert("r2", 1, false));
        awaitInvalidations(2);
        awaitCommitted(2);

        redis.stopKeepingData();
        send(upsert("r1", 2, false), other("r2", 5, MutationOp.FENCE), upsert("r3", 1, false));
        await().atMost(Duration.ofSeconds(10)).until(() -> !writer.healthy());
        assertThat(writer.healthReason()).startsWith("Redis unavailable:").doesNotContain("@");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < until) {
            assertThat(committed()).isEqualTo(2);
            assertThat(writerThread.isAlive()).isTrue();
            Thread.sleep(300);
        }
        redis.restart(); // data kept, script cache lost: NOSCRIPT is reloaded

        awaitCommitted(5);
        await().atMost(Duration.ofSeconds(10)).until(writer::healthy);
        List<CacheInvalidation> all = awaitInvalidations(5);
        assertThat(all.subList(2, 5))
                .extracting(CacheInvalidation::getEntityId, CacheInvalidation::getVersion)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("r1", 2L),
                        org.assertj.core.groups.Tuple.tuple("r2", 5L),
                        org.assertj.core.groups.Tuple.tuple("r3", 1L));
        assertThat(entry("r1").orElseThrow().version()).isEqualTo(2);
        assertThat(entry("r2").orElseThrow().state()).isEqualTo(CacheEntry.State.FENCE);
        assertThat(entry("r3").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void shouldStallWithoutCommittingWhileRedisIsAReplicaAndResumeOnceItIsPrimaryAgain() throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger writerLog = (Logger) LoggerFactory.getLogger("dev.cachepipe.writer");
        logs.start();
        writerLog.addAppender(logs);
        try {
            startWriter();
            send(upsert("p1", 1, false));
            awaitInvalidations(1);
            awaitCommitted(1);
            try (RedisServer other = RedisServer.start()) {
                // a failover seen from the writer: its Redis turns into a (read-only) replica of another one
                assertThat(redis.command("REPLICAOF", "127.0.0.1", Integer.toString(other.port())))
                        .startsWith("+OK");
                await("the replica is in sync")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> redis.command("INFO", "replication").contains("master_link_status:up"));
                send(upsert("p2", 1, false));

                await("the writer reports the read-only Redis")
                        .atMost(Duration.ofSeconds(30))
                        .untilAsserted(() -> assertThat(writer.healthReason()).contains("READONLY"));
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                while (System.nanoTime() < until) {
                    assertThat(committed())
                            .as("offsets committed while Redis is read-only")
                            .isEqualTo(1);
                    assertThat(writerThread.isAlive()).isTrue();
                    Thread.sleep(200);
                }
                assertThat(logs.list)
                        .extracting(ILoggingEvent::getFormattedMessage)
                        .anyMatch(m -> m.contains("is read-only (a replica); reconnecting"));

                // promoted: it is a primary again (as a DNS name would now point at the new primary)
                assertThat(redis.command("REPLICAOF", "NO", "ONE")).startsWith("+OK");
            }
            awaitCommitted(2);
            assertThat(awaitInvalidations(2).get(1).getEntityId()).isEqualTo("p2");
            assertThat(entry("p2").orElseThrow().version()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(writer::healthy);
        } finally {
            writerLog.detachAppender(logs);
        }
    }

    @Test
    void shouldCatchUpWhenRedisIsDownAtStart() throws Exception {
        redis.stopKeepingData();
        startWriter();
        send(upsert("s1", 1, false));
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.healthReason().startsWith("Redis unavailable:"));
        Thread.sleep(1000);
        assertThat(committed()).as("offsets committed while Redis is down").isZero();
        redis.restart();
        awaitInvalidations(1);
        awaitCommitted(1);
        assertThat(entry("s1").orElseThrow().version()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(writer::healthy);
    }

    @Test
    void shouldReloadScriptsWithoutBackoffWhenScriptCacheIsFlushed() throws Exception {
        startWriter();
        send(upsert("f", 1, false));
        awaitInvalidations(1);
        assertThat(redis.command("SCRIPT", "FLUSH")).startsWith("+OK");
        send(upsert("f", 2, false), other("g", 1, MutationOp.FENCE));
        awaitInvalidations(3);
        assertThat(entry("f").orElseThrow().version()).isEqualTo(2);
        awaitCommitted(3);
        assertThat(counter("retries"))
                .as("NOSCRIPT is handled within the attempt")
                .isZero();
        assertThat(writer.healthy()).isTrue();
    }

    @Test
    void shouldSkipRecordAndCommitPastItWhenItIsNotAMutation() throws Exception {
        startWriter();
        // The bad record sits between two good ones in one partition (distinct keys: no coalescing).
        sendTo(0, key("x1"), MUTATIONS.encode(upsert("x1", 1, false)));
        sendTo(0, key("x1"), "definitely not avro".getBytes(StandardCharsets.UTF_8));
        sendTo(0, key("x2"), MUTATIONS.encode(upsert("x2", 1, false)));
        awaitInvalidations(2);
        awaitCommitted(3);
        assertThat(entry("x1").orElseThrow().version()).isEqualTo(1);
        assertThat(entry("x2").orElseThrow().version()).isEqualTo(1);
        assertThat(counter("skipped")).isEqualTo(1);
        assertThat(writer.healthy()).isTrue();
    }

    @Test
    void shouldWaitAtMutationWithUnknownSchemaInsteadOfSkippingIt() throws Exception {
        startWriter();
        byte[] newer = MUTATIONS.encode(upsert("n1", 1, false));
        newer[2] ^= 0x55; // a CacheMutation schema fingerprint this writer does not know (a newer topology)
        sendTo(0, key("n0"), MUTATIONS.encode(upsert("n0", 1, false)));
        sendTo(0, key("n1"), newer);
        sendTo(0, key("n2"), MUTATIONS.encode(upsert("n2", 1, false)));
        sendTo(1, key("n3"), MUTATIONS.encode(upsert("n3", 1, false)));

        // what comes before the unknown record, and other partitions, go on
        awaitInvalidations(2);
        awaitCommitted(2); // partition 0 up to (not past) the unknown record, partition 1 fully
        await().atMost(Duration.ofSeconds(10)).until(() -> !writer.healthy());
        assertThat(writer.healthReason()).contains("upgrade");
        // the record after it on its partition waits too: nothing is skipped or committed past it
        Thread.sleep(1500);
        assertThat(entry("n2")).isEmpty();
        assertThat(committed()).isEqualTo(2);
        assertThat(counter("skipped")).as("mutations skipped").isZero();
    }

    @Test
    void shouldAnnounceWriteThatADeadOwnerAppliedButNeverAnnounced() throws Exception {
        startWriter();
        sendTo(0, key("d0"), MUTATIONS.encode(upsert("d0", 1, false)));
        awaitInvalidations(1);
        awaitCommitted(1);
        writer.close();
        writerThread.join(10_000);

        // The previous owner wrote d1 v1 to Redis and died before its invalidation was acknowledged.
        CacheMutation d1 = upsert("d1", 1, false);
        sendTo(0, key("d1"), MUTATIONS.encode(d1));
        RedisScripts scripts = new RedisScripts(redisConnection());
        scripts.load(Duration.ofSeconds(5));
        assertThat(scripts.apply(d1).get(5, TimeUnit.SECONDS)).isEqualTo(RedisScripts.APPLIED);

        startWriter();
        List<CacheInvalidation> all = awaitInvalidations(2);
        assertThat(all.get(1).getKey()).isEqualTo(key("d1"));
        assertThat(all.get(1).getVersion()).isEqualTo(1);
        awaitCommitted(2);

        // a plain duplicate that arrives later is not announced again
        sendTo(0, key("d1"), MUTATIONS.encode(d1));
        awaitCommitted(3);
        assertThat(awaitInvalidations(2)).hasSize(2);
    }

    @Test
    void shouldReturnFromRunAndRemoveMetersWhenClosedFromAnotherThread() throws Exception {
        startWriter();
        send(upsert("z", 1, false));
        awaitInvalidations(1);
        assertThat(registry.find("cachepipe.writer.healthy").gauge()).isNotNull();

        writer.close();
        writerThread.join(10_000);
        assertThat(writerThread.isAlive()).isFalse();
        assertThat(writer.healthy()).isFalse();
        assertThat(writer.healthReason()).isEqualTo("closed");
        assertThat(registry.find("cachepipe.writer.healthy").gauge()).isNull();
        writer.close(); // idempotent
    }

    @Test
    void shouldAuthenticateButNeverRevealPasswordWhenRedisUriCarriesOne() throws Exception {
        String password = "s3cret-" + UUID.randomUUID();
        redis.close();
        redis = RedisServer.start(List.of("--requirepass", password));
        redisUri = "redis://:" + password + "@127.0.0.1:" + redis.port();
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        logs.start();
        root.addAppender(logs);
        try {
            startWriter();
            send(upsert("pw", 1, false));
            awaitInvalidations(1);
            assertThat(entry("pw").orElseThrow().version()).isEqualTo(1);

            redis.kill();
            send(upsert("pw", 2, false));
            await().atMost(Duration.ofSeconds(10)).until(() -> !writer.healthy());
            assertThat(writer.healthReason()).startsWith("Redis unavailable:").doesNotContain(password);
            writer.close();
            writerThread.join(10_000);
        } finally {
            root.detachAppender(logs);
        }
        assertThat(logs.list).isNotEmpty();
        for (ILoggingEvent e : logs.list) {
            assertThat(e.getFormattedMessage()).doesNotContain(password);
            if (e.getThrowableProxy() != null) {
                assertThat(e.getThrowableProxy().getMessage()).doesNotContain(password);
            }
        }
        assertThat(committed())
                .as("the write after the kill was never acknowledged")
                .isEqualTo(1);
    }
}
