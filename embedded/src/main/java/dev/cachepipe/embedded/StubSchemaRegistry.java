package dev.cachepipe.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * An in-process stand-in for a Schema Registry, on the JDK's HTTP server, answering the part of <a
 * href="https://docs.confluent.io/platform/current/schema-registry/develop/api.html">Confluent's documented REST
 * API</a> that cachepipe and {@code KafkaAvroSerializer} use. No registry server can be installed here, so the demo
 * and the tests use this stub; it is not a registry (no compatibility checks, no persistence, no contexts).
 *
 * <ul>
 *   <li>{@code GET /schemas/ids/{id}}: {@code 200 {"schema": "..."}}, or {@code 404 {"error_code": 40403, "message":
 *       "Schema not found"}}
 *   <li>{@code POST /subjects/{subject}/versions} with {@code {"schema": "..."}}: {@code 200 {"id": N}}, the same id
 *       for the same schema (compared in Avro's canonical form, as the registry does), or {@code 422 {"error_code":
 *       42201, "message": "Invalid schema"}}
 *   <li>{@code GET /subjects}: the subjects, as a JSON array
 *   <li>with a user and password, a request without them gets {@code 401 {"error_code": 401, "message": "Unauthorized"}}
 * </ul>
 *
 * <p>{@link #stop()} and {@link #restart()} stage an outage (connections refused meanwhile) on the same port, with the
 * same schemas. Ids start at 1.
 */
public final class StubSchemaRegistry implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SCHEMA_BY_ID = Pattern.compile("/schemas/ids/(\\d+)/?");
    private static final Pattern REGISTER = Pattern.compile("/subjects/([^/]+)/versions/?");
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private final int port;
    private final String authorization;
    private final Map<Integer, String> schemas = new ConcurrentHashMap<>();
    private final Map<String, Integer> idsByCanonical = new ConcurrentHashMap<>();
    private final Map<String, List<Integer>> subjects = new LinkedHashMap<>();
    private final Map<Integer, AtomicLong> lookups = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private int nextId = 1;
    private HttpServer server;
    private java.util.concurrent.ExecutorService executor;

    private StubSchemaRegistry(int port, String username, String password) {
        this.port = port;
        this.authorization = username == null
                ? null
                : "Basic "
                        + Base64.getEncoder()
                                .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** A registry without authentication on a free loopback port. */
    public static StubSchemaRegistry start() {
        return start(null, null);
    }

    /** A registry that requires basic authentication as {@code username}/{@code password} (both {@code null}: none). */
    public static StubSchemaRegistry start(String username, String password) {
        StubSchemaRegistry r = new StubSchemaRegistry(FreePorts.next(), username, password);
        r.restart();
        return r;
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** Registers {@code schema} under {@code subject} as a producer would; returns its id. */
    public synchronized int register(String subject, String schema) {
        String canonical = canonical(schema);
        Integer id = idsByCanonical.get(canonical);
        if (id == null) {
            id = nextId++;
            idsByCanonical.put(canonical, id);
            schemas.put(id, schema);
        }
        List<Integer> versions = subjects.computeIfAbsent(subject, s -> new ArrayList<>());
        if (!versions.contains(id)) {
            versions.add(id);
        }
        return id;
    }

    /** Stores {@code schema} text under {@code id} as it is, unchecked (to stage what a registry could hold). */
    public synchronized void put(int id, String schema) {
        schemas.put(id, schema);
        nextId = Math.max(nextId, id + 1);
    }

    /** The subjects registered so far, in order. */
    public synchronized List<String> subjects() {
        return List.copyOf(subjects.keySet());
    }

    /** How many times {@code GET /schemas/ids/{id}} was asked for this id (answered or not). */
    public long lookups(int id) {
        AtomicLong n = lookups.get(id);
        return n == null ? 0 : n.get();
    }

    /** Requests served so far. */
    public long requests() {
        return requests.get();
    }

    /** Stops answering: connections are refused until {@link #restart()}. */
    public synchronized void stop() {
        if (server != null) {
            server.stop(0);
            server = null;
            executor.shutdownNow();
        }
    }

    /** Listens again on the same port, with the same schemas. */
    public synchronized void restart() {
        if (server != null) {
            return;
        }
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            s.createContext("/", this::handle);
            executor = Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "stub-schema-registry-" + port);
                t.setDaemon(true);
                return t;
            });
            s.setExecutor(executor);
            s.start();
            server = s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on port " + port, e);
        }
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        try (exchange) {
            if (authorization != null
                    && !authorization.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                reply(exchange, 401, error(401, "Unauthorized"));
                return;
            }
            String path = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            Matcher byId = SCHEMA_BY_ID.matcher(path);
            Matcher register = REGISTER.matcher(path);
            if (method.equals("GET") && byId.matches()) {
                int id = Integer.parseInt(byId.group(1));
                lookups.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
                String schema = schemas.get(id);
                if (schema == null) {
                    reply(exchange, 404, error(40403, "Schema not found"));
                } else {
                    reply(
                            exchange,
                            200,
                            JSON.createObjectNode().put("schema", schema).toString());
                }
            } else if (method.equals("POST") && register.matches()) {
                String subject = URLDecoder.decode(register.group(1), StandardCharsets.UTF_8);
                JsonNode body = JSON.readTree(exchange.getRequestBody());
                JsonNode schema = body == null ? null : body.get("schema");
                if (schema == null || !schema.isTextual()) {
                    reply(exchange, 422, error(42201, "Invalid schema"));
                    return;
                }
                int id;
                try {
                    id = register(subject, schema.asText());
                } catch (SchemaParseException e) {
                    reply(exchange, 422, error(42201, "Invalid schema: " + e.getMessage()));
                    return;
                }
                reply(exchange, 200, JSON.createObjectNode().put("id", id).toString());
            } else if (method.equals("GET") && (path.equals("/subjects") || path.equals("/subjects/"))) {
                List<String> names;
                synchronized (this) {
                    names = new ArrayList<>(subjects.keySet());
                }
                reply(exchange, 200, JSON.writeValueAsString(names));
            } else {
                reply(exchange, 404, error(404, "HTTP 404 Not Found"));
            }
        } catch (RuntimeException e) {
            reply(exchange, 500, error(50001, "Error in the backend data store: " + e));
        }
    }

    private static String canonical(String schema) {
        return new Schema.Parser().parse(schema).toString();
    }

    private static String error(int code, String message) {
        return JSON.createObjectNode()
                .put("error_code", code)
                .put("message", message)
                .toString();
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        stop();
    }
}
