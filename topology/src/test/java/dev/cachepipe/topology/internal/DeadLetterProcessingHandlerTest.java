package dev.cachepipe.topology.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.topology.CachepipeTopology;
import dev.cachepipe.topology.DeadLetterReason;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

class DeadLetterProcessingHandlerTest {

    /** A plain value for the handler's context argument. */
    record Context(byte[] sourceRawKey, byte[] sourceRawValue) implements ErrorHandlerContext {
        @Override
        public String topic() {
            return "users.events";
        }

        @Override
        public int partition() {
            return 2;
        }

        @Override
        public long offset() {
            return 17;
        }

        @Override
        public Headers headers() {
            return new RecordHeaders();
        }

        @Override
        public String processorNodeId() {
            return "apply-policy";
        }

        @Override
        public TaskId taskId() {
            return new TaskId(0, 2);
        }

        @Override
        public long timestamp() {
            return 1L;
        }
    }

    private static DeadLetterProcessingHandler handler() {
        DeadLetterProcessingHandler handler = new DeadLetterProcessingHandler();
        handler.configure(Map.of(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, "dlq"));
        return handler;
    }

    @Test
    void shouldResumeWithAnnotatedDeadLetterWhenEventIsInvalid() {
        byte[] key = {1, 2};
        byte[] value = {3, 4, 5};
        var response = handler()
                .handleError(
                        new Context(key, value),
                        new Record<>("k", "v", 1L),
                        new InvalidEventException(
                                DeadLetterReason.NEGATIVE_VERSION, "version of user \"1\" must be >= 0"));

        assertThat(response.result()).isEqualTo(ProcessingExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo("dlq");
            assertThat(r.key()).isEqualTo(key);
            assertThat(r.value()).isEqualTo(value);
            assertThat(new String(
                            r.headers()
                                    .lastHeader(CachepipeTopology.DLQ_REASON_HEADER)
                                    .value(),
                            StandardCharsets.UTF_8))
                    .isEqualTo("negative-version");
            assertThat(new String(
                            r.headers()
                                    .lastHeader(CachepipeTopology.DLQ_DETAIL_HEADER)
                                    .value(),
                            StandardCharsets.UTF_8))
                    .isEqualTo("version of user \"1\" must be >= 0");
        });
    }

    @Test
    void shouldFailTaskWithoutDeadLetterWhenErrorIsNotBadInput() {
        var response = handler()
                .handleError(
                        new Context(new byte[] {1}, new byte[] {2}),
                        new Record<>("k", "v", 1L),
                        new IllegalStateException("store broke"));

        assertThat(response.result()).isEqualTo(ProcessingExceptionHandler.Result.FAIL);
        assertThat(response.deadLetterQueueRecords()).isEmpty();
    }
}
