package dev.cachepipe.topology.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.avro.MutationOp;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.topology.CacheMode;
import dev.cachepipe.topology.CachepipeTopology;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.topology.TopologyConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.junit.jupiter.api.Test;

class DeadLetterProductionHandlerTest {
    private static final AvroSerde<CacheMutation> MUTATIONS = AvroSerde.of(CacheMutation.class);

    private static DeadLetterProductionHandler handler() {
        DeadLetterProductionHandler handler = new DeadLetterProductionHandler();
        handler.configure(Map.of(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dlq"));
        return handler;
    }

    @Test
    void shouldDeadLetterSourceEventWhenMutationIsTooLarge() {
        byte[] key = {1};
        byte[] value = {2, 3};
        var response = handler()
                .handleError(
                        new DeadLetterProcessingHandlerTest.Context(key, value),
                        new ProducerRecord<>("mutations", new byte[] {9}, new byte[2_000_000]),
                        new RecordTooLargeException("too large"));

        assertThat(response.result()).isEqualTo(ProductionExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo("dlq");
            assertThat(r.key()).isEqualTo(key);
            assertThat(r.value()).isEqualTo(value);
            assertThat(new String(
                            r.headers()
                                    .lastHeader(CachepipeTopology.DLQ_REASON_HEADER)
                                    .value(),
                            StandardCharsets.UTF_8))
                    .isEqualTo("mutation-too-large");
        });
    }

    @Test
    void shouldFenceTheKeyAtTheVersionOfTheRefusedUpsert() {
        TopologyConfig config = new TopologyConfig(
                "cache",
                "mutations",
                "dlq",
                Map.of(
                        "user",
                        new EntityPolicy(
                                "user",
                                List.of("users"),
                                CacheMode.WRITE_THROUGH,
                                Duration.ofMinutes(10),
                                0,
                                Duration.ofMinutes(3),
                                4_000_000,
                                16)));
        DeadLetterProductionHandler handler = new DeadLetterProductionHandler();
        handler.configure(Map.of(
                StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
                "dlq",
                DeadLetterProductionHandler.TOPOLOGY_CONFIG_KEY,
                config));
        CacheMutation refused = CacheMutation.newBuilder()
                .setKey("cache:user:7")
                .setEntityType("user")
                .setEntityId("7")
                .setVersion(12)
                .setOp(MutationOp.UPSERT)
                .setOccurredAt(Instant.parse("2026-01-01T00:00:00Z"))
                .setTtlMillis(600_000)
                .setContentType("application/json")
                .setPayload(ByteBuffer.wrap(new byte[2_000_000]))
                .setInlineInvalidation(false)
                .build();
        byte[] key = "cache:user:7".getBytes(StandardCharsets.UTF_8);
        var response = handler.handleError(
                new DeadLetterProcessingHandlerTest.Context(new byte[] {1}, new byte[] {2}),
                new ProducerRecord<>("mutations", 2, 1234L, key, MUTATIONS.encode(refused)),
                new RecordTooLargeException("too large"));

        assertThat(response.result()).isEqualTo(ProductionExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).hasSize(2);
        assertThat(response.deadLetterQueueRecords().get(0).topic()).isEqualTo("dlq");
        ProducerRecord<byte[], byte[]> fence = response.deadLetterQueueRecords().get(1);
        assertThat(fence.topic()).isEqualTo("mutations");
        assertThat(fence.partition()).isEqualTo(2);
        assertThat(fence.key()).isEqualTo(key);
        CacheMutation m = MUTATIONS.decode(fence.value());
        assertThat(m.getOp()).isEqualTo(MutationOp.FENCE);
        assertThat(m.getVersion()).isEqualTo(12);
        assertThat(m.getPayload()).isNull();
        assertThat(m.getTtlMillis()).isEqualTo(Duration.ofMinutes(3).toMillis());
    }

    @Test
    void shouldKeepDefaultBehaviourWhenErrorIsNotAboutSize() {
        var response = handler()
                .handleError(
                        new DeadLetterProcessingHandlerTest.Context(new byte[] {1}, new byte[] {2}),
                        new ProducerRecord<>("mutations", new byte[] {9}, new byte[] {8}),
                        new TimeoutException("broker away"));

        assertThat(response.result()).isNotEqualTo(ProductionExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).isEmpty();
    }
}
