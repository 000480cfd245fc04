package dev.cachepipe.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.topology.CacheMode;
import dev.cachepipe.topology.EntityPolicy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class OracleTest {
    private static final EntityPolicy USER = new EntityPolicy(
            "user",
            List.of("users"),
            CacheMode.WRITE_THROUGH,
            Duration.ofSeconds(100),
            0.1,
            Duration.ofSeconds(60),
            1024,
            512);
    private static final EntityPolicy ORDER = new EntityPolicy(
            "order",
            List.of("orders"),
            CacheMode.INVALIDATE,
            Duration.ofSeconds(100),
            0.0,
            Duration.ofSeconds(30),
            1024,
            512);
    private static final EntityPolicy FLAG = new EntityPolicy(
            "flag",
            List.of("flags"),
            CacheMode.EXPIRE_ONLY,
            Duration.ofSeconds(100),
            0.0,
            Duration.ofSeconds(30),
            1024,
            512);

    private final Oracle oracle = new Oracle("c", List.of(USER, ORDER, FLAG));

    private static DomainEvent event(String type, String id, long version, Operation op, String payload) {
        return DomainEvent.newBuilder()
                .setEventId("e-" + version)
                .setEntityType(type)
                .setEntityId(id)
                .setVersion(version)
                .setOp(op)
                .setOccurredAt(Instant.ofEpochMilli(1000 + version))
                .setPayload(payload == null ? null : ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    @Test
    void shouldExpectTheHighestVersionsPayloadWhenVersionsArriveOutOfOrder() {
        oracle.record(event("user", "1", 3, Operation.UPSERT, "three"), 10);
        oracle.record(event("user", "1", 1, Operation.UPSERT, "one"), 11);
        oracle.record(event("user", "1", 2, Operation.DELETE, null), 12);

        Oracle.Expectation e = oracle.expectation("c:user:1").orElseThrow();

        assertThat(e.entry())
                .contains(new CacheEntry(
                        3, CacheEntry.State.VALUE, "application/json", 1003, "three".getBytes(StandardCharsets.UTF_8)));
        assertThat(oracle.published("c:user:1").keySet()).containsExactly(1L, 2L, 3L);
    }

    @Test
    void shouldExpectATombstoneWhenTheHighestVersionIsADelete() {
        oracle.record(event("user", "1", 5, Operation.DELETE, null), 10);
        oracle.record(event("user", "1", 4, Operation.UPSERT, "late"), 11);

        assertThat(oracle.expectation("c:user:1").orElseThrow().entry())
                .contains(new CacheEntry(5, CacheEntry.State.TOMBSTONE, null, 1005, null));
    }

    @Test
    void shouldExpectAFenceAtTheHighestVersionWhenTheModeIsInvalidate() {
        oracle.record(event("order", "9", 2, Operation.UPSERT, "x"), 10);
        oracle.record(event("order", "9", 7, Operation.UPSERT, "y"), 10);

        assertThat(oracle.expectation("c:order:9").orElseThrow().entry())
                .contains(new CacheEntry(7, CacheEntry.State.FENCE, null, 1007, null));
    }

    @Test
    void shouldExpectNothingWhenTheModeIsExpireOnly() {
        oracle.record(event("flag", "f", 1, Operation.UPSERT, "on"), 10);

        Oracle.Expectation e = oracle.expectation("c:flag:f").orElseThrow();
        assertThat(e.entry()).isEmpty();
        assertThat(e.mayHaveExpired(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void shouldAllowExpiryOnlyAfterTheShortestJitteredTtlFromTheFirstSendOfTheWinner() {
        oracle.record(event("user", "1", 2, Operation.UPSERT, "v2"), 5_000);
        oracle.record(event("user", "1", 2, Operation.UPSERT, "v2"), 6_000); // duplicate sent later
        oracle.record(event("user", "1", 1, Operation.UPSERT, "v1"), 1_000);

        Oracle.Expectation e = oracle.expectation("c:user:1").orElseThrow();

        // ttl 100 s with 10% jitter: at least 90 s after the first copy of v2 was sent
        assertThat(e.mayHaveExpired(5_000 + 89_000)).isFalse();
        assertThat(e.mayHaveExpired(5_000 + 90_000)).isTrue();
    }

    @Test
    void shouldUseTheTombstoneTtlWhenTheWinnerIsADelete() {
        oracle.record(event("user", "1", 2, Operation.DELETE, null), 5_000);

        Oracle.Expectation e = oracle.expectation("c:user:1").orElseThrow();

        assertThat(e.mayHaveExpired(5_000 + 59_999)).isFalse();
        assertThat(e.mayHaveExpired(5_000 + 60_000)).isTrue();
    }

    @Test
    void shouldCountEventsAndEntitiesWhenRecording() {
        oracle.record(event("user", "1", 1, Operation.UPSERT, "a"), 1);
        oracle.record(event("user", "1", 1, Operation.UPSERT, "a"), 2);
        oracle.record(event("user", "2", 1, Operation.UPSERT, "a"), 3);

        assertThat(oracle.eventCount()).isEqualTo(3);
        assertThat(oracle.entityCount()).isEqualTo(2);
        assertThat(oracle.expectations()).extracting(Oracle.Expectation::key).containsExactly("c:user:1", "c:user:2");
    }
}
