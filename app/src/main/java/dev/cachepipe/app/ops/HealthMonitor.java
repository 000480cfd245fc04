package dev.cachepipe.app.ops;

import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.writer.CacheRebuild;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's health for operators: the gauge {@code cachepipe.health} (1 up, 0 degraded), a log line at every
 * change (WARN with the reason when it degrades, INFO when it recovers), and {@link #status()} for the HTTP
 * endpoint. A rebuild of Redis does not make the pipeline unhealthy (it is how it heals; an orchestrator that
 * restarted a rebuilding instance would only restart the rebuild); it shows in the status and in the
 * {@code cachepipe.rebuild.*} meters.
 */
final class HealthMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("dev.cachepipe.app.Health");
    static final String GAUGE = "cachepipe.health";

    /** The health at one moment. */
    record Status(boolean up, String reason, boolean rebuilding, Optional<CacheRebuild.Progress> rebuild) {}

    private final Pipeline pipeline;
    private final MeterRegistry registry;
    private final Gauge gauge;
    private final ScheduledExecutorService timer;
    private boolean lastUp = true; // timer thread only
    private long downSinceNanos;

    HealthMonitor(Pipeline pipeline, MeterRegistry registry) {
        this.pipeline = pipeline;
        this.registry = registry;
        this.gauge = Gauge.builder(GAUGE, pipeline, p -> p.healthy() ? 1 : 0)
                .description("1 while the pipeline is healthy (Kafka Streams running, the writer reaching Redis and"
                        + " Kafka), 0 while degraded; the reason is logged")
                .strongReference(true)
                .register(registry);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cachepipe-health");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::logChanges, 1, 1, TimeUnit.SECONDS);
    }

    Status status() {
        boolean up = pipeline.healthy();
        return new Status(up, up ? "ok" : pipeline.healthReason(), pipeline.rebuilding(), pipeline.rebuildProgress());
    }

    private void logChanges() {
        try {
            boolean up = pipeline.healthy();
            if (up != lastUp) {
                if (up) {
                    log.info(
                            "cachepipe healthy again after {}",
                            HumanDurations.human(Duration.ofNanos(System.nanoTime() - downSinceNanos)));
                } else {
                    downSinceNanos = System.nanoTime();
                    log.warn("cachepipe degraded: {}", pipeline.healthReason());
                }
                lastUp = up;
            }
        } catch (RuntimeException e) {
            log.debug("Health check failed", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        registry.remove(gauge);
    }
}
