package dev.cachepipe.schemas.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cachepipe.schemas.IncompatibleSchemaException;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.UnknownSchemaException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;

/**
 * The two calls of Confluent's Schema Registry REST API that cachepipe makes, one attempt each; waiting and retrying
 * is the caller's ({@code SchemaRegistryClient}). An answer that is not one is a {@link NoAnswer}.
 */
public final class RegistryHttp {
    /** Confluent's error code for "Schema not found" (HTTP 404). */
    public static final int SCHEMA_NOT_FOUND = 40403;

    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final String ACCEPT =
            "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One attempt of a call. */
    @FunctionalInterface
    public interface Call<R> {
        R run() throws NoAnswer;
    }

    /** The registry did not answer this attempt (no connection, a timeout, 5xx, refused credentials, not its API). */
    public static final class NoAnswer extends Exception {
        private static final long serialVersionUID = 1L;

        NoAnswer(String message) {
            super(message, null, false, false);
        }
    }

    private final String base;
    private final String authorization;
    private final HttpClient http;
    private final Duration requestTimeout;

    public RegistryHttp(URI url, String username, String password, SSLContext ssl, Duration requestTimeout) {
        String u = url.toString();
        this.base = u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
        this.authorization = username.isEmpty()
                ? null
                : "Basic "
                        + Base64.getEncoder()
                                .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
        HttpClient.Builder b =
                HttpClient.newBuilder().connectTimeout(requestTimeout).followRedirects(HttpClient.Redirect.NORMAL);
        if (ssl != null) {
            b.sslContext(ssl);
        }
        this.http = b.build();
        this.requestTimeout = requestTimeout;
    }

    /** {@code GET /schemas/ids/{id}}: the schema, parsed. */
    public Schema schemaById(int id) throws NoAnswer {
        HttpResponse<String> r =
                send(request("/schemas/ids/" + Integer.toUnsignedString(id)).GET());
        if (r.statusCode() == 200) {
            JsonNode body = json(r);
            JsonNode type = body.get("schemaType");
            if (type != null && !type.isNull() && !"AVRO".equalsIgnoreCase(type.asText())) {
                throw new IncompatibleSchemaException(
                        "schema id " + id + " in the registry is a " + type.asText() + " schema, not Avro", null);
            }
            JsonNode text = body.get("schema");
            if (text == null || !text.isTextual()) {
                throw new NoAnswer("GET /schemas/ids/" + id + " answered 200 without a \"schema\" string");
            }
            try {
                return new Schema.Parser().parse(text.asText());
            } catch (AvroRuntimeException e) { // SchemaParseException, AvroTypeException (an undefined type)
                JsonNode refs = body.get("references");
                throw new IncompatibleSchemaException(
                        "schema id " + id + " in the registry is not an Avro schema cachepipe can parse"
                                + (refs != null && refs.size() > 0
                                        ? " (it uses schema references, which cachepipe does not follow)"
                                        : "")
                                + ": " + e.getMessage(),
                        null);
            }
        }
        if (r.statusCode() == 404 && errorCode(r) == SCHEMA_NOT_FOUND) {
            throw new UnknownSchemaException(
                    "unknown writer schema: the schema registry has no schema with id " + id + " (error 40403)", null);
        }
        throw noAnswer("GET /schemas/ids/" + id, r);
    }

    /** {@code POST /subjects/{subject}/versions}: the id of {@code schema} under {@code subject}. */
    public int register(String subject, Schema schema) throws NoAnswer {
        ObjectNode body = JSON.createObjectNode().put("schema", schema.toString());
        String path = "/subjects/"
                + URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20") + "/versions";
        HttpResponse<String> r = send(request(path)
                .header("Content-Type", CONTENT_TYPE)
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8)));
        if (r.statusCode() == 200) {
            JsonNode id = json(r).get("id");
            if (id == null || !id.canConvertToInt()) {
                throw new NoAnswer("POST " + path + " answered 200 without an \"id\"");
            }
            return id.asInt();
        }
        if (r.statusCode() == 409 || r.statusCode() == 422) {
            throw new IllegalStateException("the schema registry refused the schema under subject " + subject
                    + ": HTTP " + r.statusCode() + " " + message(r));
        }
        throw noAnswer("POST " + path, r);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(requestTimeout)
                .header("Accept", ACCEPT);
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b;
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws NoAnswer {
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new NoAnswer(Redact.describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NoAnswer("interrupted");
        }
    }

    private static NoAnswer noAnswer(String call, HttpResponse<String> r) {
        int status = r.statusCode();
        String why = status == 401 || status == 403
                ? " (the registry refused cachepipe's credentials: check schemas.registry.username and password)"
                : status == 404 ? " (not the Schema Registry API: check schemas.registry.url)" : "";
        return new NoAnswer(call + " answered HTTP " + status + why + ": " + message(r));
    }

    private static JsonNode json(HttpResponse<String> r) throws NoAnswer {
        try {
            JsonNode n = JSON.readTree(r.body());
            if (n == null || !n.isObject()) {
                throw new NoAnswer("the registry answered something other than a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new NoAnswer("the registry answered something other than JSON: " + e.getMessage());
        }
    }

    private static int errorCode(HttpResponse<String> r) {
        try {
            JsonNode n = JSON.readTree(r.body());
            return n != null && n.has("error_code") ? n.get("error_code").asInt() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    private static String message(HttpResponse<String> r) {
        String body = r.body() == null ? "" : r.body().strip();
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.has("message")) {
                return n.get("message").asText();
            }
        } catch (IOException e) {
            // not JSON: show the start of it
        }
        return body.length() > 200 ? body.substring(0, 200) + "..." : body;
    }
}
