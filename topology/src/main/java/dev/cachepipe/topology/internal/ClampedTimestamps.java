package dev.cachepipe.topology.internal;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.UsePartitionTimeOnInvalidTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record's own timestamp (the partition's time for an invalid one, as {@link UsePartitionTimeOnInvalidTimestamp}),
 * but never later than this machine's clock plus {@code maxFutureSkew}.
 *
 * <p>A record stamped far in the future is still processed, as if stamped {@code now + maxFutureSkew}. Unclamped it
 * would move stream time, and with it the versions store's retention, so far ahead that the next pass forgets every
 * version of the task; and its timestamp, copied to the mutation and to the store's changelog, would be refused by a
 * broker that limits future timestamps (an hour by default), failing the task on every retry.
 */
public final class ClampedTimestamps extends UsePartitionTimeOnInvalidTimestamp {
    private static final Logger log = LoggerFactory.getLogger(ClampedTimestamps.class);
    private static final long WARN_EVERY_MS = Duration.ofMinutes(1).toMillis();

    private final long maxFutureSkewMs;
    private final LongSupplier clock;
    private volatile long lastWarning = Long.MIN_VALUE;

    public ClampedTimestamps(Duration maxFutureSkew) {
        this(maxFutureSkew, System::currentTimeMillis);
    }

    ClampedTimestamps(Duration maxFutureSkew, LongSupplier clock) {
        this.maxFutureSkewMs = maxFutureSkew.toMillis();
        this.clock = clock;
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        long timestamp = super.extract(record, partitionTime);
        long now = clock.getAsLong();
        long limit = now + maxFutureSkewMs;
        if (timestamp <= limit) {
            return timestamp;
        }
        if (now - lastWarning >= WARN_EVERY_MS) {
            lastWarning = now;
            log.warn(
                    "Record {}-{}@{} is stamped {} ms ahead of this machine's clock, more than topology.maxFutureSkew"
                            + " ({} ms): processed as stamped now + maxFutureSkew (logged at most once a minute)",
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    timestamp - now,
                    maxFutureSkewMs);
        }
        return limit;
    }
}
