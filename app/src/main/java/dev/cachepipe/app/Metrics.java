package dev.cachepipe.app;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.jmx.JmxConfig;
import io.micrometer.jmx.JmxMeterRegistry;

/** The process's meter registry: Micrometer meters published as JMX MBeans under the domain {@code cachepipe}. */
public final class Metrics {
    /** JMX domain of cachepipe's MBeans. */
    public static final String JMX_DOMAIN = "cachepipe";

    private Metrics() {}

    public static MeterRegistry create() {
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
        return new JmxMeterRegistry(config, Clock.SYSTEM);
    }
}
