package dev.cachepipe.client.internal;

import static dev.cachepipe.client.ClientMeters.*;

import dev.cachepipe.client.ClientMeters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The client's meters ({@link ClientMeters}: prefix {@value ClientMeters#PREFIX}, tag {@value ClientMeters#CLIENT}).
 * Counters are {@link LongAdder}s read by Micrometer {@link FunctionCounter}s, so the hot path pays an add and {@code
 * stats()} reads the same numbers. Not API.
 */
public final class ClientMetrics implements AutoCloseable {
    /** Why the listener cleared L1. */
    public enum ResyncReason {
        LAG,
        DISCONNECTED,
        OFFSETS_RESET,
        PARTITIONS_CHANGED;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final LongAdder[] resyncs = new LongAdder[ResyncReason.values().length];
    private final LongAdder undecodableInvalidations = new LongAdder();
    private final java.util.concurrent.ConcurrentHashMap<String, LongAdder> purges =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong listenerLag = new AtomicLong();
    private final AtomicLong listenerConnected = new AtomicLong();
    private final Timer invalidationDelay;
    private final Timer freshness;
    private final Timer l2Read;
    private final Timer l2ReadAll;
    private final Timer l2Fill;
    private final Timer l2Lease;

    public ClientMetrics(MeterRegistry registry, String clientName, Freshness freshness, RedisHealthView redis) {
        this.registry = registry;
        this.tags = Tags.of(CLIENT, clientName);
        for (ResyncReason r : ResyncReason.values()) {
            LongAdder adder = new LongAdder();
            resyncs[r.ordinal()] = adder;
            counter(
                    RESYNCS,
                    "Times the listener cleared L1 because it may have missed invalidations",
                    adder,
                    Tags.of(REASON, r.tag()));
        }
        counter(
                INVALIDATIONS,
                "Invalidations the listener could not decode (L1 entry evicted by record key)",
                undecodableInvalidations,
                Tags.of(ENTITY, UNKNOWN_ENTITY, RESULT, RESULT_UNDECODABLE));
        gauge(LISTENER_LAG, "Invalidations published but not yet applied (records)", listenerLag, AtomicLong::get);
        gauge(LISTENER_CONNECTED, "1 while the listener is in contact with Kafka", listenerConnected, AtomicLong::get);
        gauge(
                L1_ENABLED,
                "1 while L1 is in use (listener positioned and in contact)",
                freshness,
                f -> f.enabled() ? 1 : 0);
        gauge(REDIS_AVAILABLE, "1 while Redis answers", redis, r -> r.available() ? 1 : 0);
        this.invalidationDelay = register(Timer.builder(INVALIDATION_DELAY)
                .description("From the Redis write (writtenAt) to the invalidation being applied to L1")
                .tags(tags)
                .publishPercentiles(0.5, 0.99)
                .register(registry));
        this.freshness = register(Timer.builder(FRESHNESS)
                .description("From the domain event's occurredAt to its invalidation being applied to L1")
                .tags(tags)
                .publishPercentiles(0.5, 0.99, 0.999)
                .register(registry));
        this.l2Read = l2Timer(OP_READ);
        this.l2ReadAll = l2Timer(OP_READ_ALL);
        this.l2Fill = l2Timer(OP_FILL);
        this.l2Lease = l2Timer(OP_LEASE);
    }

    /** Read-only view of Redis health for the gauge. */
    public interface RedisHealthView {
        boolean available();
    }

    /** Meters of one entity type. */
    public EntityMetrics entity(String entityType, LocalCache l1) {
        return new EntityMetrics(this, entityType, l1);
    }

    public void resync(ResyncReason reason) {
        resyncs[reason.ordinal()].increment();
    }

    public long resyncs() {
        long sum = 0;
        for (LongAdder a : resyncs) {
            sum += a.sum();
        }
        return sum;
    }

    /** A purge of {@code entityType} (a configured one) was applied to L1. */
    public void purge(String entityType) {
        purges.computeIfAbsent(entityType, t -> {
                    LongAdder adder = new LongAdder();
                    counter(PURGES, "Purges the listener applied to L1", adder, Tags.of(ENTITY, t));
                    return adder;
                })
                .increment();
    }

    public void undecodableInvalidation() {
        undecodableInvalidations.increment();
    }

    public void listenerLag(long lag) {
        listenerLag.set(Math.max(0, lag));
    }

    public long listenerLag() {
        return listenerLag.get();
    }

    public void listenerConnected(boolean connected) {
        listenerConnected.set(connected ? 1 : 0);
    }

    public Timer freshness() {
        return freshness;
    }

    public Timer invalidationDelay() {
        return invalidationDelay;
    }

    public Timer l2Read() {
        return l2Read;
    }

    public Timer l2ReadAll() {
        return l2ReadAll;
    }

    public Timer l2Fill() {
        return l2Fill;
    }

    public Timer l2Lease() {
        return l2Lease;
    }

    private Timer l2Timer(String op) {
        return register(Timer.builder(L2_LATENCY)
                .description("Round trip of Redis reads and writes made by the client")
                .tags(tags.and(OP, op))
                .publishPercentiles(0.5, 0.99)
                .register(registry));
    }

    void counter(String name, String description, LongAdder adder, Tags extra) {
        register(FunctionCounter.builder(clientMeter(name), adder, LongAdder::sum)
                .description(description)
                .tags(tags.and(extra))
                .register(registry));
    }

    <T> void gauge(String name, String description, T obj, ToDoubleFunction<T> f) {
        gauge(name, description, obj, f, Tags.empty());
    }

    <T> void gauge(String name, String description, T obj, ToDoubleFunction<T> f, Tags extra) {
        register(Gauge.builder(clientMeter(name), obj, f)
                .description(description)
                .tags(tags.and(extra))
                .strongReference(true)
                .register(registry));
    }

    Timer timer(String name, String description, Tags extra) {
        return register(Timer.builder(clientMeter(name))
                .description(description)
                .tags(tags.and(extra))
                .publishPercentiles(0.5, 0.99)
                .register(registry));
    }

    /** {@code name}, which must be one of {@link ClientMeters}' names. */
    private static String clientMeter(String name) {
        if (!name.startsWith(PREFIX)) {
            throw new IllegalArgumentException("client meter names start with " + PREFIX + " but was " + name);
        }
        return name;
    }

    private synchronized <M extends Meter> M register(M meter) {
        meters.add(meter);
        return meter;
    }

    /** Removes every meter of this client from the registry. */
    @Override
    public synchronized void close() {
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }
}
