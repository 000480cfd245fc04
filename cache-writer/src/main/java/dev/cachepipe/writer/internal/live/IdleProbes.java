package dev.cachepipe.writer.internal.live;

import dev.cachepipe.schemas.Redact;
import dev.cachepipe.support.AccessDenied;
import dev.cachepipe.writer.internal.apply.Health;
import dev.cachepipe.writer.internal.apply.RedisBatchWriter;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * While no records arrive, nothing tells the writer that Redis or Kafka went away: it asks them now and then (every
 * 5 s while healthy, every second while not), so that an outage shows in its health even without traffic. Writer
 * thread only.
 */
final class IdleProbes {
    private static final long INTERVAL_HEALTHY_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long INTERVAL_UNHEALTHY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Duration KAFKA_PROBE_TIMEOUT = Duration.ofSeconds(2);

    private final RedisBatchWriter redis;
    private final Consumer<String, byte[]> consumer;
    private final Health redisHealth;
    private final Health kafkaHealth;
    private long lastRedisContactNanos = System.nanoTime();
    private long lastKafkaContactNanos = System.nanoTime();

    IdleProbes(RedisBatchWriter redis, Consumer<String, byte[]> consumer, Health redisHealth, Health kafkaHealth) {
        this.redis = redis;
        this.consumer = consumer;
        this.redisHealth = redisHealth;
        this.kafkaHealth = kafkaHealth;
    }

    /** Redis just answered (or refused) a batch: no probe is due for a while. */
    void redisContacted() {
        lastRedisContactNanos = System.nanoTime();
    }

    /** Probes what has not been heard from for an interval. */
    void probeIfDue() {
        probeRedis();
        probeKafka();
    }

    private void probeRedis() {
        if (!due(lastRedisContactNanos, redisHealth)) {
            return;
        }
        String failure = redis.ping();
        lastRedisContactNanos = System.nanoTime();
        if (failure == null) {
            redisHealth.up();
        } else {
            redisHealth.down(failure);
        }
    }

    /** {@code poll()} says nothing when the brokers are gone: ask the cluster for its topics (a remote call). */
    private void probeKafka() {
        if (!due(lastKafkaContactNanos, kafkaHealth)) {
            return;
        }
        try {
            consumer.listTopics(KAFKA_PROBE_TIMEOUT);
            kafkaHealth.up();
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            AccessDenied.check("Kafka refused to list topics", e);
            kafkaHealth.down("no answer from the Kafka cluster: " + Redact.describe(e));
        }
        lastKafkaContactNanos = System.nanoTime();
    }

    private static boolean due(long lastContactNanos, Health health) {
        long interval = health.available() ? INTERVAL_HEALTHY_NANOS : INTERVAL_UNHEALTHY_NANOS;
        return System.nanoTime() - lastContactNanos >= interval;
    }
}
