package dev.cachepipe.app.ops;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.JMException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;

/**
 * Every cachepipe MBean of a process read once (see {@link Metrics} for how meters become MBeans), looked up by the
 * meter names the modules register ({@code WriterMeters.WRITES}, not {@code writer.writes}). It remembers which meters
 * and tags it was asked for ({@link #reads()}), so that a test can check that the {@code stats} screen asks only for
 * meters some module registers. Not thread-safe.
 */
final class MeterSnapshot {
    /** JMX attributes of counters ({@code Count}), gauges ({@code Value}) and timers ({@code Mean}, {@code Max}). */
    static final String COUNT = "Count";

    static final String VALUE = "Value";
    static final String MEAN = "Mean";
    static final String MAX = "Max";

    /** MBean name → (tags → attribute → value). */
    private final Map<String, Map<Map<String, String>, Map<String, Object>>> meters;

    /** MBean name → tag keys asked for, of every read. */
    private final Map<String, Set<String>> reads = new TreeMap<>();

    private MeterSnapshot(Map<String, Map<Map<String, String>, Map<String, Object>>> meters) {
        this.meters = meters;
    }

    /** Reads every MBean of the domain {@value Metrics#JMX_DOMAIN}. */
    static MeterSnapshot read(MBeanServerConnection mbs) throws IOException {
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
                        n, new String[] {COUNT, VALUE, MEAN, MAX, "50thPercentile", "99thPercentile"});
                for (Attribute a : list.asList()) {
                    attrs.put(a.getName(), a.getValue());
                }
                meters.computeIfAbsent(name, k -> new HashMap<>()).put(tags, attrs);
            }
        } catch (JMException e) {
            throw new IllegalStateException("cannot read the cachepipe MBeans: " + e, e);
        }
        return new MeterSnapshot(meters);
    }

    boolean isEmpty() {
        return meters.isEmpty();
    }

    /**
     * The sum of {@code attribute} over the MBeans of {@code meter} whose tags include {@code tags} (key, value, ...);
     * NaN if there is none.
     */
    double value(String meter, String attribute, String... tags) {
        String name = Metrics.shortName(meter);
        Map<String, String> want = new TreeMap<>();
        for (int i = 0; i + 1 < tags.length; i += 2) {
            want.put(tags[i], tags[i + 1]);
        }
        asked(name, want.keySet());
        double sum = 0;
        boolean found = false;
        for (Map.Entry<Map<String, String>, Map<String, Object>> e :
                meters.getOrDefault(name, Map.of()).entrySet()) {
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

    /** Percentile {@code p} that {@code timer} publishes (the value of its percentile gauge); NaN if not there. */
    double percentile(String timer, double p) {
        return value(Metrics.percentileGauge(timer), VALUE, Metrics.PERCENTILE_TAG, Metrics.percentileTag(p));
    }

    /** The values of tag {@code key} among the MBeans of {@code meter}, sorted. */
    Set<String> tagValues(String meter, String key) {
        String name = Metrics.shortName(meter);
        asked(name, Set.of(key));
        Set<String> out = new TreeSet<>();
        meters.getOrDefault(name, Map.of()).keySet().forEach(tags -> {
            if (tags.containsKey(key)) {
                out.add(tags.get(key));
            }
        });
        return out;
    }

    private void asked(String name, Set<String> tagKeys) {
        reads.computeIfAbsent(name, k -> new TreeSet<>()).addAll(tagKeys);
    }

    /** What was asked for so far: MBean name → the tag keys asked for. */
    Map<String, Set<String>> reads() {
        Map<String, Set<String>> out = new TreeMap<>();
        reads.forEach((name, keys) -> out.put(name, new TreeSet<>(keys)));
        return out;
    }

    /** What there is: MBean name → the tag keys its MBeans have. */
    Map<String, Set<String>> available() {
        Map<String, Set<String>> out = new TreeMap<>();
        meters.forEach((name, byTags) -> {
            Set<String> keys = new TreeSet<>();
            byTags.keySet().forEach(tags -> keys.addAll(tags.keySet()));
            out.put(name, keys);
        });
        return out;
    }
}
