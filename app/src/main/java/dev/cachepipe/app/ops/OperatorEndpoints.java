package dev.cachepipe.app.ops;

import dev.cachepipe.app.runtime.Pipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options that open cachepipe to operators ({@code --jmx-port}, {@code --http-port}, ...), shared by {@code run}
 * and {@code demo}, and what they start: a remote JMX connector, the HTTP endpoint, the health monitor.
 */
public final class OperatorEndpoints {
    @Option(
            names = "--jmx-port",
            paramLabel = "PORT",
            description = "Open a remote JMX connector (RMI registry and connector on this one port) for JConsole,"
                    + " VisualVM and 'cachepipe stats'; local-only unless --jmx-host says otherwise")
    Integer jmxPort;

    @Option(
            names = "--jmx-host",
            defaultValue = "127.0.0.1",
            paramLabel = "ADDRESS",
            description = "Address the JMX connector listens on (default: ${DEFAULT-VALUE}, this machine only);"
                    + " any other address, 0.0.0.0 for all interfaces included, needs --jmx-password-file or"
                    + " --jmx-tls")
    String jmxHost;

    @Option(
            names = "--jmx-password-file",
            paramLabel = "FILE",
            description = "Require a JMX login: 'user password' per line, the file readable by its owner only")
    Path jmxPasswordFile;

    @Option(
            names = "--jmx-access-file",
            paramLabel = "FILE",
            description = "With --jmx-password-file: 'user readonly|readwrite' per line; users it does not name are"
                    + " refused, read-only ones may not set attributes or invoke operations")
    Path jmxAccessFile;

    @Option(
            names = "--jmx-tls",
            description = "The JMX registry and connector speak TLS, with the JVM's key store"
                    + " (-Djavax.net.ssl.keyStore=...); read it with 'cachepipe stats --tls'")
    boolean jmxTls;

    @Option(
            names = "--http-port",
            paramLabel = "PORT",
            description = "Serve GET /health (200 or 503, JSON with the reason) and GET /metrics (Prometheus) on this"
                    + " port")
    Integer httpPort;

    @Option(
            names = "--http-host",
            defaultValue = "0.0.0.0",
            paramLabel = "ADDRESS",
            description = "Address the HTTP endpoint listens on (default: ${DEFAULT-VALUE}, so that orchestrators"
                    + " and scrapers reach it; it only reads)")
    String httpHost;

    /** What {@link #open} started; closing stops it. */
    public static final class Opened implements AutoCloseable {
        private final List<AutoCloseable> parts = new ArrayList<>();
        HttpEndpoint http;
        JmxConnector jmx;

        @Override
        public void close() {
            for (int i = parts.size() - 1; i >= 0; i--) {
                try {
                    parts.get(i).close();
                } catch (Exception e) {
                    // best effort at shutdown
                }
            }
            parts.clear();
        }
    }

    /** Validates the ports and how JMX is exposed; call before starting anything. */
    public void validate(picocli.CommandLine cmd) {
        for (Integer p : new Integer[] {jmxPort, httpPort}) {
            if (p != null && (p < 0 || p > 65535)) {
                throw new picocli.CommandLine.ParameterException(cmd, "ports must be between 0 and 65535 but was " + p);
            }
        }
        if (jmxPort == null) {
            return;
        }
        String problem;
        try {
            problem = JmxConnector.exposureProblem(jmxHost, jmxProtection());
        } catch (IllegalArgumentException | IllegalStateException e) {
            problem = e.getMessage();
        }
        if (problem != null) {
            throw new picocli.CommandLine.ParameterException(cmd, problem);
        }
    }

    private JmxConnector.Protection jmxProtection() {
        return new JmxConnector.Protection(jmxPasswordFile, jmxAccessFile, jmxTls);
    }

    /** Whether {@link Metrics} must publish to Prometheus too. */
    public boolean wantsPrometheus() {
        return httpPort != null;
    }

    /** Opens the JMX connector first (it must precede any other use of RMI in the process). */
    public JmxConnector openJmx() {
        return jmxPort == null ? null : JmxConnector.start(jmxHost, jmxPort, jmxProtection());
    }

    /** The health monitor and the HTTP endpoint, for a running pipeline. */
    public Opened open(Pipeline pipeline, Metrics metrics, JmxConnector jmx) {
        Opened o = new Opened();
        if (jmx != null) {
            o.jmx = jmx;
            o.parts.add(jmx);
        }
        try {
            HealthMonitor health = new HealthMonitor(pipeline, metrics.registry());
            o.parts.add(health);
            if (httpPort != null) {
                o.http = HttpEndpoint.start(
                        httpHost, httpPort, health::status, metrics.prometheus().orElseThrow());
                o.parts.add(o.http);
            }
            return o;
        } catch (RuntimeException e) {
            o.close();
            throw e;
        }
    }
}
