package dev.cachepipe.writer.internal.live;

import dev.cachepipe.writer.internal.apply.RetryLoop;
import java.time.Duration;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;

/**
 * The live writer's way to wait between retries: it keeps polling with every assigned partition paused, so that the
 * consumer-group membership (and {@code max.poll.interval.ms}) stays satisfied while Redis or Kafka is away. Writer
 * thread only.
 */
final class GroupWait implements RetryLoop.Waiter {
    private static final Duration MAX_PAUSED_POLL = Duration.ofSeconds(1);

    private final Consumer<String, byte[]> consumer;
    private final Lifecycle lifecycle;
    private boolean paused;

    GroupWait(Consumer<String, byte[]> consumer, Lifecycle lifecycle) {
        this.consumer = consumer;
        this.lifecycle = lifecycle;
    }

    @Override
    public boolean stopped() {
        return lifecycle.closing();
    }

    /** One paused poll of at most {@code atMost} (capped at a second). Call {@link #resume()} after the wait. */
    @Override
    public void step(Duration atMost) {
        paused = true;
        consumer.pause(consumer.assignment());
        ConsumerRecords<String, byte[]> stray =
                consumer.poll(atMost.compareTo(MAX_PAUSED_POLL) < 0 ? atMost : MAX_PAUSED_POLL);
        if (!stray.isEmpty()) {
            // Should not happen (every partition is paused); never let the position skip past unprocessed records.
            for (TopicPartition tp : stray.partitions()) {
                consumer.seek(tp, stray.records(tp).get(0).offset());
            }
        }
    }

    /** Whether a wait paused the partitions (a partition assigned meanwhile is paused as well). */
    boolean paused() {
        return paused;
    }

    /** Resumes what a wait paused (not while closing: the consumer is about to close). */
    void resume() {
        if (paused) {
            paused = false;
            if (!lifecycle.closing()) {
                consumer.resume(consumer.paused());
            }
        }
    }
}
