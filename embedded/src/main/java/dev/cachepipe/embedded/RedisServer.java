package dev.cachepipe.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code redis-server} process on a free loopback port with its own data directory, started and stopped by the
 * caller, so that fault tests can pause, kill and restart it.
 *
 * <p>The binary is {@code $CACHEPIPE_REDIS_SERVER} if set, else {@code redis-server} from the {@code PATH}. The
 * server keeps nothing on disk by itself ({@code --save '' --appendonly no}); {@link #stopKeepingData()} saves a
 * snapshot on shutdown that {@link #restart()} loads again. An older snapshot: {@code command("SAVE")}, later
 * {@link #kill()} and {@link #restart()}. A replica: {@code start(List.of("--replicaof", host, port))}, promoted with
 * {@code command("REPLICAOF", "NO", "ONE")}.
 */
public final class RedisServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisServer.class);

    private final int port;
    private final Path dir;
    private final List<String> extraArgs;
    private Process process;

    private final TlsFiles tls; // null: plain TCP

    private RedisServer(List<String> extraArgs) {
        this(extraArgs, null, false);
    }

    private RedisServer(List<String> extraArgs, TlsFiles tls, boolean requireClientCert) {
        this.port = FreePorts.next();
        this.dir = Files2.tempDir("cachepipe-redis-");
        List<String> args = new ArrayList<>(extraArgs);
        if (tls != null) {
            args.addAll(0, tls.redisServerArgs(port, requireClientCert)); // TLS only: --port 0 --tls-port PORT
        }
        this.extraArgs = List.copyOf(args);
        this.tls = tls;
    }

    /**
     * Starts a server that speaks TLS only ({@code --port 0 --tls-port}) with the certificates of {@code tls}; its
     * {@link #uri()} is {@code rediss://127.0.0.1:PORT} and {@link #command} goes through {@code redis-cli --tls}.
     */
    public static RedisServer startTls(TlsFiles tls, boolean requireClientCert, List<String> extraArgs) {
        RedisServer server = new RedisServer(extraArgs, tls, requireClientCert);
        server.launch();
        return server;
    }

    /** Starts a server on a free port. */
    public static RedisServer start() {
        return start(List.of());
    }

    /** Starts a server with extra {@code redis-server} arguments, e.g. {@code --requirepass secret}. */
    public static RedisServer start(List<String> extraArgs) {
        RedisServer server = new RedisServer(extraArgs);
        server.launch();
        return server;
    }

    /** The {@code redis-server} binary that {@link #start()} runs. */
    public static String binary() {
        String env = System.getenv("CACHEPIPE_REDIS_SERVER");
        return env == null || env.isBlank() ? "redis-server" : env;
    }

    /** Whether a {@code redis-server} binary can be started here. */
    public static boolean isAvailable() {
        try {
            Process p = new ProcessBuilder(binary(), "--version")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public int port() {
        return port;
    }

    public String host() {
        return "127.0.0.1";
    }

    /** {@code redis://127.0.0.1:PORT}, or {@code rediss://} for a TLS server (no credentials). */
    public String uri() {
        return (tls == null ? "redis://" : "rediss://") + "127.0.0.1:" + port;
    }

    /** The process id, while running. */
    public synchronized long pid() {
        requireRunning();
        return process.pid();
    }

    /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
    public synchronized void pause() {
        signal("STOP");
    }

    /** Thaws a paused process (SIGCONT). */
    public synchronized void resume() {
        signal("CONT");
    }

    /** Shuts the server down with {@code SHUTDOWN SAVE}, so {@link #restart()} comes back with the same data. */
    public synchronized void stopKeepingData() {
        requireRunning();
        command("SHUTDOWN", "SAVE");
        awaitExit();
    }

    /** Kills the process (SIGKILL); its data is lost unless it was saved before. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            awaitExit();
        }
    }

    /** Starts the server again on the same port and directory (loading {@code dump.rdb} if one was saved). */
    public synchronized void restart() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("redis-server on port " + port + " is still running");
        }
        launch();
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Sends one command and returns the raw RESP reply (for tests and tooling; not a client).
     *
     * @throws IllegalStateException if the server cannot be reached
     */
    public String command(String... args) {
        if (tls != null) {
            return tlsCommand(args);
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host(), port), 2000);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
            for (String a : args) {
                byte[] b = a.getBytes(StandardCharsets.UTF_8);
                sb.append('$').append(b.length).append("\r\n").append(a).append("\r\n");
            }
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[8192];
            int n = in.read(buf);
            return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("redis-server on port " + port + " is not reachable: " + e.getMessage(), e);
        }
    }

    /** {@code redis-cli --tls} with the client certificate; its output as text (not RESP). */
    private String tlsCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                "redis-cli",
                "--tls",
                "--cacert",
                tls.caCert().toString(),
                "--cert",
                tls.clientCert().toString(),
                "--key",
                tls.clientKey().toString(),
                "-h",
                host(),
                "-p",
                Integer.toString(port)));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run redis-cli --tls: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public synchronized void close() {
        if (process != null && process.isAlive()) {
            resumeQuietly();
            process.destroyForcibly();
            awaitExit();
        }
        Files2.deleteRecursively(dir);
    }

    private void launch() {
        List<String> cmd = new ArrayList<>(List.of(
                binary(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString(),
                "--dbfilename",
                "dump.rdb",
                "--daemonize",
                "no",
                "--protected-mode",
                "no"));
        cmd.addAll(extraArgs);
        try {
            process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(
                            dir.resolve("redis.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot start '" + binary() + "': install redis-server (Debian: apt-get"
                            + " install redis-server) or set CACHEPIPE_REDIS_SERVER to its path",
                    e);
        }
        try {
            awaitListening(Duration.ofSeconds(20));
        } catch (RuntimeException e) {
            process.destroyForcibly();
            awaitExit();
            throw e;
        }
        log.debug("redis-server pid {} listening on port {}", process.pid(), port);
    }

    private void awaitListening(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + process.exitValue() + ": " + logTail());
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host(), port), 200);
                // Accepting connections; with a loaded dump the server may still be loading, which clients retry.
                return;
            } catch (IOException e) {
                sleep(20);
            }
        }
        throw new IllegalStateException("redis-server did not listen on port " + port + " within " + timeout);
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("redis.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private void awaitExit() {
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void signal(String sig) {
        requireRunning();
        try {
            Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + sig + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot signal redis-server", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void resumeQuietly() {
        try {
            signal("CONT");
        } catch (RuntimeException e) {
            // not paused or already gone
        }
    }

    private void requireRunning() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("redis-server on port " + port + " is not running");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for redis-server", e);
        }
    }
}
