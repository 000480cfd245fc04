package dev.cachepipe.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.AvroSerde;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 8, item 3: a writer whose partition moved to another writer while it was retrying a batch (Redis was paused)
 * must neither write that batch later nor commit its offset. Two {@link CacheWriter}s in one group, one partition:
 *
 * <ol>
 *   <li>writer A owns the partition; Redis pauses; A's batch {@code k v1} fails and A waits a long backoff;
 *   <li>Redis comes back; writer B joins and takes the partition (static member ids make the range assignor pick B),
 *       writes {@code k v1} and the newer tombstone {@code k v2}, commits, and the tombstone expires;
 *   <li>B leaves, the partition comes back to A.
 * </ol>
 *
 * Before the fix, A's retry wrote {@code k v1} again after the tombstone had expired (the deleted entity came back)
 * and committed offset 2 over B's 3. Now A dropped the batch when the partition was revoked.
 */
class OwnershipIT {
    private static final AvroSerde<CacheMutation> MUTATIONS = AvroSerde.of(CacheMutation.class);
    /** A's wait after its failed attempt is drawn from [BACKOFF/4, BACKOFF/2]: B's whole turn fits in BACKOFF/4. */
    private static final Duration BACKOFF = Duration.ofSeconds(100);

    private final EmbeddedKafka kafka = EmbeddedKafka.shared();
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private RedisServer redis;
    private KafkaProducer<String, byte[]> producer;
    private Admin admin;
    private String id;
    private String topic;
    private String group;

    @BeforeEach
    void setUp() {
        id = UUID.randomUUID().toString().substring(0, 8);
        topic = "own-mutations-" + id;
        group = "own-writer-" + id;
        kafka.createTopic(topic, 1, Map.of("cleanup.policy", "compact"));
        kafka.createTopic("own-invalidations-" + id, 1, Map.of());
        redis = RedisServer.start();
        producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(),
                new ByteArraySerializer());
        admin = kafka.admin();
    }

    @AfterEach
    void tearDown() {
        producer.close();
        admin.close();
        redis.close();
    }

    @Test
    void shouldNeitherWriteNorCommitABatchWhosePartitionMovedDuringARedisOutage() throws Exception {
        SimpleMeterRegistry registryA = new SimpleMeterRegistry();
        Running a = start("zz-a", BACKOFF, registryA);
        Running b = null;
        try {
            send(upsert("warm", 1));
            await("A writes").atMost(Duration.ofSeconds(90)).until(() -> committed() == 1);

            redis.pause();
            long failedAt;
            try {
                send(upsert("k", 1));
                await("A's write of k v1 fails")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> redisRetries(registryA) >= 1);
                failedAt = System.nanoTime();
            } finally {
                redis.resume();
            }

            b = start("aa-b", Duration.ofMillis(500), new SimpleMeterRegistry());
            await("B owns the partition").atMost(Duration.ofSeconds(60)).until(() -> owner().equals("aa-b"));
            send(tombstone("k", 2));
            await("B wrote the tombstone and committed")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> committed() == 3);
            await("the tombstone expired").atMost(Duration.ofSeconds(30)).until(() -> !exists("k"));
            b.close();
            b = null;
            await("A owns the partition again").atMost(Duration.ofSeconds(60)).until(() -> owner().equals("zz-a"));
            assertThat(System.nanoTime() - failedAt)
                    .as("B's turn ended before A's backoff could have ended (else the test proves nothing)")
                    .isLessThan(BACKOFF.toNanos() / 4);

            // until well after A's backoff has ended: the deleted entity stays deleted, the committed offset stays
            long watchUntil = failedAt + BACKOFF.toNanos() / 2 + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < watchUntil) {
                assertThat(exists("k")).as("k deleted at v2 came back").isFalse();
                assertThat(committed()).as("committed offset").isGreaterThanOrEqualTo(3);
                Thread.sleep(500);
            }

            assertThat(registryA.get(WriterMeters.BATCHES_DISOWNED).counter().count())
                    .isEqualTo(1);

            // A is alive and writes what comes next
            send(upsert("next", 1));
            await("A writes on").atMost(Duration.ofSeconds(60)).until(() -> committed() == 4);
            assertThat(exists("next")).isTrue();
            assertThat(exists("k")).isFalse();
        } finally {
            if (b != null) {
                b.close();
            }
            a.close();
        }
        assertThat(errors).isEmpty();
    }

    private record Running(CacheWriter writer, Thread thread) {
        void close() throws InterruptedException {
            writer.close();
            thread.join(30_000);
        }
    }

    private Running start(String instanceId, Duration backoff, SimpleMeterRegistry registry) {
        WriterConfig config = WriterConfig.defaults(kafka.bootstrapServers(), topic, "own-invalidations-" + id)
                .withGroupId(group)
                .withRedisTimeout(Duration.ofMillis(500))
                .withRetryBackoff(backoff.dividedBy(2), backoff)
                .withKafkaProperties(Map.of(
                        "group.instance.id", instanceId,
                        "session.timeout.ms", "10000",
                        "heartbeat.interval.ms", "1000"));
        CacheWriter writer = new CacheWriter(config, RedisURI.create(redis.uri()), registry);
        Thread t = new Thread(
                () -> {
                    try {
                        writer.run();
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                },
                "writer-" + instanceId);
        t.start();
        return new Running(writer, t);
    }

    /** The group instance id of the member that holds the partition, or "" if none does. */
    private String owner() throws Exception {
        return admin
                .describeConsumerGroups(List.of(group))
                .describedGroups()
                .get(group)
                .get(10, TimeUnit.SECONDS)
                .members()
                .stream()
                .filter(m -> !m.assignment().topicPartitions().isEmpty())
                .map(MemberDescription::groupInstanceId)
                .map(o -> o.orElse("?"))
                .findFirst()
                .orElse("");
    }

    private long committed() throws Exception {
        OffsetAndMetadata o = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS)
                .get(new TopicPartition(topic, 0));
        return o == null ? 0 : o.offset();
    }

    private static double redisRetries(SimpleMeterRegistry registry) {
        return registry.find(WriterMeters.RETRIES).tag(WriterMeters.STAGE, WriterMeters.STAGE_REDIS).counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    private boolean exists(String entityId) {
        return !redis.command("EXISTS", key(entityId)).startsWith(":0");
    }

    private String key(String entityId) {
        return "own" + id + ":user:" + entityId;
    }

    private CacheMutation upsert(String entityId, long version) {
        return CacheMutation.newBuilder()
                .setKey(key(entityId))
                .setEntityType("user")
                .setEntityId(entityId)
                .setVersion(version)
                .setOp(MutationOp.UPSERT)
                .setOccurredAt(Instant.now())
                .setTtlMillis(600_000)
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap(("{\"v\":" + version + "}").getBytes(StandardCharsets.UTF_8)))
                .setInlineInvalidation(false)
                .setEventId("e-" + entityId + "-" + version)
                .build();
    }

    /** A delete whose tombstone lives one second. */
    private CacheMutation tombstone(String entityId, long version) {
        return CacheMutation.newBuilder()
                .setKey(key(entityId))
                .setEntityType("user")
                .setEntityId(entityId)
                .setVersion(version)
                .setOp(MutationOp.TOMBSTONE)
                .setOccurredAt(Instant.now())
                .setTtlMillis(1000)
                .setInlineInvalidation(false)
                .build();
    }

    private void send(CacheMutation m) throws Exception {
        producer.send(new ProducerRecord<>(topic, m.getKey(), MUTATIONS.encode(m)))
                .get(10, TimeUnit.SECONDS);
    }
}
