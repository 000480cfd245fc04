package dev.cachepipe.app.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional HTTP endpoint for orchestrators and scrapers, on the JDK's HTTP server:
 *
 * <ul>
 *   <li>{@code GET /health}: 200 {@code {"status":"UP","reason":"ok",...}} while healthy, 503 {@code
 *       {"status":"DOWN","reason":"Redis unavailable: ..."}} while degraded; also says whether a rebuild runs.
 *   <li>{@code GET /metrics}: every meter in Prometheus text format (plus JVM meters).
 * </ul>
 */
final class HttpEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpEndpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;

    private HttpEndpoint(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static HttpEndpoint start(
            String host, int port, Supplier<HealthMonitor.Status> health, PrometheusMeterRegistry prometheus) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the HTTP endpoint on " + host + ":" + port + ": " + e, e);
        }
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "cachepipe-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/health", ex -> handle(ex, () -> health(ex, health.get())));
        server.createContext(
                "/metrics",
                ex -> handle(ex, () -> {
                    byte[] body = prometheus.scrape().getBytes(StandardCharsets.UTF_8);
                    respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", body);
                }));
        server.createContext(
                "/",
                ex -> handle(
                        ex,
                        () -> respond(
                                ex,
                                404,
                                "text/plain; charset=utf-8",
                                "try /health or /metrics\n".getBytes(StandardCharsets.UTF_8))));
        server.start();
        HttpEndpoint endpoint = new HttpEndpoint(server, executor);
        log.info("HTTP endpoint on http://{}:{}/ (/health, /metrics)", host, endpoint.port());
        return endpoint;
    }

    int port() {
        return server.getAddress().getPort();
    }

    private interface Handler {
        void run() throws IOException;
    }

    private static void handle(HttpExchange ex, Handler handler) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(ex, 405, "text/plain; charset=utf-8", "use GET\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            handler.run();
        } catch (RuntimeException e) {
            log.warn("HTTP request {} failed: {}", ex.getRequestURI(), e.toString());
            respond(ex, 500, "text/plain; charset=utf-8", "internal error\n".getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void health(HttpExchange ex, HealthMonitor.Status s) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("status", s.up() ? "UP" : "DOWN");
        body.put("reason", s.reason());
        ObjectNode rebuild = body.putObject("rebuild");
        rebuild.put("active", s.rebuilding());
        s.rebuild().ifPresent(p -> {
            rebuild.put("progress", Math.round(p.fraction() * 1000) / 1000.0);
            rebuild.put("recordsRead", p.read());
            rebuild.put("recordsTotal", p.total());
        });
        respond(
                ex,
                s.up() ? 200 : 503,
                "application/json",
                (JSON.writeValueAsString(body) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void respond(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
