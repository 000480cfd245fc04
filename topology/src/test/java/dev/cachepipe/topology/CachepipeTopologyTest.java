package dev.cachepipe.topology;

import static dev.cachepipe.topology.TopologyFixture.DLQ;
import static dev.cachepipe.topology.TopologyFixture.EVENTS;
import static dev.cachepipe.topology.TopologyFixture.OCCURRED;
import static dev.cachepipe.topology.TopologyFixture.ORDERS;
import static dev.cachepipe.topology.TopologyFixture.SHARED;
import static dev.cachepipe.topology.TopologyFixture.USERS;
import static dev.cachepipe.topology.TopologyFixture.delete;
import static dev.cachepipe.topology.TopologyFixture.event;
import static dev.cachepipe.topology.TopologyFixture.upsert;
import static dev.cachepipe.topology.TopologyFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.avro.Operation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CachepipeTopologyTest {

    @Test
    void shouldEmitUpsertWithPayloadWhenWriteThroughEntityIsUpserted() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(USERS, upsert("user", "42", 7, "{\"n\":1}"));

            List<TestRecord<String, byte[]>> records = f.mutations.readRecordsToList();
            assertThat(records).hasSize(1);
            assertThat(records.get(0).key()).isEqualTo("cache:user:42");
            CacheMutation m =
                    TopologyFixture.MUTATION_SERDE.decode(records.get(0).value());
            assertThat(m.getKey()).isEqualTo("cache:user:42");
            assertThat(m.getEntityType()).isEqualTo("user");
            assertThat(m.getEntityId()).isEqualTo("42");
            assertThat(m.getVersion()).isEqualTo(7);
            assertThat(m.getOp()).isEqualTo(MutationOp.UPSERT);
            assertThat(m.getOccurredAt()).isEqualTo(OCCURRED);
            assertThat(m.getContentType()).isEqualTo("application/json");
            assertThat(utf8(m.getPayload())).isEqualTo("{\"n\":1}");
            assertThat(m.getTtlMillis()).isBetween(480_000L, 720_000L);
            assertThat(m.getInlineInvalidation()).isTrue();
            assertThat(m.getEventId()).isEqualTo("evt-user-42-7");
            assertThat(f.dlq.isEmpty()).isTrue();
        }
    }

    @Test
    void shouldNotCopySourceHeadersOntoMutations() {
        try (TopologyFixture f = new TopologyFixture()) {
            org.apache.kafka.common.header.internals.RecordHeaders headers =
                    new org.apache.kafka.common.header.internals.RecordHeaders();
            headers.add("traceparent", "00-abc".getBytes(StandardCharsets.UTF_8));
            f.input(USERS)
                    .pipeInput(new TestRecord<>(
                            "42".getBytes(StandardCharsets.UTF_8),
                            TopologyFixture.EVENTS.encode(upsert("user", "42", 1, "{}")),
                            headers));

            assertThat(f.mutations.readRecord().headers().toArray()).isEmpty();
        }
    }

    @Test
    void shouldNotInlineInvalidationWhenPayloadIsLargerThanInlineLimit() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(USERS, upsert("user", "a", 1, "x".repeat(16)));
            f.pipe(USERS, upsert("user", "b", 1, "x".repeat(17)));

            List<CacheMutation> out = f.readMutations();
            assertThat(out).extracting(CacheMutation::getInlineInvalidation).containsExactly(true, false);
        }
    }

    @Test
    void shouldEmitTombstoneWithTombstoneTtlWhenWriteThroughEntityIsDeleted() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(USERS, delete("user", "42", 8));

            CacheMutation m = f.readMutations().get(0);
            assertThat(m.getOp()).isEqualTo(MutationOp.TOMBSTONE);
            assertThat(m.getKey()).isEqualTo("cache:user:42");
            assertThat(m.getVersion()).isEqualTo(8);
            assertThat(m.getTtlMillis()).isEqualTo(60_000L);
            assertThat(m.getPayload()).isNull();
            assertThat(m.getContentType()).isNull();
            assertThat(m.getInlineInvalidation()).isFalse();
        }
    }

    @Test
    void shouldEmitFenceWithTombstoneTtlWhenInvalidateEntityIsUpsertedOrDeleted() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(ORDERS, upsert("order", "o-1", 1, "{}"));
            f.pipe(ORDERS, delete("order", "o-1", 2));

            List<CacheMutation> out = f.readMutations();
            assertThat(out).extracting(CacheMutation::getOp).containsExactly(MutationOp.FENCE, MutationOp.FENCE);
            assertThat(out).extracting(CacheMutation::getVersion).containsExactly(1L, 2L);
            assertThat(out).allSatisfy(m -> {
                assertThat(m.getKey()).isEqualTo("cache:order:o-1");
                assertThat(m.getTtlMillis()).isEqualTo(30_000L);
                assertThat(m.getPayload()).isNull();
                assertThat(m.getInlineInvalidation()).isFalse();
            });
        }
    }

    @Test
    void shouldEmitNothingAndStoreNothingWhenModeIsExpireOnly() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(ORDERS, upsert("audit", "a-1", 1, "{}"));
            f.pipe(ORDERS, delete("audit", "a-1", 2));

            assertThat(f.mutations.isEmpty()).isTrue();
            assertThat(f.dlq.isEmpty()).isTrue();
            assertThat(f.driver
                            .<String, Long>getKeyValueStore(CachepipeTopology.VERSIONS_STORE)
                            .get("cache:audit:a-1"))
                    .isNull();
        }
    }

    @Test
    void shouldSelectPolicyByEntityTypeWhenOneTopicCarriesSeveralTypes() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(SHARED, upsert("user", "u", 1, "{}"));
            f.pipe(SHARED, upsert("order", "o", 1, "{}"));

            assertThat(f.readMutations())
                    .extracting(CacheMutation::getKey, CacheMutation::getOp)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("cache:user:u", MutationOp.UPSERT),
                            org.assertj.core.groups.Tuple.tuple("cache:order:o", MutationOp.FENCE));
        }
    }

    @Test
    void shouldKeepTtlWithinJitterAndSpreadItWhenKeysDiffer() {
        try (TopologyFixture f = new TopologyFixture()) {
            for (int i = 0; i < 200; i++) {
                f.pipe(USERS, upsert("user", "u" + i, 1, "{}"));
            }
            List<Long> ttls =
                    f.readMutations().stream().map(CacheMutation::getTtlMillis).toList();
            assertThat(ttls).hasSize(200).allSatisfy(t -> assertThat(t).isBetween(480_000L, 720_000L));
            // spread over the jitter range, not clustered
            assertThat(ttls.stream().mapToLong(Long::longValue).min().orElseThrow())
                    .isLessThan(510_000L);
            assertThat(ttls.stream().mapToLong(Long::longValue).max().orElseThrow())
                    .isGreaterThan(690_000L);
            assertThat(new HashSet<>(ttls)).hasSizeGreaterThan(150);
        }
    }

    @Test
    void shouldRepeatTheSameTtlWhenTheSameEventIsReplayed() {
        List<Long> first;
        List<Long> replay;
        try (TopologyFixture f = new TopologyFixture()) {
            for (int i = 0; i < 20; i++) {
                f.pipe(USERS, upsert("user", "u" + i, 3, "{}"));
            }
            first = f.readMutations().stream().map(CacheMutation::getTtlMillis).toList();
        }
        try (TopologyFixture f = new TopologyFixture()) {
            for (int i = 0; i < 20; i++) {
                f.pipe(USERS, upsert("user", "u" + i, 3, "{\"other\":true}"));
            }
            replay = f.readMutations().stream().map(CacheMutation::getTtlMillis).toList();
        }
        assertThat(replay).hasSize(20).isEqualTo(first);
    }

    @Test
    void shouldDropStaleVersionsAndReemitEqualVersionsWhenEventsArriveOutOfOrder() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(USERS, upsert("user", "42", 5, "{\"v\":5}"));
            f.pipe(USERS, upsert("user", "42", 3, "{\"v\":3}")); // stale
            f.pipe(USERS, delete("user", "42", 4)); // stale delete must not resurrect anything either
            f.pipe(USERS, upsert("user", "42", 5, "{\"v\":5}")); // equal: re-emitted (at-least-once replay)
            f.pipe(USERS, upsert("user", "7", 1, "{}")); // other key unaffected
            f.pipe(USERS, delete("user", "42", 6));

            List<CacheMutation> out = f.readMutations();
            assertThat(out)
                    .extracting(CacheMutation::getKey, CacheMutation::getVersion)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("cache:user:42", 5L),
                            org.assertj.core.groups.Tuple.tuple("cache:user:42", 5L),
                            org.assertj.core.groups.Tuple.tuple("cache:user:7", 1L),
                            org.assertj.core.groups.Tuple.tuple("cache:user:42", 6L));
            assertThat(f.driver
                            .<String, Long>getKeyValueStore(CachepipeTopology.VERSIONS_STORE)
                            .get("cache:user:42"))
                    .isEqualTo(6L);
            assertThat(f.dlq.isEmpty()).isTrue();
        }
    }

    @Test
    void shouldDropStaleFenceWhenModeIsInvalidate() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(ORDERS, upsert("order", "o", 9, "{}"));
            f.pipe(ORDERS, delete("order", "o", 2));

            assertThat(f.readMutations()).extracting(CacheMutation::getVersion).containsExactly(9L);
        }
    }

    /** One kind of bad input: where it is piped, its raw key and value, the expected reason code. */
    record Poison(String name, String topic, byte[] key, byte[] value, String reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Poison> poisons() {
        byte[] unknownFingerprint = EVENTS.encode(upsert("user", "x", 1, "{}"));
        unknownFingerprint[2] ^= 0x55; // corrupt the schema fingerprint
        return Stream.of(
                new Poison(
                        "record key that is not the entityId",
                        USERS,
                        "someone-else".getBytes(StandardCharsets.UTF_8),
                        EVENTS.encode(upsert("user", "x", 1, "{}")),
                        "key-mismatch"),
                new Poison(
                        "record without a key",
                        USERS,
                        null,
                        EVENTS.encode(upsert("user", "x", 1, "{}")),
                        "key-mismatch"),
                poison(
                        "bytes that are not Avro",
                        USERS,
                        "hello, not avro".getBytes(StandardCharsets.UTF_8),
                        "undecodable"),
                poison("Avro with an unknown writer fingerprint", USERS, unknownFingerprint, "unknown-schema"),
                poison(
                        "truncated Avro body",
                        USERS,
                        java.util.Arrays.copyOf(EVENTS.encode(upsert("user", "x", 1, "{}")), 14),
                        "undecodable"),
                poison("null value", USERS, (byte[]) null, "null-value"),
                poison(
                        "entity type not matching the pattern",
                        USERS,
                        upsert("User", "x", 1, "{}"),
                        "invalid-entity-type"),
                poison("unknown entity type", USERS, upsert("product", "x", 1, "{}"), "unknown-entity-type"),
                poison(
                        "entity type on the wrong topic",
                        ORDERS,
                        upsert("user", "x", 1, "{}"),
                        "entity-type-not-on-topic"),
                poison("negative version", USERS, upsert("user", "x", -1, "{}"), "negative-version"),
                poison("empty entity id", USERS, upsert("user", "", 1, "{}"), "invalid-entity-id"),
                poison("513-byte entity id", USERS, upsert("user", "i".repeat(513), 1, "{}"), "invalid-entity-id"),
                poison(
                        "513-byte multi-byte entity id",
                        USERS,
                        upsert("user", "é".repeat(256) + "i", 1, "{}"),
                        "invalid-entity-id"),
                poison(
                        "entity id with a control character",
                        USERS,
                        upsert("user", "a\u0007b", 1, "{}"),
                        "invalid-entity-id"),
                poison("entity id with DEL", USERS, upsert("user", "a\u007fb", 1, "{}"), "invalid-entity-id"),
                poison(
                        "UPSERT without payload",
                        USERS,
                        event("user", "x", 1, Operation.UPSERT, null),
                        "missing-payload"),
                poison(
                        "payload over maxPayloadBytes",
                        USERS,
                        upsert("user", "x", 1, "p".repeat(1025)),
                        "payload-too-large"),
                poison(
                        "DELETE with a payload over maxPayloadBytes",
                        USERS,
                        event("user", "x", 1, Operation.DELETE, ByteBuffer.wrap(new byte[1025])),
                        "payload-too-large"),
                poison(
                        "invalid event of an expire-only type",
                        ORDERS,
                        upsert("audit", "x", -5, "{}"),
                        "negative-version"));
    }

    private static Poison poison(String name, String topic, byte[] value, String reason) {
        return new Poison(name, topic, ("key-" + name).getBytes(StandardCharsets.UTF_8), value, reason);
    }

    private static Poison poison(String name, String topic, DomainEvent event, String reason) {
        // keyed like a well-behaved producer (by entityId), so the case fails for its own reason
        return new Poison(
                name, topic, event.getEntityId().getBytes(StandardCharsets.UTF_8), EVENTS.encode(event), reason);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poisons")
    void shouldDeadLetterRawRecordAndKeepGoingWhenInputIsBad(Poison poison) {
        try (TopologyFixture f = new TopologyFixture()) {
            String goodTopic = poison.topic().equals(ORDERS) ? ORDERS : USERS;
            String goodType = goodTopic.equals(ORDERS) ? "order" : "user";
            f.pipe(goodTopic, upsert(goodType, "before", 1, "{}"));
            org.apache.kafka.common.header.internals.RecordHeaders sourceHeaders =
                    new org.apache.kafka.common.header.internals.RecordHeaders();
            sourceHeaders.add("traceparent", "00-abc".getBytes(StandardCharsets.UTF_8));
            f.input(poison.topic()).pipeInput(new TestRecord<>(poison.key(), poison.value(), sourceHeaders));
            f.pipe(goodTopic, upsert(goodType, "after", 1, "{}"));

            // an update too large to cache still supersedes the value before it: its key is fenced at its version
            List<String> expected = poison.reason().equals("payload-too-large")
                    ? List.of("before", "x", "after")
                    : List.of("before", "after");
            assertThat(f.readMutations()).extracting(CacheMutation::getEntityId).containsExactlyElementsOf(expected);
            List<TestRecord<byte[], byte[]>> dead = f.dlq.readRecordsToList();
            assertThat(dead).hasSize(1);
            TestRecord<byte[], byte[]> letter = dead.get(0);
            assertThat(letter.key()).isEqualTo(poison.key());
            assertThat(letter.value()).isEqualTo(poison.value());
            Headers headers = letter.headers();
            assertThat(header(headers, CachepipeTopology.DLQ_REASON_HEADER)).isEqualTo(poison.reason());
            assertThat(header(headers, CachepipeTopology.DLQ_DETAIL_HEADER)).isNotBlank();
            assertThat(header(headers, "__streams.errors.topic")).isEqualTo(poison.topic());
            assertThat(header(headers, "__streams.errors.partition")).isEqualTo("0");
            assertThat(header(headers, "__streams.errors.offset")).isEqualTo("1");
            assertThat(header(headers, "__streams.errors.exception")).isNotBlank();
            assertThat(header(headers, "traceparent")).isEqualTo("00-abc");
            assertThat(headers.headers(CachepipeTopology.DLQ_REASON_HEADER)).hasSize(1);
        }
    }

    @Test
    void shouldFenceTheKeyAtItsVersionWhenANewerUpdateIsDeadLetteredForItsPayloadSize() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TopologyFixture f = new TopologyFixture(registry)) {
            f.pipe(USERS, upsert("user", "a", 1, "{}"));
            f.pipe(USERS, upsert("user", "a", 2, "p".repeat(1025))); // newer, too large: fenced and dead-lettered
            f.pipe(USERS, upsert("user", "a", 1, "{}")); // a redelivery of the old value stays stale
            f.pipe(USERS, upsert("user", "b", 5, "{}"));
            f.pipe(USERS, upsert("user", "b", 4, "p".repeat(1025))); // older and too large: only dead-lettered

            List<CacheMutation> out = f.readMutations();
            assertThat(out)
                    .extracting(CacheMutation::getEntityId, CacheMutation::getVersion, CacheMutation::getOp)
                    .containsExactly(
                            tuple("a", 1L, MutationOp.UPSERT),
                            tuple("a", 2L, MutationOp.FENCE),
                            tuple("b", 5L, MutationOp.UPSERT));
            CacheMutation fence = out.get(1);
            assertThat(fence.getPayload()).isNull();
            assertThat(fence.getTtlMillis()).isEqualTo(Duration.ofMinutes(1).toMillis()); // user's tombstoneTtl
            assertThat(f.dlq.readRecordsToList())
                    .extracting(r -> header(r.headers(), CachepipeTopology.DLQ_REASON_HEADER))
                    .containsExactly("payload-too-large", "payload-too-large");
            assertThat(registry.get(TopologyMeters.FENCED)
                            .tag(TopologyMeters.REASON, "payload-too-large")
                            .counter()
                            .count())
                    .isEqualTo(1.0);
        }
    }

    @Test
    void shouldAcceptBoundaryValuesWhenTheyAreJustAllowed() {
        try (TopologyFixture f = new TopologyFixture()) {
            String id512 = "\uD83D\uDE00".repeat(128); // 128 four-byte code points = 512 bytes
            f.pipe(USERS, upsert("user", id512, 0, "p".repeat(1024)));
            f.pipe(USERS, upsert("user", "a:b é", 1, "{}")); // ':' and non-ASCII are fine in ids

            assertThat(f.readMutations())
                    .extracting(CacheMutation::getKey)
                    .containsExactly("cache:user:" + id512, "cache:user:a:b é");
            assertThat(f.dlq.isEmpty()).isTrue();
        }
    }

    @Test
    void shouldExplainReasonInDetailHeaderWithoutPayloadBytes() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(USERS, upsert("user", "big", 3, "SECRET".repeat(200)));

            String detail = header(f.dlq.readRecord().headers(), CachepipeTopology.DLQ_DETAIL_HEADER);
            assertThat(detail)
                    .contains("1200 bytes")
                    .contains("entities.user.maxPayloadBytes is 1024")
                    .doesNotContain("SECRET");
        }
    }

    static final String OLD_DOMAIN_EVENT_SCHEMA = """
            {"type": "record", "name": "DomainEvent", "namespace": "dev.cachepipe.avro", "fields": [
              {"name": "eventId", "type": "string"},
              {"name": "entityType", "type": "string"},
              {"name": "entityId", "type": "string"},
              {"name": "version", "type": "long"},
              {"name": "op", "type": {"type": "enum", "name": "Operation", "symbols": ["UPSERT", "DELETE"]}},
              {"name": "occurredAt", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "contentType", "type": "string", "default": "application/json"},
              {"name": "payload", "type": ["null", "bytes"], "default": null}
            ]}""";

    private static byte[] encodeWithOldSchema(Schema old) throws Exception {
        GenericRecord record = new GenericData.Record(old);
        record.put("eventId", "e-old");
        record.put("entityType", "user");
        record.put("entityId", "legacy");
        record.put("version", 4L);
        record.put("op", new GenericData.EnumSymbol(old.getField("op").schema(), "UPSERT"));
        record.put("occurredAt", OCCURRED.toEpochMilli());
        record.put("contentType", "application/json");
        record.put("payload", ByteBuffer.wrap("{\"old\":1}".getBytes(StandardCharsets.UTF_8)));
        ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old).encode(record);
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        return bytes;
    }

    @Test
    void shouldDecodeEventFromOlderWriterSchemaWhenThatSchemaIsGiven() throws Exception {
        Schema old = new Schema.Parser().parse(OLD_DOMAIN_EVENT_SCHEMA);
        TopologyConfig config = TopologyFixture.config();
        try (TopologyFixture f = new TopologyFixture(CachepipeTopology.build(config, List.of(old)), config)) {
            f.pipe(USERS, "legacy", encodeWithOldSchema(old));

            List<CacheMutation> out = f.readMutations();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).getKey()).isEqualTo("cache:user:legacy");
            assertThat(out.get(0).getVersion()).isEqualTo(4L);
            assertThat(utf8(out.get(0).getPayload())).isEqualTo("{\"old\":1}");
            assertThat(f.dlq.isEmpty()).isTrue();
        }
    }

    @Test
    void shouldDeadLetterEventFromOlderWriterSchemaWhenThatSchemaIsNotGiven() throws Exception {
        Schema old = new Schema.Parser().parse(OLD_DOMAIN_EVENT_SCHEMA);
        try (TopologyFixture f = new TopologyFixture()) {
            byte[] bytes = encodeWithOldSchema(old);
            f.pipe(USERS, "legacy", bytes);

            assertThat(f.mutations.isEmpty()).isTrue();
            TestRecord<byte[], byte[]> letter = f.dlq.readRecord();
            assertThat(letter.value()).isEqualTo(bytes);
            assertThat(header(letter.headers(), CachepipeTopology.DLQ_REASON_HEADER))
                    .isEqualTo("unknown-schema");
        }
    }

    @Test
    void shouldNameEveryNodeWhenTopologyIsBuilt() {
        String description =
                CachepipeTopology.build(TopologyFixture.config()).describe().toString();

        assertThat(description).doesNotContain("KSTREAM-").doesNotContain("KTABLE-");
        assertThat(description)
                .contains("Source: source-" + ORDERS + " (topics: [" + ORDERS + "])")
                .contains("Source: source-" + SHARED)
                .contains("Source: source-" + USERS)
                .contains("merge-" + SHARED)
                .contains("merge-" + USERS)
                .contains("Processor: apply-policy (stores: [cachepipe-versions])")
                .contains("Sink: to-mutations (topic: " + TopologyFixture.MUTATIONS + ")");
    }

    @Test
    void shouldBuildSameTopologyWhenEntitiesAreGivenInAnotherOrder() {
        TopologyConfig config = TopologyFixture.config();
        Map<String, EntityPolicy> reversed = new java.util.LinkedHashMap<>();
        List<String> types = new ArrayList<>(config.entities().keySet());
        java.util.Collections.reverse(types);
        types.forEach(t -> reversed.put(t, config.entities().get(t)));
        TopologyConfig other = new TopologyConfig("cache", TopologyFixture.MUTATIONS, DLQ, reversed);

        assertThat(CachepipeTopology.build(other).describe().toString())
                .isEqualTo(CachepipeTopology.build(config).describe().toString());
    }

    @Test
    void shouldSetDeadLetterTopicAndHandlersWhenStreamsPropertiesAreRequested() {
        var props = CachepipeTopology.streamsProperties(TopologyFixture.config());

        assertThat(props)
                .containsEntry(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, DLQ)
                .containsEntry(
                        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
                        "dev.cachepipe.topology.internal.DeadLetterDeserializationHandler")
                .containsEntry(
                        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
                        "dev.cachepipe.topology.internal.DeadLetterProcessingHandler")
                .containsEntry(
                        StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
                        "dev.cachepipe.topology.internal.DeadLetterProductionHandler")
                .containsEntry(
                        StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG,
                        "org.apache.kafka.streams.processor.UsePartitionTimeOnInvalidTimestamp")
                .containsEntry("processing.exception.handler.global.enabled", "true")
                .containsEntry("main.consumer.processing.exception.handler.global.enabled", "true")
                .containsEntry("cachepipe.topology.config", TopologyFixture.config())
                .containsEntry(
                        StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG,
                        "dev.cachepipe.topology.internal.BoundedRocksDb");
        Set<Object> keys = props.keySet();
        assertThat(keys).hasSize(9);
    }

    private static String header(Headers headers, String name) {
        Header h = headers.lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
