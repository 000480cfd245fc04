package dev.cachepipe.app.ops;

import static dev.cachepipe.app.ops.MeterSnapshot.*;

import dev.cachepipe.topology.TopologyMeters;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.WriterMeters;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.management.JMException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;

/**
 * The one-screen summary of a running cachepipe that {@code cachepipe stats} prints: health, events in, dead letters,
 * writes, freshness, lag and rebuilds from cachepipe's MBeans (read once into a {@link MeterSnapshot} and looked up by
 * the meter names the modules publish), Kafka Streams' state and the JVM from their own MBeans.
 */
public final class StatsScreen {
    private final MBeanServerConnection mbs;
    private final MeterSnapshot meters;

    private StatsScreen(MBeanServerConnection mbs, MeterSnapshot meters) {
        this.mbs = mbs;
        this.meters = meters;
    }

    /** Reads the cachepipe MBeans of the process behind {@code mbs}. */
    public static StatsScreen read(MBeanServerConnection mbs) throws IOException {
        return new StatsScreen(mbs, MeterSnapshot.read(mbs));
    }

    /** Whether the process has no cachepipe MBeans (it is not a cachepipe process). */
    public boolean isEmpty() {
        return meters.isEmpty();
    }

    /** The cachepipe meters as read, and what {@link #print} asked of them. */
    MeterSnapshot meters() {
        return meters;
    }

    /** Prints the screen; true when the instance is healthy. */
    public boolean print(PrintWriter out) {
        MeterSnapshot s = meters;
        boolean healthy = s.value(HealthMonitor.GAUGE, VALUE) == 1.0;
        out.println("cachepipe " + jvm());
        out.println(row("health", healthy ? "UP" : "DEGRADED (the instance's log says why; /health too)"));
        out.println(row("kafka streams", streams()));
        out.println();

        line(
                out,
                "events in",
                "%-14s %12s %10s %10s %14s",
                "entity type",
                "mutated",
                "ignored",
                "stale",
                "dead-lettered");
        for (String type : s.tagValues(TopologyMeters.EVENTS, TopologyMeters.ENTITY_TYPE)) {
            line(
                    out,
                    "",
                    "%-14s %12s %10s %10s %14s",
                    type,
                    count(events(type, TopologyMeters.MUTATED)),
                    count(events(type, TopologyMeters.IGNORED)),
                    count(events(type, TopologyMeters.STALE)),
                    count(events(type, TopologyMeters.DEAD_LETTERED)));
        }
        List<String> reasons = new ArrayList<>();
        for (String r : s.tagValues(TopologyMeters.DEAD_LETTERS, TopologyMeters.REASON)) {
            double n = s.value(TopologyMeters.DEAD_LETTERS, COUNT, TopologyMeters.REASON, r);
            if (n > 0) {
                reasons.add(r + " " + count(n));
            }
        }
        out.println(row("dead letters", reasons.isEmpty() ? "none" : String.join(", ", reasons)));
        out.println();

        line(
                out,
                "writes",
                "applied %s, stale-skipped %s, duplicate %s (coalesced in batches %s, undecodable %s)",
                count(zero(writes(WriteOutcome.APPLIED))),
                count(zero(writes(WriteOutcome.STALE))),
                count(zero(writes(WriteOutcome.DUPLICATE))),
                count(s.value(WriterMeters.COALESCED, COUNT)),
                count(s.value(WriterMeters.SKIPPED, COUNT)));
        line(
                out,
                "writer",
                "lag %s records, batch size mean %s max %s, invalidations published %s",
                count(s.value(WriterMeters.LAG, VALUE)),
                decimal(s.value(WriterMeters.BATCH_SIZE, MEAN)),
                count(s.value(WriterMeters.BATCH_SIZE, MAX)),
                count(s.value(WriterMeters.INVALIDATIONS_PUBLISHED, COUNT)));
        line(
                out,
                "redis latency",
                "p50 %s, p99 %s, max %s per pipelined batch; retries redis %s, kafka %s",
                millis(s.percentile(WriterMeters.REDIS_LATENCY, 0.5)),
                millis(s.percentile(WriterMeters.REDIS_LATENCY, 0.99)),
                millis(s.value(WriterMeters.REDIS_LATENCY, MAX)),
                count(s.value(WriterMeters.RETRIES, COUNT, WriterMeters.STAGE, WriterMeters.STAGE_REDIS)),
                count(s.value(WriterMeters.RETRIES, COUNT, WriterMeters.STAGE, WriterMeters.STAGE_KAFKA)));
        line(
                out,
                "freshness",
                "p50 %s, p95 %s, p99 %s (event occurredAt to Redis acknowledgement)",
                millis(s.percentile(WriterMeters.FRESHNESS, 0.5)),
                millis(s.percentile(WriterMeters.FRESHNESS, 0.95)),
                millis(s.percentile(WriterMeters.FRESHNESS, 0.99)));
        boolean active = s.value(WriterMeters.REBUILD_ACTIVE, VALUE) == 1.0;
        line(
                out,
                "rebuilds",
                "%s started, %s completed, %s lease lost, %s failed; %s",
                count(s.value(WriterMeters.REBUILD_STARTED, COUNT)),
                count(rebuilds(WriterMeters.rebuildOutcomeTag(CacheRebuild.Outcome.COMPLETED))),
                count(rebuilds(WriterMeters.rebuildOutcomeTag(CacheRebuild.Outcome.LEASE_LOST))),
                count(rebuilds(WriterMeters.REBUILD_FAILED)),
                active
                        ? String.format(
                                Locale.ROOT,
                                "REBUILDING now: %.0f%%, %s records to go",
                                s.value(WriterMeters.REBUILD_PROGRESS, VALUE) * 100,
                                count(s.value(WriterMeters.REBUILD_REMAINING, VALUE)))
                        : "none running");
        line(
                out,
                "",
                "replayed: applied %s, already current %s, expired %s",
                count(rebuildRecords(WriteOutcome.APPLIED)),
                count(rebuildRecords(WriteOutcome.STALE) + rebuildRecords(WriteOutcome.DUPLICATE)),
                count(s.value(WriterMeters.REBUILD_EXPIRED, COUNT)));
        return healthy;
    }

    private double events(String entityType, String outcome) {
        return meters.value(
                TopologyMeters.EVENTS, COUNT, TopologyMeters.ENTITY_TYPE, entityType, TopologyMeters.OUTCOME, outcome);
    }

    private double writes(WriteOutcome outcome) {
        return meters.value(WriterMeters.WRITES, COUNT, WriterMeters.OUTCOME, outcome.tag());
    }

    private double rebuilds(String outcome) {
        return meters.value(WriterMeters.REBUILD_FINISHED, COUNT, WriterMeters.OUTCOME, outcome);
    }

    private double rebuildRecords(WriteOutcome outcome) {
        return meters.value(WriterMeters.REBUILD_RECORDS, COUNT, WriterMeters.OUTCOME, outcome.tag());
    }

    /** A row of {@code label} and {@code format} filled with {@code args}. */
    private static void line(PrintWriter out, String label, String format, Object... args) {
        out.println(row(label, String.format(Locale.ROOT, format, args)));
    }

    private static String row(String label, String value) {
        return String.format(Locale.ROOT, "%-14s%s", label, value).stripTrailing();
    }

    /** Counters with tags appear at their first increment: until then they are 0. */
    private static double zero(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    private static String count(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,d", Math.round(v));
    }

    private static String decimal(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String millis(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return v < 10 ? String.format(Locale.ROOT, "%.2f ms", v) : String.format(Locale.ROOT, "%,.0f ms", v);
    }

    /** {@code (pid 123, up 4m 10s, heap 120/512 MB)} from the platform MBeans. */
    private String jvm() {
        try {
            ObjectName runtime = new ObjectName("java.lang:type=Runtime");
            ObjectName memory = new ObjectName("java.lang:type=Memory");
            String name = String.valueOf(mbs.getAttribute(runtime, "Name")); // pid@host
            long uptime = ((Number) mbs.getAttribute(runtime, "Uptime")).longValue();
            javax.management.openmbean.CompositeData heap =
                    (javax.management.openmbean.CompositeData) mbs.getAttribute(memory, "HeapMemoryUsage");
            long used = ((Number) heap.get("used")).longValue() >> 20;
            long max = ((Number) heap.get("max")).longValue() >> 20;
            return "(" + name + ", up " + HumanDurations.human(Duration.ofMillis(uptime)) + ", heap " + used + "/" + max
                    + " MB)";
        } catch (JMException | IOException | RuntimeException e) {
            return "";
        }
    }

    /** Kafka Streams' own MBeans: state, alive stream threads, records processed per second. */
    private String streams() {
        try {
            List<String> parts = new ArrayList<>();
            for (ObjectName n : mbs.queryNames(new ObjectName("kafka.streams:type=stream-metrics,*"), null)) {
                if (hasAttribute(mbs, n, "state") && hasAttribute(mbs, n, "alive-stream-threads")) {
                    parts.add(mbs.getAttribute(n, "state") + ", " + mbs.getAttribute(n, "alive-stream-threads")
                            + " stream thread(s)");
                }
            }
            double rate = 0;
            double total = 0;
            for (ObjectName n : mbs.queryNames(new ObjectName("kafka.streams:type=stream-thread-metrics,*"), null)) {
                if (hasAttribute(mbs, n, "process-rate")) {
                    if (mbs.getAttribute(n, "process-rate") instanceof Number r && !Double.isNaN(r.doubleValue())) {
                        rate += r.doubleValue();
                    }
                    if (mbs.getAttribute(n, "process-total") instanceof Number t && !Double.isNaN(t.doubleValue())) {
                        total += t.doubleValue();
                    }
                }
            }
            if (parts.isEmpty()) {
                return "no Kafka Streams MBeans";
            }
            return String.join("; ", parts)
                    + String.format(Locale.ROOT, ", %,.0f records processed (%,.1f/s)", total, rate);
        } catch (JMException | IOException | RuntimeException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static boolean hasAttribute(MBeanServerConnection mbs, ObjectName n, String attribute)
            throws JMException, IOException {
        for (javax.management.MBeanAttributeInfo i : mbs.getMBeanInfo(n).getAttributes()) {
            if (i.getName().equals(attribute)) {
                return true;
            }
        }
        return false;
    }
}
