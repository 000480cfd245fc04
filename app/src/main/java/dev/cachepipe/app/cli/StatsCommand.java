package dev.cachepipe.app.cli;

import dev.cachepipe.app.ops.StatsScreen;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
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
            StatsScreen screen = StatsScreen.read(connector.getMBeanServerConnection());
            if (screen.isEmpty()) {
                throw new IllegalStateException("no cachepipe MBeans at " + address + " (is it a cachepipe process?)");
            }
            PrintWriter out = spec.commandLine().getOut();
            boolean healthy = screen.print(out);
            out.flush();
            return healthy ? 0 : 1;
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.toString();
    }
}
