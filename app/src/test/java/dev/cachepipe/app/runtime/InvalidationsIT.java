package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.avro.InvalidationOp;
import dev.cachepipe.avro.Operation;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.topology.CacheMode;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.writer.WriteOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Acceptance 4: an invalidation is published exactly for each write that changed Redis, after that write, and
 * carries the version then stored.
 *
 * <p>"Exactly", with coalescing and duplicates: the writer may skip intermediate versions (coalesced in a batch, or
 * stale because a higher one was already written) and must skip duplicates, so not every published version is
 * announced. What must hold: every announced version is one that was published for that key, with the op the
 * policy maps it to; per key the announced versions strictly increase (none twice, none going back); the last one
 * is the final stored version; and there are as many invalidations as writes the writer applied.
 */
class InvalidationsIT {
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
    void shouldPublishOneInvalidationPerChangingWriteAfterTheWriteWhenEventsHaveDuplicatesAndShuffledVersions()
            throws Exception {
        try (TestPipeline p = TestPipeline.start("invalidations", redis, 3);
                RedisProbe probe = new RedisProbe(redis);
                Invalidations topic = new Invalidations(p)) {
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings = EventGenerator.Settings.of(p.policies(), 150, 4242L)
                    .withDeleteRatio(0.15)
                    .withDuplicateRatio(0.1)
                    .withWindow(500);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle)) {
                CompletableFuture<Long> publishing = CompletableFuture.supplyAsync(() -> generator.publish(3000, 1000));

                List<CacheInvalidation> received = new ArrayList<>();
                Map<String, Long> lastVersion = new HashMap<>();
                int writeTimesChecked = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                boolean done = false;
                while (!done) {
                    assertThat(System.nanoTime())
                            .as("all invalidations within 120 s")
                            .isLessThan(deadline);
                    for (CacheInvalidation inv : topic.poll(Duration.ofMillis(200))) {
                        // read Redis as soon as the invalidation is seen: its write must already be there
                        long before = System.currentTimeMillis();
                        RedisProbe.Snapshot snapshot = probe.readWithTtl(inv.getKey());
                        Optional<CacheEntry> stored = snapshot.entry();
                        long pttl = snapshot.pttl();
                        assertThat(stored)
                                .as("entry of %s when its invalidation v%d was read", inv.getKey(), inv.getVersion())
                                .isPresent();
                        assertThat(stored.get().version()).isGreaterThanOrEqualTo(inv.getVersion());
                        if (stored.get().version() == inv.getVersion() && pttl > 0) {
                            // no jitter, so the write happened at (now - (ttl - pttl)); writtenAt is not earlier
                            long writeAt = before - (ttlMillis(p, inv) - pttl);
                            assertThat(inv.getWrittenAt().toEpochMilli())
                                    .as(
                                            "writtenAt of %s v%d (%s, occurredAt %s, read at %d, pttl %d, stored %s)",
                                            inv.getKey(),
                                            inv.getVersion(),
                                            inv.getOp(),
                                            inv.getOccurredAt().toEpochMilli(),
                                            before,
                                            pttl,
                                            Oracle.describe(stored.get()))
                                    .isGreaterThanOrEqualTo(writeAt - 2);
                            writeTimesChecked++;
                        }
                        assertThat(inv.getWrittenAt())
                                .isBeforeOrEqualTo(java.time.Instant.ofEpochMilli(System.currentTimeMillis()));
                        Long previous = lastVersion.put(inv.getKey(), inv.getVersion());
                        assertThat(inv.getVersion())
                                .as("versions announced for %s strictly increase", inv.getKey())
                                .isGreaterThan(previous == null ? -1 : previous);
                        received.add(inv);
                    }
                    if (publishing.isDone()) {
                        done = check.check().isConsistent()
                                && oracle.expectations().stream()
                                        .allMatch(e -> Long.valueOf(e.version()).equals(lastVersion.get(e.key())));
                    }
                }
                assertThat(publishing.get()).isEqualTo(3000);

                // every invalidation announces a version that was published for its key, with the mapped op
                for (CacheInvalidation inv : received) {
                    DomainEvent event = oracle.published(inv.getKey()).get(inv.getVersion());
                    assertThat(event)
                            .as("published event for %s v%d", inv.getKey(), inv.getVersion())
                            .isNotNull();
                    EntityPolicy policy = p.policy(event.getEntityType());
                    assertThat(inv.getEntityType()).isEqualTo(event.getEntityType());
                    assertThat(inv.getEntityId()).isEqualTo(event.getEntityId());
                    assertThat(inv.getOccurredAt()).isEqualTo(event.getOccurredAt());
                    assertThat(inv.getWrittenAt()).isAfterOrEqualTo(event.getOccurredAt());
                    assertThat(inv.getOp()).isEqualTo(expectedOp(policy, event));
                    if (inv.getOp() == InvalidationOp.UPSERT) {
                        // payloads up to inlineInvalidationMaxBytes ride inline (the generator's are ~100 bytes)
                        assertThat(inv.getPayload()).isEqualTo(event.getPayload());
                        assertThat(inv.getContentType()).isEqualTo(event.getContentType());
                    } else {
                        assertThat(inv.getPayload()).isNull();
                    }
                }
                // the last invalidation of every key carries the final stored version
                for (Oracle.Expectation e : oracle.expectations()) {
                    assertThat(lastVersion.get(e.key()))
                            .as("last announced version of %s", e.key())
                            .isEqualTo(e.version());
                }
                // exactly one per write that changed Redis; none for stale or duplicate writes
                assertThat((long) received.size())
                        .as("invalidations received vs writes applied")
                        .isEqualTo(p.writes(WriteOutcome.APPLIED));
                // the writer counts an invalidation once its producer flush returned, maybe just after we read it
                await("the writer counted what it published")
                        .atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertThat(p.invalidationsPublished())
                                .as("invalidations the writer counted")
                                .isEqualTo(received.size()));
                assertThat(p.writes(WriteOutcome.DUPLICATE) + p.writes(WriteOutcome.STALE))
                        .isPositive();
                assertThat(received.size()).isLessThan((int) oracle.eventCount());
                assertThat(writeTimesChecked).isPositive();
                // nothing more arrives afterwards
                assertThat(topic.poll(Duration.ofSeconds(2))).isEmpty();
            }
        }
    }

    private static InvalidationOp expectedOp(EntityPolicy policy, DomainEvent event) {
        if (policy.mode() == CacheMode.INVALIDATE) {
            return InvalidationOp.INVALIDATE;
        }
        return event.getOp() == Operation.UPSERT ? InvalidationOp.UPSERT : InvalidationOp.DELETE;
    }

    private static long ttlMillis(TestPipeline p, CacheInvalidation inv) {
        EntityPolicy policy = p.policy(inv.getEntityType());
        return inv.getOp() == InvalidationOp.UPSERT
                ? policy.ttl().toMillis()
                : policy.tombstoneTtl().toMillis();
    }
}
