package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.RedisProbe;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.RedisLayout;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Local Kafka Streams state never outlives the cluster it was built from: an installation stopped cleanly (so that
 * Streams trusts its checkpoint) and pointed at a new Kafka cluster, whose events start again at low versions, must
 * not call them stale.
 */
class LocalStateIT {
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
    void shouldWipeTheVersionsOfAnotherClusterWhenTheSameStateDirIsPointedAtANewOne() throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger owner = (Logger) LoggerFactory.getLogger(LocalStateOwner.class);
        logs.start();
        owner.addAppender(logs);
        TestPipeline template = TestPipeline.configure("new-cluster", redis, 2, "");
        try (EmbeddedKafka before = EmbeddedKafka.startTemporary();
                TestPipeline first = template.onKafka(before.bootstrapServers())) {
            first.startPipeline();
            // 200 entities raised to versions around 100 in the versions store, and mutations offsets near 10,000
            converge(first, 20_000, 1L);
            first.stopPipeline(); // clean: Streams writes its checkpoint and will trust the store
        }
        String prefix = template.config.redis().keyPrefix();
        String watermarks = RedisLayout.watermarkKey(prefix);
        try (RedisProbe probe = new RedisProbe(redis)) {
            // the staging reset emptied the cache, but Redis kept cachepipe's marker and watermarks (offsets near
            // 10,000 of the old cluster's mutations topic)
            assertThat(maxWatermark(probe, watermarks)).isGreaterThan(5_000);
            for (String key : probe.sync().keys(prefix + ":*")) {
                if (!key.equals(RedisLayout.markerKey(prefix)) && !key.equals(watermarks)) {
                    probe.sync().del(key);
                }
            }
        }
        try (EmbeddedKafka after = EmbeddedKafka.startTemporary();
                TestPipeline second = template.onKafka(after.bootstrapServers())) {
            second.startPipeline();
            // the same ids again, versions from 1: every one must reach Redis
            Oracle oracle = converge(second, 1000, 2L);
            assertThat(oracle.entityCount()).isGreaterThan(150);
            // the old cluster's watermarks were dropped: they are this cluster's offsets again, so that a Redis that
            // goes back in time is noticed (a watermark above every offset would hide it)
            try (RedisProbe probe = new RedisProbe(redis)) {
                await().atMost(Duration.ofSeconds(30))
                        .untilAsserted(() ->
                                assertThat(maxWatermark(probe, watermarks)).isBetween(0L, 999L));
            }
        } finally {
            owner.detachAppender(logs);
        }
        assertThat(logs.list)
                .extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.startsWith("Wiped the local Kafka Streams state")
                        && m.contains("another Kafka cluster")
                        && m.contains("Kafka cluster "));
    }

    private static long maxWatermark(RedisProbe probe, String key) {
        return probe.sync().hvals(key).stream()
                .mapToLong(v -> Long.parseLong(new String(v, java.nio.charset.StandardCharsets.UTF_8)))
                .max()
                .orElse(-1);
    }

    /** Publishes {@code events} over 200 user entities and waits until Redis equals the oracle. */
    private static Oracle converge(TestPipeline p, int events, long seed) throws Exception {
        Oracle oracle = new Oracle(p.config.redis().keyPrefix(), List.of(p.policy("user")));
        EventGenerator.Settings settings = EventGenerator.Settings.of(List.of(p.policy("user")), 200, seed)
                .withDuplicateRatio(0)
                .withWindow(200); // one event per entity per window: nearly in order, nearly every one a mutation
        try (EventGenerator generator = p.generator(settings, oracle);
                ConsistencyCheck check = p.check(oracle)) {
            generator.publish(events, 0);
            generator.flush();
            assertThat(generator.failed()).isZero();
            ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(90));
            assertThat(result.mismatches()).as("Redis against the oracle").isEmpty();
            assertThat(result.total()).isEqualTo(oracle.entityCount());
        }
        return oracle;
    }
}
