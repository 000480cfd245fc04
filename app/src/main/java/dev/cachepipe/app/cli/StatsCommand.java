package dev.cachepipe.app.cli;

import dev.cachepipe.app.ops.HumanDurations;
import dev.cachepipe.app.ops.Metrics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.JMException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import javax.rmi.ssl.SslRMIClientSocketFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cachepipe stats --jmx host:port}: a one-screen summary of a running instance, read over JMX. */
@Command(
        name = "stats",
        mixinStandardHelpOptions = true,
        description = {
            "Print a one-screen summary of a running cachepipe (started with --jmx-port), read over JMX: health,"
                    + " events in, writes, freshness, lag, rebuilds, Kafka Streams and the JVM.",
            "Exit code 0 when it is healthy, 1 when it is degraded or cannot be reached."
        })
public final class StatsCommand implements Callable<Integer> {
    @Option(
            names = "--jmx",
            required = true,
            paramLabel = "HOST:PORT",
            description = "Where the instance's JMX connector listens (its --jmx-port)")
    String address;

    @Option(
            names = "--tls",
            description = {
                "Connect with TLS, registry included: for an instance whose JDK agent runs with"
                        + " com.sun.management.jmxremote.ssl=true and registry.ssl=true. The server's certificate is"
                        + " checked against the JVM's trust store, not its host name: use a trust store that holds only"
                        + " your JMX certificates (CACHEPIPE_JAVA_OPTS=\"-Djavax.net.ssl.trustStore=FILE"
                        + " -Djavax.net.ssl.trustStorePassword=...\")"
            })
    boolean tls;

    @Option(names = "--user", paramLabel = "NAME", description = "JMX user, with --password-file")
    String user;

    @Option(names = "--password-file", paramLabel = "FILE", description = "File holding the JMX password (first line)")
    Path passwordFile;

    @Spec
    CommandSpec spec;

    /** Every cachepipe meter read once: meter name → (tags → attribute → value). */
    record Snapshot(Map<String, Map<Map<String, String>, Map<String, Object>>> meters) {
        double value(String meter, String attribute, String... tags) {
            Map<Map<String, String>, Map<String, Object>> byTags = meters.get(meter);
            if (byTags == null) {
                return Double.NaN;
            }
            Map<String, String> want = new TreeMap<>();
            for (int i = 0; i + 1 < tags.length; i += 2) {
                want.put(tags[i], tags[i + 1]);
            }
            double sum = 0;
            boolean found = false;
            for (Map.Entry<Map<String, String>, Map<String, Object>> e : byTags.entrySet()) {
                if (e.getKey().entrySet().containsAll(want.entrySet())) {
                    Object v = e.getValue().get(attribute);
                    if (v instanceof Number n) {
                        sum += n.doubleValue();
                        found = true;
                    }
                }
            }
            return found ? sum : Double.NaN;
        }

        /** The values of tag {@code key} among the meters named {@code meter}, sorted. */
        Set<String> tagValues(String meter, String key) {
            Set<String> out = new TreeSet<>();
            meters.getOrDefault(meter, Map.of()).keySet().forEach(tags -> {
                if (tags.containsKey(key)) {
                    out.add(tags.get(key));
                }
            });
            return out;
        }
    }

    @Override
    public Integer call() throws IOException {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + address + "/jmxrmi");
        Map<String, Object> env = new HashMap<>();
        if (user != null) {
            if (passwordFile == null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--user needs --password-file");
            }
            String password = Files.readAllLines(passwordFile).stream()
                    .findFirst()
                    .orElse("")
                    .strip();
            env.put(JMXConnector.CREDENTIALS, new String[] {user, password});
        }
        if (tls) {
            // the registry lookup over TLS, and a connector stub that must use TLS too (a registry that hands out a
            // plain-text stub is refused rather than followed)
            env.put("com.sun.jndi.rmi.factory.socket", new SslRMIClientSocketFactory());
            env.put("jmx.remote.x.check.stub", "true");
        }
        JMXConnector connector;
        try {
            connector = JMXConnectorFactory.connect(url, env);
        } catch (IOException | SecurityException e) {
            throw new IllegalStateException(
                    "cannot connect to JMX at " + address + " (is cachepipe running with --jmx-port"
                            + (tls
                                    ? ", and does this JVM trust its certificate?"
                                    : "? a TLS-protected agent needs --tls")
                            + "): "
                            + rootMessage(e),
                    e);
        }
        try (connector) {
            MBeanServerConnection mbs = connector.getMBeanServerConnection();
            Snapshot s = read(mbs);
            if (s.meters().isEmpty()) {
                throw new IllegalStateException("no cachepipe MBeans at " + address + " (is it a cachepipe process?)");
            }
            PrintWriter out = spec.commandLine().getOut();
            boolean healthy = print(out, s, mbs);
            out.flush();
            return healthy ? 0 : 1;
        }
    }

    static Snapshot read(MBeanServerConnection mbs) throws IOException {
        Map<String, Map<Map<String, String>, Map<String, Object>>> meters = new TreeMap<>();
        try {
            for (ObjectName n : mbs.queryNames(new ObjectName(Metrics.JMX_DOMAIN + ":*"), null)) {
                Map<String, String> tags = new TreeMap<>(n.getKeyPropertyList());
                String name = tags.remove("name");
                if (name == null) {
                    continue;
                }
                tags.replaceAll((k, v) -> v.startsWith("\"") ? ObjectName.unquote(v) : v);
                Map<String, Object> attrs = new HashMap<>();
                AttributeList list = mbs.getAttributes(
                        n, new String[] {"Count", "Value", "Mean", "Max", "50thPercentile", "99thPercentile"});
                for (Attribute a : list.asList()) {
                    attrs.put(a.getName(), a.getValue());
                }
                meters.computeIfAbsent(name, k -> new HashMap<>()).put(tags, attrs);
            }
        } catch (JMException e) {
            throw new IllegalStateException("cannot read the cachepipe MBeans: " + e, e);
        }
        return new Snapshot(meters);
    }

    private static boolean print(PrintWriter out, Snapshot s, MBeanServerConnection mbs) throws IOException {
        boolean healthy = s.value("health", "Value") == 1.0;
        out.println("cachepipe " + jvm(mbs));
        out.println(row("health", healthy ? "UP" : "DEGRADED (the instance's log says why; /health too)"));
        out.println(row("kafka streams", streams(mbs)));
        out.println();

        out.println(row(
                "events in",
                String.format(
                        Locale.ROOT,
                        "%-14s %12s %10s %10s %14s",
                        "entity type",
                        "mutated",
                        "ignored",
                        "stale",
                        "dead-lettered")));
        for (String type : s.tagValues("events", "entity_type")) {
            out.println(row(
                    "",
                    String.format(
                            Locale.ROOT,
                            "%-14s %12s %10s %10s %14s",
                            type,
                            count(s.value("events", "Count", "entity_type", type, "outcome", "mutated")),
                            count(s.value("events", "Count", "entity_type", type, "outcome", "ignored")),
                            count(s.value("events", "Count", "entity_type", type, "outcome", "stale")),
                            count(s.value("events", "Count", "entity_type", type, "outcome", "dead_lettered")))));
        }
        List<String> reasons = new ArrayList<>();
        for (String r : s.tagValues("dead.letters", "reason")) {
            double n = s.value("dead.letters", "Count", "reason", r);
            if (n > 0) {
                reasons.add(r + " " + count(n));
            }
        }
        out.println(row("dead letters", reasons.isEmpty() ? "none" : String.join(", ", reasons)));
        out.println();

        out.println(row(
                "writes",
                String.format(
                        Locale.ROOT,
                        "applied %s, stale-skipped %s, duplicate %s (coalesced in batches %s, undecodable %s)",
                        count(zero(s.value("writer.writes", "Count", "outcome", "applied"))),
                        count(zero(s.value("writer.writes", "Count", "outcome", "stale"))),
                        count(zero(s.value("writer.writes", "Count", "outcome", "duplicate"))),
                        count(s.value("writer.coalesced", "Count")),
                        count(s.value("writer.skipped", "Count")))));
        out.println(row(
                "writer",
                String.format(
                        Locale.ROOT,
                        "lag %s records, batch size mean %s max %s, invalidations published %s",
                        count(s.value("writer.lag", "Value")),
                        decimal(s.value("writer.batch.size", "Mean")),
                        count(s.value("writer.batch.size", "Max")),
                        count(s.value("writer.invalidations.published", "Count")))));
        out.println(row(
                "redis latency",
                String.format(
                        Locale.ROOT,
                        "p50 %s, p99 %s, max %s per pipelined batch; retries redis %s, kafka %s",
                        millis(s.value("writer.redis.latency.percentile", "Value", "phi", "0.5")),
                        millis(s.value("writer.redis.latency.percentile", "Value", "phi", "0.99")),
                        millis(s.value("writer.redis.latency", "Max")),
                        count(s.value("writer.retries", "Count", "stage", "redis")),
                        count(s.value("writer.retries", "Count", "stage", "kafka")))));
        out.println(row(
                "freshness",
                String.format(
                        Locale.ROOT,
                        "p50 %s, p95 %s, p99 %s (event occurredAt to Redis acknowledgement)",
                        millis(s.value("writer.freshness.percentile", "Value", "phi", "0.5")),
                        millis(s.value("writer.freshness.percentile", "Value", "phi", "0.95")),
                        millis(s.value("writer.freshness.percentile", "Value", "phi", "0.99")))));
        boolean active = s.value("rebuild.active", "Value") == 1.0;
        out.println(row(
                "rebuilds",
                String.format(
                        Locale.ROOT,
                        "%s started, %s completed, %s lease lost, %s failed; %s",
                        count(s.value("rebuild.started", "Count")),
                        count(s.value("rebuild.finished", "Count", "outcome", "completed")),
                        count(s.value("rebuild.finished", "Count", "outcome", "lease_lost")),
                        count(s.value("rebuild.finished", "Count", "outcome", "failed")),
                        active
                                ? String.format(
                                        Locale.ROOT,
                                        "REBUILDING now: %.0f%%, %s records to go",
                                        s.value("rebuild.progress", "Value") * 100,
                                        count(s.value("rebuild.remaining", "Value")))
                                : "none running")));
        out.println(row(
                "",
                String.format(
                        Locale.ROOT,
                        "replayed: applied %s, already current %s, expired %s",
                        count(s.value("rebuild.records", "Count", "outcome", "applied")),
                        count(s.value("rebuild.records", "Count", "outcome", "stale")
                                + s.value("rebuild.records", "Count", "outcome", "duplicate")),
                        count(s.value("rebuild.expired", "Count")))));
        return healthy;
    }

    private static String row(String label, String value) {
        return String.format(Locale.ROOT, "%-14s%s", label, value).stripTrailing();
    }

    /** Counters with tags appear at their first increment: until then they are 0. */
    private static double zero(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    static String count(double v) {
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
    private static String jvm(MBeanServerConnection mbs) {
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
    private static String streams(MBeanServerConnection mbs) {
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

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.toString();
    }
}
