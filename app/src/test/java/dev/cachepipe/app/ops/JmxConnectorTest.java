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
}
