package dev.cachepipe.client;

import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The shared fixtures of the client ITs: the JVM's embedded broker, one redis-server for the whole JVM (tests that
 * kill or pause Redis start their own), and unique topic and key prefix names so tests never see each other's data.
 */
final class TestInfra {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static RedisServer redis;

    /**
     * A Redis timeout for tests that are not about a slow Redis. On a loaded CI machine one reply can take longer than
     * the 300 ms of {@link #client}, and a read that times out is an empty read (counted as an L2 error).
     */
    static final Duration PATIENT_REDIS_TIMEOUT = Duration.ofSeconds(5);

    private TestInfra() {}

    static EmbeddedKafka kafka() {
        return EmbeddedKafka.shared();
    }

    static synchronized RedisServer redis() {
        if (redis == null) {
            RedisServer r = RedisServer.start();
            Runtime.getRuntime().addShutdownHook(new Thread(r::close, "redis-shutdown"));
            redis = r;
        }
        return redis;
    }

    /** A name no other test uses, e.g. {@code fill-7-x3k}. */
    static String unique(String base) {
        return base + "-" + SEQUENCE.incrementAndGet() + "-"
                + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
    }

    /** A new invalidations topic with 3 partitions on {@code kafka}. */
    static String topic(EmbeddedKafka kafka, String base) {
        String topic = unique(base);
        kafka.createTopic(topic, 3, Map.of());
        return topic;
    }

    /** A builder for tests: short timeouts and bounds so that failures show quickly. */
    static CacheClientBuilder client(RedisServer redis, EmbeddedKafka kafka, String topic, String prefix) {
        return CacheClient.builder()
                .redisUri(redis.uri())
                .bootstrapServers(kafka.bootstrapServers())
                .invalidationsTopic(topic)
                .keyPrefix(prefix)
                .redisTimeout(Duration.ofMillis(300))
                .kafkaTimeout(Duration.ofSeconds(10));
    }
}
