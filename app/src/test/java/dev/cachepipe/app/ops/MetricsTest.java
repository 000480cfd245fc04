package dev.cachepipe.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/** The MBean names the README documents. */
class MetricsTest {
    private final MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();

    @Test
    void shouldNameMBeansByMeterThenTagsWhenMetersAreRegistered() throws Exception {
        try (Metrics metrics = Metrics.start(true)) {
            Counter.builder("cachepipe.test.writes")
                    .tag("outcome", "applied")
                    .tag("entity_type", "user")
                    .register(metrics.registry())
                    .increment(3);
            Timer.builder("cachepipe.test.latency")
                    .publishPercentiles(0.99)
                    .register(metrics.registry())
                    .record(Duration.ofMillis(12));
            Counter.builder("cachepipe.test.odd").tag("name", "a,b=c").register(metrics.registry());

            ObjectName counter = new ObjectName("cachepipe:name=test.writes,entity_type=user,outcome=applied");
            assertThat(mbs.getAttribute(counter, "Count")).isEqualTo(3L);
            ObjectName timer = new ObjectName("cachepipe:name=test.latency");
            assertThat(mbs.getAttribute(timer, "Count")).isEqualTo(1L);
            assertThat((Double) mbs.getAttribute(timer, "Max")).isEqualTo(12.0); // milliseconds
            assertThat(mbs.isRegistered(new ObjectName("cachepipe:name=test.latency.percentile,phi=0.99")))
                    .isTrue();
            assertThat(mbs.isRegistered(new ObjectName("cachepipe:name=test.odd,tag_name=\"a,b=c\"")))
                    .as("reserved keys renamed, special values quoted")
                    .isTrue();
            assertThat(metrics.prometheus().orElseThrow().scrape())
                    .contains("cachepipe_test_writes_total{entity_type=\"user\",outcome=\"applied\"} 3.0");
        }
        assertThat(mbs.queryNames(new ObjectName("cachepipe:name=test.*"), null))
                .as("closing unregisters")
                .isEmpty();
    }

    @Test
    void shouldNamePercentileGaugesAsTheHelpersSayWhenATimerPublishesPercentiles() throws Exception {
        try (Metrics metrics = Metrics.start(false)) {
            String timer = "cachepipe.test.percentiles";
            Timer.builder(timer).publishPercentiles(0.5, 0.95, 0.99).register(metrics.registry());
            for (double p : new double[] {0.5, 0.95, 0.99}) {
                ObjectName gauge = new ObjectName(Metrics.JMX_DOMAIN + ":name="
                        + Metrics.shortName(Metrics.percentileGauge(timer)) + "," + Metrics.PERCENTILE_TAG + "="
                        + Metrics.percentileTag(p));
                assertThat(mbs.isRegistered(gauge)).as(gauge.toString()).isTrue();
            }
        }
    }

    @Test
    void shouldPublishToJmxOnlyWhenPrometheusIsNotWanted() {
        try (Metrics metrics = Metrics.start(false)) {
            assertThat(metrics.prometheus()).isEmpty();
        }
    }
}
