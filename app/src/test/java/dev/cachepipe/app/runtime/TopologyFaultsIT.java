package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.topology.CachepipeTopology;
import dev.cachepipe.topology.DeadLetterReason;
import dev.cachepipe.topology.TopologyMeters;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The topology's faults that would make the cache go back: an oversized update, a far-future timestamp. */
class TopologyFaultsIT {
    private static final AvroSerde<DomainEvent> EVENTS = AvroSerde.of(DomainEvent.class);
    private static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Test
    void shouldStopServingThePreviousValueWhenANewerUpdateIsDeadLetteredAsTooLarge() throws Exception {
        try (TestPipeline p = TestPipeline.start("oversized", redis, 2);
                RedisProbe probe = new RedisProbe(redis);
                KafkaProducer<byte[], byte[]> producer = producer(p)) {
            String key = p.config.redis().keyPrefix() + ":user:big";
            send(producer, p, event("big", 1, Operation.UPSERT, 100), System.currentTimeMillis());
            await().atMost(Duration.ofSeconds(60)).until(() -> version(probe, key) == 1);

            // user's maxPayloadBytes is 2048: the topology dead-letters version 2
            send(producer, p, event("big", 2, Operation.UPSERT, 3000), System.currentTimeMillis());

            await().atMost(Duration.ofSeconds(60)).until(() -> version(probe, key) == 2);
            CacheEntry entry = probe.read(key).orElseThrow();
            assertThat(entry.state())
                    .as("the previous value must not be served")
                    .isEqualTo(CacheEntry.State.FENCE);
            assertThat(p.registry
                            .get(TopologyMeters.FENCED)
                            .tag(TopologyMeters.REASON, DeadLetterReason.PAYLOAD_TOO_LARGE.code())
                            .counter()
                            .count())
                    .isEqualTo(1.0);
            assertThat(p.registry
                            .get(TopologyMeters.DEAD_LETTERS)
                            .tag(TopologyMeters.REASON, DeadLetterReason.PAYLOAD_TOO_LARGE.code())
                            .counter()
                            .count())
                    .isEqualTo(1.0);
        }
    }

    @Test
    void shouldKeepKnowingWhatIsStaleAfterAFutureDatedRecord() throws Exception {
        try (TestPipeline p = TestPipeline.start("future", redis, 1);
                RedisProbe probe = new RedisProbe(redis);
                KafkaProducer<byte[], byte[]> producer = producer(p)) {
            String prefix = p.config.redis().keyPrefix();
            long now = System.currentTimeMillis();
            send(producer, p, event("known", 5, Operation.UPSERT, 100), now);
            send(producer, p, event("known", 6, Operation.DELETE, 0), now);
            // a broker accepts timestamps up to an hour ahead by default; this topic (like some in production) takes
            // any
            try (Admin admin = EmbeddedKafka.shared().admin()) {
                ConfigResource topic = new ConfigResource(
                        ConfigResource.Type.TOPIC, p.policy("user").topics().get(0));
                admin.incrementalAlterConfigs(Map.of(
                                topic,
                                List.of(new AlterConfigOp(
                                        new ConfigEntry(
                                                TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG,
                                                Long.toString(Long.MAX_VALUE)),
                                        AlterConfigOp.OpType.SET))))
                        .all()
                        .get();
            }
            // stamped ten years ahead: processed like any other record
            await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .untilAsserted(() -> send(
                            producer,
                            p,
                            event("far", 1, Operation.UPSERT, 100),
                            now + Duration.ofDays(3650).toMillis()));
            await().atMost(Duration.ofSeconds(60)).until(() -> version(probe, prefix + ":user:far") == 1);
            assertThat(version(probe, prefix + ":user:known")).isEqualTo(6);

            // the store is pruned once a second; three passes later it must still know version 6 of "known"
            // (before the clamp, the first pass after the far-future record forgot every version of the task)
            ReadOnlyKeyValueStore<String, ValueAndTimestamp<Long>> versions = p.pipeline()
                    .streams()
                    .store(StoreQueryParameters.fromNameAndType(
                            CachepipeTopology.VERSIONS_STORE, QueryableStoreTypes.timestampedKeyValueStore()));
            long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < until) {
                assertThat(Optional.ofNullable(versions.get(prefix + ":user:known"))
                                .map(ValueAndTimestamp::value))
                        .as("the version of a key changed a moment ago")
                        .contains(6L);
                TestPipeline.sleep(100);
            }

            // so a late redelivery of version 5 is still stale: it does not reach the mutations topic
            double staleBefore = stale(p);
            send(producer, p, event("known", 5, Operation.UPSERT, 100), System.currentTimeMillis());
            await().atMost(Duration.ofSeconds(60)).until(() -> stale(p) == staleBefore + 1);
            assertThat(version(probe, prefix + ":user:known")).isEqualTo(6);
        }
    }

    private static double stale(TestPipeline p) {
        return p.registry
                .get(TopologyMeters.EVENTS)
                .tag(TopologyMeters.ENTITY_TYPE, "user")
                .tag(TopologyMeters.OUTCOME, TopologyMeters.STALE)
                .counter()
                .count();
    }

    private static long version(RedisProbe probe, String key) {
        return probe.read(key).map(CacheEntry::version).orElse(-1L);
    }

    private static KafkaProducer<byte[], byte[]> producer(TestPipeline p) {
        Map<String, Object> props = p.kafkaProperties();
        props.put("linger.ms", 0);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, TestPipeline p, DomainEvent e, long timestamp)
            throws Exception {
        producer.send(new ProducerRecord<>(
                        p.policy("user").topics().get(0),
                        null,
                        timestamp,
                        e.getEntityId().getBytes(StandardCharsets.UTF_8),
                        EVENTS.encode(e)))
                .get();
    }

    private static DomainEvent event(String id, long version, Operation op, int payloadBytes) {
        return DomainEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setEntityType("user")
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(Instant.now())
                .setContentType("application/json")
                .setPayload(op == Operation.UPSERT ? ByteBuffer.wrap(new byte[payloadBytes]) : null)
                .build();
    }
}
