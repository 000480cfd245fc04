package dev.cachepipe.app.ops;

import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AccessController;
import java.security.Principal;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.remote.JMXPrincipal;
import javax.management.remote.MBeanServerForwarder;
import javax.security.auth.Subject;

/**
 * The access file of {@code --jmx-access-file}, in the JDK's {@code jmxremote.access} format ({@code user
 * readonly|readwrite} per line, {@code #} comments), and the {@link MBeanServerForwarder} that enforces it: a
 * read-only user may read attributes, MBean info and names and listen to notifications, but not set attributes,
 * invoke operations (a heap dump is one), create or unregister MBeans. Users the file does not name are refused at
 * login ({@link JmxConnector}).
 */
final class JmxAccess {
    /** What a user may do. */
    enum Level {
        READONLY,
        READWRITE
    }

    /** The {@link javax.management.MBeanServerConnection} methods that change something. */
    private static final Set<String> WRITES =
            Set.of("setAttribute", "setAttributes", "invoke", "createMBean", "unregisterMBean");

    private JmxAccess() {}

    /** Reads an access file. */
    static Map<String, Level> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the JMX access file " + file + ": " + e, e);
        }
        Map<String, Level> out = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            Level level = parts.length == 2 ? level(parts[1]) : null;
            if (level == null) {
                throw new IllegalStateException("the JMX access file " + file + ", line " + (i + 1)
                        + ": expected 'user readonly' or 'user readwrite'");
            }
            out.put(parts[0], level);
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("the JMX access file " + file + " names no user");
        }
        return Map.copyOf(out);
    }

    private static Level level(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "readonly" -> Level.READONLY;
            case "readwrite" -> Level.READWRITE;
            default -> null;
        };
    }

    /** A forwarder that lets read-only users read only. */
    static MBeanServerForwarder forwarder(Map<String, Level> access) {
        return (MBeanServerForwarder) Proxy.newProxyInstance(
                JmxAccess.class.getClassLoader(), new Class<?>[] {MBeanServerForwarder.class}, new Guard(access));
    }

    private static final class Guard implements InvocationHandler {
        private final Map<String, Level> access;
        private volatile MBeanServer target;

        Guard(Map<String, Level> access) {
            this.access = access;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "getMBeanServer":
                    return target;
                case "setMBeanServer":
                    target = (MBeanServer) args[0];
                    return null;
                default:
                    break;
            }
            if (WRITES.contains(method.getName()) && !mayWrite()) {
                throw new SecurityException("JMX access denied: read-only user may not " + method.getName());
            }
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }

        /** Whether the user the connector authenticated for this call may write. */
        @SuppressWarnings("removal") // the JDK's own access controller reads the subject the same way on Java 17
        private boolean mayWrite() {
            Subject subject = Subject.getSubject(AccessController.getContext());
            if (subject == null) {
                return false;
            }
            for (Principal p : subject.getPrincipals(JMXPrincipal.class)) {
                if (access.get(p.getName()) == Level.READWRITE) {
                    return true;
                }
            }
            return false;
        }
    }
}
