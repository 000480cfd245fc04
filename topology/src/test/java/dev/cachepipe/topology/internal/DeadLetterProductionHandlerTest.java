package dev.cachepipe.topology.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.topology.CachepipeTopology;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.junit.jupiter.api.Test;

class DeadLetterProductionHandlerTest {

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
