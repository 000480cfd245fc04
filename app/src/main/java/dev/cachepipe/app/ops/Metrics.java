package dev.cachepipe.app.ops;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.jmx.JmxReporter;
import com.codahale.metrics.jmx.ObjectNameFactory;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.util.HierarchicalNameMapper;
import io.micrometer.jmx.JmxConfig;
import io.micrometer.jmx.JmxMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * The process's meters: Micrometer meters published as JMX MBeans under the domain {@code cachepipe} and, when the
 * HTTP endpoint is on, in Prometheus format too.
 *
 * <p>MBean names: {@code cachepipe:name=<meter name without "cachepipe.">[,<tag>=<value>...]}, the tags in
 * alphabetical order, e.g. {@code cachepipe:name=writer.writes,entity_type=user,outcome=applied}. JConsole and
 * VisualVM show them as a tree: cachepipe → writer.writes → user → applied. Counters have the attribute
 * {@code Count} (plus rates), timers {@code Count}, {@code Mean}, {@code Max}, {@code 50thPercentile} ... in
 * milliseconds, gauges {@code Value}; timers with published percentiles also have one gauge per percentile, named
 * {@code <timer>.percentile,phi=0.99} ({@link #percentileGauge}, {@link #PERCENTILE_TAG}).
 */
public final class Metrics implements AutoCloseable {
    /** JMX domain of cachepipe's MBeans. */
    public static final String JMX_DOMAIN = "cachepipe";

    /**
     * Tag of the gauges that publish a timer's percentiles ({@link #percentileGauge}): the percentile, e.g. {@code
     * 0.99}.
     */
    public static final String PERCENTILE_TAG = "phi";

    private static final String METER_PREFIX = "cachepipe.";

    /** Suffix Micrometer gives the gauges of a timer's published percentiles. */
    private static final String PERCENTILE_SUFFIX = ".percentile";

    private final CompositeMeterRegistry registry;
    private final JmxMeterRegistry jmx;
    private final PrometheusMeterRegistry prometheus;
    private final JvmGcMetrics gcMetrics;

    private Metrics(boolean withPrometheus) {
        this.jmx = jmxRegistry();
        this.registry = new CompositeMeterRegistry(Clock.SYSTEM);
        registry.add(jmx);
        if (withPrometheus) {
            prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            // JMX has the JVM's own MBeans already; Prometheus scrapers expect these.
            new JvmMemoryMetrics().bindTo(prometheus);
            new JvmThreadMetrics().bindTo(prometheus);
            new ProcessorMetrics().bindTo(prometheus);
            new UptimeMetrics().bindTo(prometheus);
            gcMetrics = new JvmGcMetrics();
            gcMetrics.bindTo(prometheus);
            registry.add(prometheus);
        } else {
            prometheus = null;
            gcMetrics = null;
        }
    }

    /** Starts the JMX registry and, with {@code withPrometheus}, a Prometheus registry beside it. */
    public static Metrics start(boolean withPrometheus) {
        return new Metrics(withPrometheus);
    }

    /** Where to register meters: every registry started here. */
    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus registry, if started. */
    public Optional<PrometheusMeterRegistry> prometheus() {
        return Optional.ofNullable(prometheus);
    }

    @Override
    public void close() {
        if (gcMetrics != null) {
            gcMetrics.close();
        }
        registry.close();
        jmx.close();
        if (prometheus != null) {
            prometheus.close();
        }
    }

    private static JmxMeterRegistry jmxRegistry() {
        JmxConfig config = new JmxConfig() {
            @Override
            public String domain() {
                return JMX_DOMAIN;
            }

            @Override
            public String get(String key) {
                return null;
            }
        };
        MetricRegistry dropwizard = new MetricRegistry();
        JmxReporter reporter = JmxReporter.forRegistry(dropwizard)
                .inDomain(JMX_DOMAIN)
                .registerWith(ManagementFactory.getPlatformMBeanServer())
                .createsObjectNamesWith((ObjectNameFactory) Metrics::objectName)
                .convertDurationsTo(TimeUnit.MILLISECONDS)
                .convertRatesTo(TimeUnit.SECONDS)
                .build();
        return new JmxMeterRegistry(
                config, Clock.SYSTEM, (HierarchicalNameMapper) Metrics::propertyList, dropwizard, reporter);
    }

    /**
     * The meter as an ObjectName key-property list: {@code name=<name>,<tag>=<value>,...} (values quoted where JMX
     * needs it). Micrometer's naming convention is ignored on purpose: the README documents the meter names as
     * registered.
     */
    static String propertyList(Meter.Id id, NamingConvention ignored) {
        StringBuilder sb = new StringBuilder("name=").append(value(shortName(id.getName())));
        for (Tag t : id.getTagsAsIterable()) {
            sb.append(',').append(key(t.getKey())).append('=').append(value(t.getValue()));
        }
        return sb.toString();
    }

    /** {@code cachepipe.writer.writes} → {@code writer.writes}: the {@code name} of the meter's MBeans. */
    public static String shortName(String meterName) {
        return meterName.startsWith(METER_PREFIX) ? meterName.substring(METER_PREFIX.length()) : meterName;
    }

    /**
     * The gauges of the percentiles {@code timer} publishes, one per percentile (tag {@link #PERCENTILE_TAG}, value
     * {@link #percentileTag}): {@code cachepipe.writer.freshness} → {@code cachepipe.writer.freshness.percentile}.
     */
    public static String percentileGauge(String timer) {
        return timer + PERCENTILE_SUFFIX;
    }

    /** The {@link #PERCENTILE_TAG} value of percentile {@code p}: 0.5 → {@code 0.5}, 0.99 → {@code 0.99}. */
    public static String percentileTag(double p) {
        return BigDecimal.valueOf(p).stripTrailingZeros().toPlainString();
    }

    /** Percentile {@code p} (e.g. 0.99) that {@code timer} publishes, in milliseconds; -1 if not known. */
    public static double percentileMillis(Timer timer, double p) {
        if (timer == null || timer.count() == 0) {
            return -1;
        }
        for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
            if (Math.abs(v.percentile() - p) < 1e-9) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return -1;
    }

    private static String key(String k) {
        String cleaned = k.replaceAll("[^A-Za-z0-9_.-]", "_");
        return cleaned.equals("name") || cleaned.equals("type") ? "tag_" + cleaned : cleaned;
    }

    private static String value(String v) {
        return v.isEmpty() || v.matches(".*[,=:\"*?\\\\\\n].*") ? ObjectName.quote(v) : v;
    }

    /** Dropwizard's reporter asks for the name of each metric; {@code name} is {@link #propertyList}'s output. */
    static ObjectName objectName(String type, String domain, String name) {
        try {
            return new ObjectName(domain + ":" + name);
        } catch (MalformedObjectNameException e) {
            try {
                return new ObjectName(domain, "name", ObjectName.quote(name));
            } catch (MalformedObjectNameException again) {
                throw new IllegalArgumentException("cannot name MBean " + name, again);
            }
        }
    }
}
