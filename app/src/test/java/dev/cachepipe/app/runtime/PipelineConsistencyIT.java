package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.InvalidationOp;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.writer.WriteOutcome;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Acceptance 2 and 3: Redis converges to the oracle; a late older upsert never resurrects a deleted entity. */
class PipelineConsistencyIT {
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
    void shouldMatchTheOracleWhenTenThousandEventsArriveWithDuplicatesShuffledVersionsAndDeletes() {
        try (TestPipeline p = TestPipeline.start("consistency", redis, 3)) {
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings = EventGenerator.Settings.of(p.policies(), 500, 20261126L)
                    .withDeleteRatio(0.15)
                    .withDuplicateRatio(0.1)
                    .withWindow(10_000); // every entity's ~10 versions shuffled over the whole run
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                assertThat(generator.publish(10_000, 0)).isEqualTo(10_000);
                assertThat(generator.failed())
                        .as("records Kafka refused: %s", generator.failures())
                        .isZero();
                assertThat(oracle.eventCount()).isEqualTo(10_000);
                assertThat(oracle.entityCount()).isEqualTo(1000);
                assertThat(generator.duplicatesSent()).isEqualTo(1000);
                assertThat(generator.outOfOrderSent()).isGreaterThan(2000);

                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(120));

                assertThat(result.mismatches()).isEmpty();
                assertThat(result.consistent()).isEqualTo(1000);
                assertThat(result.expired()).isZero();
                // the input was adversarial: deletes won for some entities, duplicates reached the writer
                assertThat(oracle.expectations())
                        .anyMatch(e -> e.entry().orElseThrow().state() == CacheEntry.State.TOMBSTONE)
                        .anyMatch(e -> e.entry().orElseThrow().state() == CacheEntry.State.VALUE)
                        .anyMatch(e -> e.entry().orElseThrow().state() == CacheEntry.State.FENCE);
                assertThat(p.writes(WriteOutcome.DUPLICATE)).isPositive();
                assertThat(p.pipeline().healthy()).isTrue();
            }
        }
    }

    @Test
    void shouldKeepTheTombstoneWhenALateOlderUpsertArrivesAfterTheDelete() {
        // one partition everywhere: an entity that appears in Redis proves everything published before it was handled
        try (TestPipeline p = TestPipeline.start("resurrect", redis, 1)) {
            Oracle oracle = p.oracle();
            try (EventGenerator generator = p.generator(EventGenerator.Settings.of(p.policies(), 1, 1), oracle);
                    ConsistencyCheck check = p.check(oracle);
                    RedisProbe probe = new RedisProbe(redis)) {
                generator.publish(user("a", 1, Operation.UPSERT, "{\"v\":1}"));
                generator.publish(user("a", 2, Operation.UPSERT, "{\"v\":2}"));
                generator.publish(user("a", 3, Operation.DELETE, null));
                // a delete that arrives before the older upsert it supersedes
                generator.publish(user("b", 5, Operation.DELETE, null));
                generator.publish(user("b", 4, Operation.UPSERT, "{\"v\":4}"));
                generator.flush();
                assertThat(check.awaitConsistent(Duration.ofSeconds(60)).mismatches())
                        .isEmpty();
                String a = oracle.key("user", "a");
                assertThat(probe.read(a).orElseThrow()).isEqualTo(tombstone(oracle, a, 3));

                // now, with the tombstone in Redis, a late upsert of an older version arrives
                generator.publish(user("a", 2, Operation.UPSERT, "{\"late\":true}"));
                generator.publish(user("sentinel-1", 1, Operation.UPSERT, "{}"));
                generator.flush();
                assertThat(check.awaitConsistent(Duration.ofSeconds(60)).mismatches())
                        .isEmpty();
                assertThat(probe.read(a).orElseThrow()).isEqualTo(tombstone(oracle, a, 3));

                // and the same older upsert replayed straight into the writer (as a rebuild or a second topology
                // instance would): the writer's version gate refuses it too
                long staleBefore = p.writes(WriteOutcome.STALE);
                replayMutation(p, a, 2);
                generator.publish(user("sentinel-2", 1, Operation.UPSERT, "{}"));
                generator.flush();
                assertThat(check.awaitConsistent(Duration.ofSeconds(60)).mismatches())
                        .isEmpty();
                assertThat(probe.read(a).orElseThrow()).isEqualTo(tombstone(oracle, a, 3));
                assertThat(p.writes(WriteOutcome.STALE)).isGreaterThan(staleBefore);

                // no invalidation announced anything for "a" after its delete
                List<CacheInvalidation> forA = Invalidations.readAll(p).stream()
                        .filter(i -> i.getKey().equals(a))
                        .toList();
                assertThat(forA).isNotEmpty();
                CacheInvalidation last = forA.get(forA.size() - 1);
                assertThat(last.getOp()).isEqualTo(InvalidationOp.DELETE);
                assertThat(last.getVersion()).isEqualTo(3);
                assertThat(forA)
                        .extracting(CacheInvalidation::getVersion)
                        .isSorted()
                        .doesNotHaveDuplicates();
            }
        }
    }

    private static CacheEntry tombstone(Oracle oracle, String key, long version) {
        DomainEvent winner = oracle.published(key).get(version);
        return new CacheEntry(
                version,
                CacheEntry.State.TOMBSTONE,
                null,
                winner.getOccurredAt().toEpochMilli(),
                null);
    }

    static DomainEvent user(String id, long version, Operation op, String json) {
        return DomainEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setEntityType("user")
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(Instant.ofEpochMilli(System.currentTimeMillis()))
                .setPayload(json == null ? null : ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    private static void replayMutation(TestPipeline p, String key, long version) {
        CacheMutation m = CacheMutation.newBuilder()
                .setKey(key)
                .setEntityType("user")
                .setEntityId(key.substring(key.lastIndexOf(':') + 1))
                .setVersion(version)
                .setOp(MutationOp.UPSERT)
                .setOccurredAt(Instant.now())
                .setTtlMillis(3_600_000)
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap("{\"replayed\":true}".getBytes(StandardCharsets.UTF_8)))
                .setInlineInvalidation(true)
                .setEventId("replayed")
                .build();
        Map<String, Object> props = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                EmbeddedKafka.shared().bootstrapServers(),
                ProducerConfig.ACKS_CONFIG,
                "all");
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(
                    p.config.topics().mutations(),
                    key,
                    AvroSerde.of(CacheMutation.class).encode(m)));
            producer.flush();
        }
    }
}
