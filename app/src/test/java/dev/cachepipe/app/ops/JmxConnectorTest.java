package dev.cachepipe.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.embedded.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Test;

/** {@code --jmx-port} with {@code --jmx-password-file}: one port, loopback, logins checked. */
class JmxConnectorTest {
    @Test
    void shouldAcceptTheRightPasswordAndRefuseOthersWhenAPasswordFileIsGiven() throws Exception {
        Path dir = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        Path passwords = Files.createTempFile(dir, "jmx", ".password");
        Files.writeString(passwords, "# user password\nops s3cret\n");
        Files.setPosixFilePermissions(passwords, PosixFilePermissions.fromString("rw-------"));
        int port = FreePorts.next();
        try (JmxConnector connector = JmxConnector.start("127.0.0.1", port, passwords)) {
            JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
            try (JMXConnector c = JMXConnectorFactory.connect(
                    url, Map.of(JMXConnector.CREDENTIALS, new String[] {"ops", "s3cret"}))) {
                assertThat(c.getMBeanServerConnection().isRegistered(new ObjectName("java.lang:type=Runtime")))
                        .isTrue();
            }
            assertThatThrownBy(() -> JMXConnectorFactory.connect(
                            url, Map.of(JMXConnector.CREDENTIALS, new String[] {"ops", "wrong"})))
                    .isInstanceOf(SecurityException.class);
            assertThatThrownBy(() -> JMXConnectorFactory.connect(url)).isInstanceOf(SecurityException.class);
            assertThat(connector.address()).isEqualTo("127.0.0.1:" + port);
        }
    }

    @Test
    void shouldRefuseAPasswordFileThatOthersMayRead() throws Exception {
        Path passwords = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "jmx", ".password");
        Files.writeString(passwords, "ops s3cret\n");
        Files.setPosixFilePermissions(passwords, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> JmxConnector.readPasswords(passwords))
                .hasMessageContaining("may be read by group or others; restrict it: chmod 600");
    }

    private static Path ownerOnly(String name, String content) throws Exception {
        Path file = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), name, ".txt");
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    @Test
    void shouldRefuseToOpenJmxBeyondLoopbackWhenNeitherAPasswordFileNorTlsIsGiven() throws Exception {
        for (String host : new String[] {"0.0.0.0", "::"}) {
            assertThat(JmxConnector.exposureProblem(host, JmxConnector.Protection.NONE))
                    .contains("--jmx-host " + host)
                    .contains("allowed: a loopback address (127.0.0.1, ::1, localhost: the default)")
                    .contains("--jmx-password-file FILE")
                    .contains("--jmx-tls");
        }
        int port = FreePorts.next();
        assertThatThrownBy(() -> JmxConnector.start("0.0.0.0", port, (Path) null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--jmx-host 0.0.0.0 opens JMX beyond this machine without a login or TLS");
        assertThatThrownBy(() -> new java.net.Socket("127.0.0.1", port).close())
                .as("nothing listens")
                .isInstanceOf(java.io.IOException.class);
    }

    @Test
    void shouldExitWithTheUsageStatusNamingTheOptionWhenRunIsGivenAnUnprotectedJmxHost() {
        java.io.StringWriter err = new java.io.StringWriter();
        int status = dev.cachepipe.app.Main.execute(
                new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(err, true),
                "run",
                "--jmx-port",
                Integer.toString(FreePorts.next()),
                "--jmx-host",
                "0.0.0.0");

        assertThat(status).as("usage and configuration errors exit 2").isEqualTo(2);
        assertThat(err.toString())
                .contains("--jmx-host 0.0.0.0 opens JMX beyond this machine")
                .contains("allowed:");
    }

    @Test
    void shouldAllowLoopbackAloneAndAnyAddressWithAPasswordFileOrTls() throws Exception {
        for (String host : new String[] {"127.0.0.1", "localhost", "::1", "127.0.0.2"}) {
            assertThat(JmxConnector.exposureProblem(host, JmxConnector.Protection.NONE))
                    .as(host)
                    .isNull();
        }
        Path passwords = ownerOnly("jmx", "ops s3cret\n");
        assertThat(JmxConnector.exposureProblem("0.0.0.0", new JmxConnector.Protection(passwords, null, false)))
                .isNull();
        assertThat(JmxConnector.exposureProblem("0.0.0.0", new JmxConnector.Protection(null, null, true)))
                .isNull();
        assertThatThrownBy(() -> new JmxConnector.Protection(null, passwords, false))
                .hasMessageContaining("--jmx-access-file")
                .hasMessageContaining("needs --jmx-password-file");
    }

    @Test
    void shouldOpenOnAllInterfacesWithAPasswordFile() throws Exception {
        Path passwords = ownerOnly("jmx", "ops s3cret\n");
        int port = FreePorts.next();
        try (JmxConnector connector = JmxConnector.start("0.0.0.0", port, passwords)) {
            JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
            try (JMXConnector c = JMXConnectorFactory.connect(
                    url, Map.of(JMXConnector.CREDENTIALS, new String[] {"ops", "s3cret"}))) {
                assertThat(c.getMBeanServerConnection().getMBeanCount()).isPositive();
            }
            assertThatThrownBy(() -> JMXConnectorFactory.connect(url)).isInstanceOf(SecurityException.class);
        }
    }

    @Test
    void shouldSpeakOnlyTlsWhenTlsIsAsked() throws Exception {
        int port = FreePorts.next();
        try (JmxConnector connector =
                JmxConnector.start("127.0.0.1", port, new JmxConnector.Protection(null, null, true))) {
            JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
            assertThatThrownBy(() -> JMXConnectorFactory.connect(url))
                    .as("a client without TLS cannot even read the registry")
                    .isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void shouldLetReadOnlyUsersReadOnlyAndRefuseUsersTheAccessFileDoesNotName() throws Exception {
        Path passwords = ownerOnly("jmx", "monitor m0n\nops s3cret\nstranger str4nge\n");
        Path access = ownerOnly("jmx-access", "# user level\nmonitor readonly\nops readwrite\n");
        int port = FreePorts.next();
        ObjectName memory = new ObjectName("java.lang:type=Memory");
        javax.management.Attribute verbose = new javax.management.Attribute("Verbose", false);
        try (JmxConnector connector =
                JmxConnector.start("127.0.0.1", port, new JmxConnector.Protection(passwords, access, false))) {
            JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
            try (JMXConnector c = JMXConnectorFactory.connect(
                    url, Map.of(JMXConnector.CREDENTIALS, new String[] {"monitor", "m0n"}))) {
                assertThat(c.getMBeanServerConnection().getAttribute(memory, "Verbose"))
                        .isNotNull();
                assertThatThrownBy(() -> c.getMBeanServerConnection().setAttribute(memory, verbose))
                        .isInstanceOf(SecurityException.class)
                        .hasMessageContaining("read-only");
                assertThatThrownBy(() -> c.getMBeanServerConnection().invoke(memory, "gc", null, null))
                        .isInstanceOf(SecurityException.class);
            }
            try (JMXConnector c = JMXConnectorFactory.connect(
                    url, Map.of(JMXConnector.CREDENTIALS, new String[] {"ops", "s3cret"}))) {
                c.getMBeanServerConnection().setAttribute(memory, verbose);
            }
            assertThatThrownBy(() -> JMXConnectorFactory.connect(
                            url, Map.of(JMXConnector.CREDENTIALS, new String[] {"stranger", "str4nge"})))
                    .isInstanceOf(SecurityException.class);
        }
    }

    @Test
    void shouldRefuseAnAccessFileLineWithoutALevel() throws Exception {
        Path access = ownerOnly("jmx-access", "ops admin\n");
        assertThatThrownBy(() -> JmxAccess.read(access))
                .hasMessageContaining("line 1: expected 'user readonly' or 'user readwrite'");
    }
}
