package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.cli.EventEncoder;
import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.ConfluentEvents;
import dev.cachepipe.app.testing.DeadLetters;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.embedded.StubSchemaRegistry;
import dev.cachepipe.topology.TopologyMeters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, acceptance 2: the schema registry is down for 20 s while events flow, and the events that need it name
 * writer schemas the pipeline has not fetched yet (producers that registered a newer schema just before the
 * outage). Nothing is dead-lettered, nothing is lost, and the pipeline catches up once the registry is back. The
 * registry is {@link StubSchemaRegistry}, a stub of Confluent's documented REST API (no registry server can be
 * installed here), stopped and restarted on its port. {@code schemas.registry.maxWait} is 6 s, so a stream thread
 * gives up waiting several times during the outage and is replaced; its records are read again.
 */
class RegistryOutageIT {
    private static final Duration OUTAGE = Duration.ofSeconds(20);
    private static final int SCHEMAS = 12;

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
    void shouldNeitherDeadLetterNorLoseEventsAndCatchUpWhenTheRegistryIsDownFor20SecondsWhileEventsFlow() {
        try (StubSchemaRegistry registry = StubSchemaRegistry.start();
                TestPipeline p = TestPipeline.configure("registry-outage", redis, 3, "")
                        .withYaml(y -> y + """
                        schemas:
                          format: confluent
                          registry:
                            url: %s
                            timeout: 1s
                            maxWait: 6s
                            retryBackoffMin: 100ms
                            retryBackoffMax: 1s
                        """.formatted(registry.url()))) {
            // one writer schema per "producer release": the pipeline has fetched none of them but the first
            List<Integer> ids = new ArrayList<>();
            List<Schema> writers = new ArrayList<>();
            for (int k = 0; k < SCHEMAS; k++) {
                Schema w = k == 0 ? DomainEvent.getClassSchema() : ConfluentEvents.newer(k);
                writers.add(w);
                ids.add(registry.register(p.policy("user").topics().get(0) + "-value", w.toString()));
            }
            p.startPipeline();
            Oracle oracle = p.oracle();
            AtomicInteger release = new AtomicInteger(); // which writer schema the producers use now
            EventEncoder producers = (topic, e) -> {
                int k = release.get();
                return ConfluentEvents.encode(ids.get(k), writers.get(k), e);
            };
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 200, 21L).withWindow(300);
            try (EventGenerator generator = new EventGenerator(p.kafkaProperties(), settings, oracle, producers);
                    ConsistencyCheck check = p.check(oracle)) {
                generator.publish(200, 0);
                assertThat(check.awaitConsistent(Duration.ofSeconds(60)).mismatches())
                        .as("before the outage")
                        .isEmpty();

                registry.stop();
                long outageEnds = System.nanoTime() + OUTAGE.toNanos();
                boolean sawUnhealthy = false;
                while (System.nanoTime() - outageEnds < 0) {
                    // a new producer release every ~2 s: schema ids the pipeline must fetch, which it cannot now
                    release.set(Math.min(
                            SCHEMAS - 1,
                            1
                                    + (int) ((OUTAGE.toNanos() - (outageEnds - System.nanoTime()))
                                            / Duration.ofSeconds(2).toNanos())));
                    generator.publish(20, 100); // events keep flowing: 100 events/s
                    sawUnhealthy |= p.pipeline().healthReason().contains("schema registry unavailable");
                }
                generator.flush();
                ConsistencyCheck.Result during = check.check();
                assertThat(during.isConsistent())
                        .as("events that need the registry wait for it")
                        .isFalse();
                assertThat(sawUnhealthy)
                        .as("health says the registry is unavailable")
                        .isTrue();
                assertThat(p.pipeline().failure())
                        .as("an outage does not stop the pipeline")
                        .isNotDone();
                registry.restart();

                generator.publish(200, 0);
                generator.flush();
                assertThat(generator.failed())
                        .as("records Kafka refused: %s", generator.failures())
                        .isZero();
                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(120));
                assertThat(result.mismatches()).as("nothing lost").isEmpty();
                assertThat(result.total()).isEqualTo(oracle.entityCount()).isPositive();
                assertThat(DeadLetters.read(p, 0)).as("nothing dead-lettered").isEmpty();
                assertThat(p.registry
                                .get(TopologyMeters.REGISTRY_RETRIES)
                                .functionCounter()
                                .count())
                        .isPositive();
                assertThat(p.pipeline().healthy())
                        .as(p.pipeline().healthReason())
                        .isTrue();
                assertThat(p.pipeline().failure()).isNotDone();
            }
        }
    }
}
