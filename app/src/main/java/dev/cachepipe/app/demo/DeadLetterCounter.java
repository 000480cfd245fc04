package dev.cachepipe.app.demo;

import dev.cachepipe.topology.CachepipeTopology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the records that arrive on the dead-letter topic after {@link #start()}, by reason header, on its own thread
 * (no consumer group: it assigns all partitions and starts at their current end).
 */
final class DeadLetterCounter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterCounter.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final AtomicLong total = new AtomicLong();
    private final Map<String, AtomicLong> byReason = new ConcurrentHashMap<>();
    private final CountDownLatch ready = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;
    private volatile RuntimeException failure;

    DeadLetterCounter(Map<String, Object> kafkaProperties, String topic) {
        Map<String, Object> props = new java.util.HashMap<>(kafkaProperties);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "cachepipe-demo-dlq-counter");
        this.consumer = new KafkaConsumer<>(props);
        this.topic = topic;
        this.thread = new Thread(this::loop, "cachepipe-demo-dlq-counter");
        this.thread.setDaemon(true);
    }

    /** Starts counting from the topic's current end; returns once the starting positions are fixed. */
    void start() throws InterruptedException {
        thread.start();
        if (!ready.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the dead-letter topic " + topic + " could not be read within 60 s");
        }
        if (failure != null) {
            throw new IllegalStateException("cannot read the dead-letter topic " + topic + ": " + failure, failure);
        }
    }

    long total() {
        return total.get();
    }

    /** Counts by reason code, sorted. */
    Map<String, Long> byReason() {
        Map<String, Long> out = new TreeMap<>();
        byReason.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    private void loop() {
        try {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position); // fix the start before the generator runs
            ready.countDown();
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    Header h = r.headers().lastHeader(CachepipeTopology.DLQ_REASON_HEADER);
                    String reason = h == null ? "(no reason header)" : new String(h.value(), StandardCharsets.UTF_8);
                    byReason.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
                    total.incrementAndGet();
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            failure = e;
            if (running) {
                log.warn("Stopped counting dead letters: {}", e.toString());
            }
        } finally {
            ready.countDown();
            consumer.close();
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
