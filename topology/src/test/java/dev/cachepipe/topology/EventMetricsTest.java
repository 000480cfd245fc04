package dev.cachepipe.topology;

import static dev.cachepipe.topology.TopologyFixture.ORDERS;
import static dev.cachepipe.topology.TopologyFixture.USERS;
import static dev.cachepipe.topology.TopologyFixture.delete;
import static dev.cachepipe.topology.TopologyFixture.upsert;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.Operation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The topology counts what it did with every event when it is built and run with a meter registry. */
class EventMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private double events(String type, String outcome) {
        return registry.get("cachepipe.events")
                .tag("entity_type", type)
                .tag("outcome", outcome)
                .counter()
                .count();
    }

    private double deadLetters(String reason) {
        return registry.get("cachepipe.dead.letters")
                .tag("reason", reason)
                .counter()
                .count();
    }

    @Test
    void shouldCountEventsByEntityTypeAndOutcomeWhenBuiltWithARegistry() {
        try (TopologyFixture f = new TopologyFixture(registry)) {
            // every configured type and outcome is visible at 0 before any event
            assertThat(events("user", "mutated")).isZero();
            assertThat(events("audit", "ignored")).isZero();
            assertThat(deadLetters("undecodable")).isZero();

            f.pipe(USERS, upsert("user", "1", 2, "{}"));
            f.pipe(USERS, upsert("user", "1", 1, "{}")); // older than emitted: stale
            f.pipe(USERS, delete("user", "2", 1));
            f.pipe(ORDERS, upsert("order", "9", 1, "{}"));
            f.pipe(ORDERS, upsert("audit", "a", 1, "{}")); // expire-only
            f.pipe(USERS, "x", "not avro".getBytes(StandardCharsets.UTF_8)); // undecodable
            f.pipe(USERS, upsert("order", "8", 1, "{}")); // order is not on users.events
            f.pipe(USERS, upsert("ghost", "1", 1, "{}")); // no such entity type
            f.pipe(USERS, TopologyFixture.event("user", "3", 1, Operation.UPSERT, null)); // no payload

            assertThat(f.readMutations()).hasSize(3);
            assertThat(f.dlq.readValuesToList()).hasSize(4);
            assertThat(events("user", "mutated")).isEqualTo(2);
            assertThat(events("user", "stale")).isEqualTo(1);
            assertThat(events("user", "dead_lettered")).isEqualTo(1);
            assertThat(events("order", "mutated")).isEqualTo(1);
            assertThat(events("order", "dead_lettered")).isEqualTo(1);
            assertThat(events("audit", "ignored")).isEqualTo(1);
            assertThat(events("unknown", "dead_lettered")).isEqualTo(2); // undecodable and ghost
            assertThat(deadLetters("undecodable")).isEqualTo(1);
            assertThat(deadLetters("entity-type-not-on-topic")).isEqualTo(1);
            assertThat(deadLetters("unknown-entity-type")).isEqualTo(1);
            assertThat(deadLetters("missing-payload")).isEqualTo(1);
            assertThat(registry.find("cachepipe.events")
                            .tag("entity_type", "ghost")
                            .counters())
                    .isEmpty();
        }
    }

    @Test
    void shouldCountNothingWhenBuiltWithoutARegistry() {
        try (TopologyFixture f = new TopologyFixture()) {
            f.pipe(USERS, upsert("user", "1", 1, "{}"));
            assertThat(f.readMutations()).hasSize(1);
            assertThat(registry.getMeters()).isEmpty();
        }
    }
}
