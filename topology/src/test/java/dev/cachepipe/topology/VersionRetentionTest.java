package dev.cachepipe.topology;

import static dev.cachepipe.topology.TopologyFixture.USERS;
import static dev.cachepipe.topology.TopologyFixture.upsert;
import static java.time.temporal.ChronoUnit.MINUTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import dev.cachepipe.avro.CacheMutation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * The versions store forgets a key once the stream moved {@code versionRetention} past the event that last raised its
 * version, in bounded passes, so that it holds the keys that changed recently rather than every key ever seen.
 */
class VersionRetentionTest {
    private static final Duration RETENTION = Duration.ofMinutes(10);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void shouldDropStaleEventsWithinTheRetentionAndLetThemThroughOnceTheStreamMovedPastIt() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TopologyFixture f = new TopologyFixture(TopologyFixture.config(RETENTION), registry)) {
            f.pipe(USERS, upsert("user", "old", 5, "{}"), T0);
            f.pipe(USERS, upsert("user", "raised", 1, "{}"), T0);
            f.pipe(USERS, upsert("user", "raised", 2, "{}"), T0.plus(6, MINUTES)); // raising restarts its retention
            f.pipe(USERS, upsert("user", "old", 3, "{}"), T0.plus(6, MINUTES)); // stale, remembered: dropped
            f.pipe(USERS, upsert("user", "old", 5, "{}"), T0.plus(6, MINUTES)); // the same version: re-emitted
            f.driver.advanceWallClockTime(Duration.ofSeconds(1));
            assertThat(versions(f)).containsOnlyKeys("cache:user:old", "cache:user:raised");

            // wall-clock time alone forgets nothing: a pipeline that is down or idle keeps what it knows
            f.driver.advanceWallClockTime(Duration.ofHours(1));
            assertThat(versions(f)).containsOnlyKeys("cache:user:old", "cache:user:raised");

            // the stream moves on: 11 min after old was raised, 5 after raised
            f.pipe(USERS, upsert("user", "other", 1, "{}"), T0.plus(11, MINUTES));
            f.driver.advanceWallClockTime(Duration.ofSeconds(1));

            assertThat(versions(f)).containsOnlyKeys("cache:user:raised", "cache:user:other");
            assertThat(registry.get("cachepipe.versions.forgotten").counter().count())
                    .isEqualTo(1.0);
            f.pipe(USERS, upsert("user", "old", 3, "{}"), T0.plus(11, MINUTES)); // forgotten: Redis's gate decides
            f.pipe(USERS, upsert("user", "raised", 1, "{}"), T0.plus(11, MINUTES)); // remembered: dropped

            assertThat(f.readMutations())
                    .extracting(CacheMutation::getKey, CacheMutation::getVersion)
                    .containsExactly(
                            tuple("cache:user:old", 5L),
                            tuple("cache:user:raised", 1L),
                            tuple("cache:user:raised", 2L),
                            tuple("cache:user:old", 5L),
                            tuple("cache:user:other", 1L),
                            tuple("cache:user:old", 3L));
            assertThat(versions(f)).containsEntry("cache:user:old", 3L).containsEntry("cache:user:raised", 2L);
        }
    }

    @Test
    void shouldForgetInBoundedPassesThatResumeWhereTheLastOneStopped() {
        // 6,000 recent keys sort before 6,000 old ones: a pass examines 5,000 entries, so only a pass that resumes
        // where the last one stopped ever reaches the old keys
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TopologyFixture f = new TopologyFixture(TopologyFixture.config(RETENTION), registry)) {
            for (int i = 0; i < 6_000; i++) {
                f.pipe(USERS, upsert("user", "old-" + i, 1, "{}"), T0);
            }
            f.driver.advanceWallClockTime(Duration.ofSeconds(1)); // a pass over 5,000 of them, none old yet
            f.driver.advanceWallClockTime(Duration.ofSeconds(1)); // and over the other 1,000: the next starts over
            for (int i = 0; i < 6_000; i++) {
                f.pipe(USERS, upsert("user", "new-" + i, 1, "{}"), T0.plus(6, MINUTES));
            }
            f.pipe(USERS, upsert("user", "zz-last", 1, "{}"), T0.plus(11, MINUTES)); // sorts last
            f.driver.advanceWallClockTime(Duration.ofSeconds(1)); // pass 1: 5,000 recent keys, all kept
            assertThat(versions(f)).hasSize(12_001);

            f.driver.advanceWallClockTime(Duration.ofSeconds(1)); // pass 2: 1,000 recent, 4,000 old forgotten
            assertThat(versions(f)).hasSize(8_001);
            f.driver.advanceWallClockTime(Duration.ofSeconds(1)); // pass 3: the last 2,000 old ones, then over
            assertThat(versions(f))
                    .hasSize(6_001)
                    .allSatisfy((key, version) -> assertThat(key).matches("cache:user:(new-[0-9]+|zz-last)"));
            assertThat(registry.get("cachepipe.versions.forgotten").counter().count())
                    .isEqualTo(6_000);
        }
    }

    @Test
    void shouldProcessAFarFutureRecordWithoutLettingItMoveTheRetentionPastTheClock() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TopologyFixture f = new TopologyFixture(TopologyFixture.config(RETENTION), registry)) {
            Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
            f.pipe(USERS, upsert("user", "known", 5, "{}"), now);
            f.pipe(USERS, upsert("user", "future", 1, "{}"), now.plus(Duration.ofDays(3650))); // processed
            f.driver.advanceWallClockTime(Duration.ofSeconds(1)); // a pruning pass
            f.driver.advanceWallClockTime(Duration.ofSeconds(1));

            assertThat(versions(f)).containsOnlyKeys("cache:user:known", "cache:user:future");
            assertThat(registry.get("cachepipe.versions.forgotten").counter().count())
                    .isZero();
            f.pipe(USERS, upsert("user", "known", 3, "{}"), now); // still known to be stale: dropped
            assertThat(f.readMutations())
                    .extracting(CacheMutation::getKey, CacheMutation::getVersion)
                    .containsExactly(tuple("cache:user:known", 5L), tuple("cache:user:future", 1L));
        }
    }

    @Test
    void shouldRefuseARetentionShorterThanAMinute() {
        assertThatThrownBy(() -> TopologyFixture.config(Duration.ofSeconds(59)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("versionRetention must be at least 1m but was PT59S");
    }

    private static Map<String, Long> versions(TopologyFixture f) {
        KeyValueStore<String, Long> store = f.driver.getKeyValueStore(CachepipeTopology.VERSIONS_STORE);
        Map<String, Long> out = new TreeMap<>();
        try (KeyValueIterator<String, Long> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, Long> kv = it.next();
                out.put(kv.key, kv.value);
            }
        }
        return out;
    }
}
