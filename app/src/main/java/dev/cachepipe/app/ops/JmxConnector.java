package dev.cachepipe.app.ops;

import java.io.IOException;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.rmi.NoSuchObjectException;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.RMIServerSocketFactory;
import java.rmi.server.UnicastRemoteObject;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.management.remote.JMXAuthenticator;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXPrincipal;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;
import javax.security.auth.Subject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A remote JMX connector (RMI) for the platform MBean server, opened by {@code run --jmx-port N}: cachepipe's
 * meters and Kafka's own MBeans, readable with JConsole, VisualVM or {@code cachepipe stats --jmx host:N}.
 *
 * <p>The RMI registry and the connector share the one port, so one port is enough to publish (Docker) or forward
 * (SSH). Both listen on {@code bindHost} only: {@code 127.0.0.1} by default, so that nothing outside the machine can
 * connect. With a password file, clients must log in (the JDK's {@code jmxremote.password} format: one {@code user
 * password} pair per line, {@code #} comments; the file must not be readable by group or others). For TLS and
 * read-only roles use the JDK's own agent instead ({@code -Dcom.sun.management.jmxremote.*}, see the README).
 */
public final class JmxConnector implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JmxConnector.class);

    private final Registry registry;
    private final JMXConnectorServer server;
    private final String address;

    private JmxConnector(Registry registry, JMXConnectorServer server, String address) {
        this.registry = registry;
        this.server = server;
        this.address = address;
    }

    /**
     * Opens the connector. Must run before anything else in the process uses RMI, because the host that RMI puts
     * into its stubs ({@code java.rmi.server.hostname}, set here unless given) is read once.
     *
     * @param passwordFile null: no authentication (then keep {@code bindHost} on loopback)
     */
    static JmxConnector start(String bindHost, int port, Path passwordFile) {
        InetAddress bind;
        try {
            bind = InetAddress.getByName(bindHost);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("--jmx-host " + bindHost + " is not a known host or address", e);
        }
        if (System.getProperty("java.rmi.server.hostname") == null) {
            // the address clients are told to call back: the bound one, or loopback when bound to all interfaces
            // (set -Djava.rmi.server.hostname to the name clients use, e.g. behind Docker's port publishing)
            System.setProperty(
                    "java.rmi.server.hostname", bind.isAnyLocalAddress() ? "127.0.0.1" : bind.getHostAddress());
        }
        Map<String, Object> env = new HashMap<>();
        BoundSocketFactory sockets = new BoundSocketFactory(bind);
        env.put(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, sockets);
        if (passwordFile != null) {
            env.put(JMXConnectorServer.AUTHENTICATOR, new PasswordFileAuthenticator(readPasswords(passwordFile)));
        } else if (!bind.isLoopbackAddress()) {
            log.warn(
                    "JMX on {}:{} without authentication: anyone who reaches this port can read and change the JVM;"
                            + " use --jmx-password-file or bind to 127.0.0.1",
                    bindHost,
                    port);
        }
        Registry registry = null;
        try {
            registry = LocateRegistry.createRegistry(port, null, sockets);
            String host = System.getProperty("java.rmi.server.hostname");
            JMXServiceURL url = new JMXServiceURL(
                    "service:jmx:rmi://" + host + ":" + port + "/jndi/rmi://" + host + ":" + port + "/jmxrmi");
            JMXConnectorServer server = JMXConnectorServerFactory.newJMXConnectorServer(
                    url, env, ManagementFactory.getPlatformMBeanServer());
            server.start();
            JmxConnector connector = new JmxConnector(registry, server, host + ":" + port);
            log.info(
                    "JMX connector on {}:{} ({}): jconsole {}:{}",
                    bind.getHostAddress(),
                    port,
                    passwordFile == null ? "no authentication" : "password file " + passwordFile,
                    host,
                    port);
            return connector;
        } catch (IOException | RuntimeException e) {
            if (registry != null) {
                unexport(registry);
            }
            throw new IllegalStateException("cannot open the JMX connector on " + bindHost + ":" + port + ": " + e, e);
        }
    }

    /** {@code host:port} as clients use it. */
    String address() {
        return address;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (IOException e) {
            log.debug("Stopping the JMX connector failed", e);
        }
        unexport(registry);
    }

    private static void unexport(Registry registry) {
        try {
            UnicastRemoteObject.unexportObject(registry, true);
        } catch (NoSuchObjectException e) {
            // already gone
        }
    }

    /** {@code user password} per line; refuses a file that group or others may read. */
    static Map<String, byte[]> readPasswords(Path file) {
        try {
            try {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
                if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                    throw new IllegalStateException("the JMX password file " + file
                            + " may be read by group or others; restrict it: chmod 600 " + file);
                }
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: nothing to check
            }
            Map<String, byte[]> out = new HashMap<>();
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).trim();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("\\s+");
                if (parts.length != 2) {
                    throw new IllegalStateException(
                            "the JMX password file " + file + ", line " + (i + 1) + ": expected 'user password'");
                }
                out.put(parts[0], parts[1].getBytes(StandardCharsets.UTF_8));
            }
            if (out.isEmpty()) {
                throw new IllegalStateException("the JMX password file " + file + " names no user");
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the JMX password file " + file + ": " + e, e);
        }
    }

    /** Checks {@code [user, password]} against the password file (constant-time comparison). */
    private static final class PasswordFileAuthenticator implements JMXAuthenticator {
        private final Map<String, byte[]> passwords;

        PasswordFileAuthenticator(Map<String, byte[]> passwords) {
            this.passwords = passwords;
        }

        @Override
        public Subject authenticate(Object credentials) {
            if (!(credentials instanceof String[] c) || c.length != 2 || c[0] == null || c[1] == null) {
                throw new SecurityException("JMX credentials must be a user name and a password");
            }
            byte[] expected = passwords.get(c[0]);
            byte[] given = c[1].getBytes(StandardCharsets.UTF_8);
            if (expected == null || !MessageDigest.isEqual(expected, given)) {
                log.warn("JMX login refused for user '{}'", c[0]);
                throw new SecurityException("invalid user name or password");
            }
            return new Subject(
                    true,
                    Collections.singleton(new JMXPrincipal(c[0])),
                    Collections.emptySet(),
                    Collections.emptySet());
        }
    }

    /** Server sockets bound to one address; equal instances let the registry and the connector share a port. */
    private static final class BoundSocketFactory implements RMIServerSocketFactory, Serializable {
        private static final long serialVersionUID = 1L;
        private final InetAddress address;

        BoundSocketFactory(InetAddress address) {
            this.address = address;
        }

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return new ServerSocket(port, 50, address);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BoundSocketFactory f && f.address.equals(address);
        }

        @Override
        public int hashCode() {
            return Objects.hash(address);
        }
    }
}
