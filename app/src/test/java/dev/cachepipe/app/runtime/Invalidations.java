package dev.cachepipe.app.runtime;

import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.schemas.AvroSerde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a test pipeline's invalidations topic from the beginning (no consumer group). */
final class Invalidations implements AutoCloseable {
    private static final AvroSerde<CacheInvalidation> SERDE = AvroSerde.of(CacheInvalidation.class);

    private final KafkaConsumer<String, byte[]> consumer;
    private final List<TopicPartition> partitions;

    Invalidations(TestPipeline p) {
        consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        EmbeddedKafka.shared().bootstrapServers(),
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false,
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                        "earliest",
                        // the writer publishes inside transactions or not: either way only committed ones count
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                        "read_committed"),
                new StringDeserializer(),
                new ByteArrayDeserializer());
        String topic = p.config.topics().invalidations();
        partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** The next records (possibly none), decoded; the Kafka key must equal the invalidation's key. */
    List<CacheInvalidation> poll(Duration timeout) {
        List<CacheInvalidation> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : consumer.poll(timeout)) {
            CacheInvalidation i = SERDE.decode(r.value());
            if (!i.getKey().equals(r.key())) {
                throw new AssertionError("invalidation for " + i.getKey() + " has Kafka key " + r.key());
            }
            out.add(i);
        }
        return out;
    }

    /** Everything up to the topic's current end, in partition order. */
    List<CacheInvalidation> readToEnd() {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        List<CacheInvalidation> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("could not read the invalidations topic to its end within 30 s");
            }
            out.addAll(poll(Duration.ofMillis(200)));
        }
        return out;
    }

    static List<CacheInvalidation> readAll(TestPipeline p) {
        try (Invalidations i = new Invalidations(p)) {
            return i.readToEnd();
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
