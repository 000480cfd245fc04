package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.demo.PoisonKind;
import dev.cachepipe.app.testing.DeadLetters;
import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.topology.CachepipeTopology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Acceptance 5: poison input goes to the DLQ with its reason, and the good events around it are applied. */
class DeadLetterIT {
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
    void shouldDeadLetterPoisonWithItsReasonAndApplyTheGoodEventsAroundItWhenEveryKindOfPoisonIsPublished()
            throws Exception {
        try (TestPipeline p = TestPipeline.start("dlq", redis, 3);
                RedisProbe probe = new RedisProbe(redis)) {
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 100, 77L).withWindow(200);
            List<Oracle.PoisonRecord> poison = new ArrayList<>();
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publish(100, 0);
                for (PoisonKind kind : PoisonKind.values()) {
                    // user's maxPayloadBytes is 2048, so every kind applies to it; the others go to orders too
                    poison.add(generator.publishPoison(kind, p.policy("user")));
                    generator.publish(50, 0);
                    if (kind != PoisonKind.PAYLOAD_TOO_LARGE) {
                        poison.add(generator.publishPoison(kind, p.policy("order")));
                    }
                    generator.publish(50, 0);
                }
                generator.flush();
                assertThat(generator.failed())
                        .as("records Kafka refused: %s", generator.failures())
                        .isZero();
                assertThat(oracle.poison()).containsExactlyInAnyOrderElementsOf(poison);

                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(60));
                assertThat(result.mismatches()).isEmpty();
                assertThat(result.total()).isEqualTo(oracle.entityCount()).isPositive();

                List<ConsumerRecord<byte[], byte[]>> dead = readDeadLetters(p, poison.size());
                assertThat(dead).hasSize(poison.size());
                for (Oracle.PoisonRecord sent : poison) {
                    ConsumerRecord<byte[], byte[]> letter = dead.stream()
                            .filter(r -> Arrays.equals(r.value(), sent.value()))
                            .findFirst()
                            .orElseThrow(() -> new AssertionError("no dead letter for " + sent));
                    assertThat(letter.key()).isEqualTo(sent.key());
                    assertThat(header(letter, CachepipeTopology.DLQ_REASON_HEADER))
                            .as("reason of %s", sent.kind())
                            .isEqualTo(sent.kind().expectedReason());
                    assertThat(header(letter, CachepipeTopology.DLQ_DETAIL_HEADER))
                            .isNotBlank();
                    if (sent.kind() == PoisonKind.PAYLOAD_TOO_LARGE) {
                        // too large to cache, but newer than what Redis held: its key is fenced at its version
                        assertThat(probe.read(sent.redisKey()))
                                .as("Redis entry for %s", sent.kind())
                                .hasValueSatisfying(e -> assertThat(e.state()).isEqualTo(CacheEntry.State.FENCE));
                    } else if (sent.redisKey() != null) {
                        assertThat(probe.read(sent.redisKey()))
                                .as("Redis entry for %s", sent.kind())
                                .isEmpty();
                    }
                }
                // bad input never stopped the pipeline
                assertThat(p.pipeline().healthy()).isTrue();
            }
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return DeadLetters.header(r, name);
    }

    private static List<ConsumerRecord<byte[], byte[]>> readDeadLetters(TestPipeline p, int expected) {
        return DeadLetters.read(p, expected);
    }
}
