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
import java.rmi.server.RMIClientSocketFactory;
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
import javax.management.remote.JMXPrincipal;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;
import javax.management.remote.rmi.RMIJRMPServerImpl;
import javax.net.ssl.SSLServerSocketFactory;
import javax.rmi.ssl.SslRMIClientSocketFactory;
import javax.security.auth.Subject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A remote JMX connector (RMI) for the platform MBean server, opened by {@code run --jmx-port N}: cachepipe's
 * meters and Kafka's own MBeans, readable with JConsole, VisualVM or {@code cachepipe stats --jmx host:N}.
 *
 * <p>The RMI registry and the connector share the one port, so one port is enough to publish (Docker) or forward
 * (SSH). Both listen on {@code bindHost} only: {@code 127.0.0.1} by default, so that nothing outside the machine can
 * connect; any other address is refused unless clients must log in or use TLS ({@link #exposureProblem}). With a
 * password file, clients must log in (the JDK's {@code jmxremote.password} format: one {@code user password} pair per
 * line, {@code #} comments; the file must not be readable by group or others); with an access file (the JDK's {@code
 * jmxremote.access} format: {@code user readonly|readwrite}) only the users it names get in, read-only ones may not
 * set attributes, invoke operations, create or unregister MBeans. With TLS, the registry and the connector speak TLS
 * with the JVM's key store ({@code javax.net.ssl.keyStore}), as the JDK agent does with {@code
 * com.sun.management.jmxremote.ssl} and {@code registry.ssl}.
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
     * How the connector is protected.
     *
     * @param passwordFile null: no login
     * @param accessFile null: every user of the password file may read and write; needs {@code passwordFile}
     * @param tls whether the registry and the connector speak TLS (the JVM's key store)
     */
    public record Protection(Path passwordFile, Path accessFile, boolean tls) {
        public static final Protection NONE = new Protection(null, null, false);

        public Protection {
            if (accessFile != null && passwordFile == null) {
                throw new IllegalArgumentException("--jmx-access-file " + accessFile + " needs --jmx-password-file");
            }
        }

        boolean guarded() {
            return passwordFile != null || tls;
        }
    }

    /**
     * Why the connector must not open on {@code bindHost} with {@code protection}, or {@code null} when it may: any
     * address that is not loopback (all interfaces, {@code 0.0.0.0}, included) needs a password file or TLS.
     */
    static String exposureProblem(String bindHost, Protection protection) {
        InetAddress bind = resolve(bindHost);
        if (bind.isLoopbackAddress() || protection.guarded()) {
            return null;
        }
        return "--jmx-host " + bindHost + " opens JMX beyond this machine without a login or TLS, and JMX can dump the"
                + " heap and change the JVM; allowed: a loopback address (127.0.0.1, ::1, localhost: the default), or"
                + " any address with --jmx-password-file FILE (and optionally --jmx-access-file FILE) or --jmx-tls";
    }

    private static InetAddress resolve(String bindHost) {
        try {
            return InetAddress.getByName(bindHost);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("--jmx-host " + bindHost + " is not a known host or address", e);
        }
    }

    /** Opens the connector on loopback or with a password file ({@link #start(String, int, Protection)}). */
    static JmxConnector start(String bindHost, int port, Path passwordFile) {
        return start(bindHost, port, new Protection(passwordFile, null, false));
    }

    /**
     * Opens the connector. Must run before anything else in the process uses RMI, because the host that RMI puts
     * into its stubs ({@code java.rmi.server.hostname}, set here unless given) is read once.
     *
     * @throws IllegalStateException if {@link #exposureProblem} objects, a file is wrong, or the port is taken
     */
    static JmxConnector start(String bindHost, int port, Protection protection) {
        String problem = exposureProblem(bindHost, protection);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        InetAddress bind = resolve(bindHost);
        Path passwordFile = protection.passwordFile();
        if (System.getProperty("java.rmi.server.hostname") == null) {
            // the address clients are told to call back: the bound one, or loopback when bound to all interfaces
            // (set -Djava.rmi.server.hostname to the name clients use, e.g. behind Docker's port publishing)
            System.setProperty(
                    "java.rmi.server.hostname", bind.isAnyLocalAddress() ? "127.0.0.1" : bind.getHostAddress());
        }
        Map<String, Object> env = new HashMap<>();
        BoundSocketFactory sockets = new BoundSocketFactory(bind, protection.tls());
        RMIClientSocketFactory clientSockets = protection.tls() ? new SslRMIClientSocketFactory() : null;
        env.put(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, sockets);
        if (clientSockets != null) {
            env.put(RMIConnectorServer.RMI_CLIENT_SOCKET_FACTORY_ATTRIBUTE, clientSockets);
        }
        Map<String, JmxAccess.Level> access = null;
        if (passwordFile != null) {
            Map<String, byte[]> passwords = readPasswords(passwordFile);
            if (protection.accessFile() != null) {
                access = JmxAccess.read(protection.accessFile());
            }
            env.put(JMXConnectorServer.AUTHENTICATOR, new PasswordFileAuthenticator(passwords, access));
        }
        Registry registry = null;
        try {
            registry = LocateRegistry.createRegistry(port, clientSockets, sockets);
            String host = System.getProperty("java.rmi.server.hostname");
            // As the JDK's agent does: the connector's stub goes into the registry object directly, not through JNDI
            // (a JNDI bind would be a plain-socket client of a TLS registry). Clients find it at
            // /jndi/rmi://.../jmxrmi.
            RMIJRMPServerImpl rmiServer = new RMIJRMPServerImpl(port, clientSockets, sockets, env);
            JMXConnectorServer server = new RMIConnectorServer(
                    new JMXServiceURL("rmi", host, port), env, rmiServer, ManagementFactory.getPlatformMBeanServer());
            if (access != null) {
                server.setMBeanServerForwarder(JmxAccess.forwarder(access));
            }
            server.start();
            registry.rebind("jmxrmi", rmiServer.toStub());
            JmxConnector connector = new JmxConnector(registry, server, host + ":" + port);
            log.info(
                    "JMX connector on {}:{} ({}{}{}): jconsole {}:{}",
                    bind.getHostAddress(),
                    port,
                    passwordFile == null ? "no login" : "password file " + passwordFile,
                    access == null ? "" : ", access file " + protection.accessFile(),
                    protection.tls() ? ", TLS" : "",
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

    /**
     * Checks {@code [user, password]} against the password file (constant-time comparison); with an access file, only
     * the users it names get in.
     */
    private static final class PasswordFileAuthenticator implements JMXAuthenticator {
        private final Map<String, byte[]> passwords;
        private final Map<String, JmxAccess.Level> access;

        PasswordFileAuthenticator(Map<String, byte[]> passwords, Map<String, JmxAccess.Level> access) {
            this.passwords = passwords;
            this.access = access;
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
            if (access != null && !access.containsKey(c[0])) {
                log.warn("JMX login refused for user '{}': not in the access file", c[0]);
                throw new SecurityException("user '" + c[0] + "' has no JMX access");
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
        private final boolean tls;

        BoundSocketFactory(InetAddress address, boolean tls) {
            this.address = address;
            this.tls = tls;
        }

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return tls
                    ? SSLServerSocketFactory.getDefault().createServerSocket(port, 50, address)
                    : new ServerSocket(port, 50, address);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BoundSocketFactory f && f.address.equals(address) && f.tls == tls;
        }

        @Override
        public int hashCode() {
            return Objects.hash(address, tls);
        }
    }
}
