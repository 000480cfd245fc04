package dev.cachepipe.schemas;

import dev.cachepipe.schemas.internal.PemTls;
import dev.cachepipe.schemas.internal.RegistryHttp;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writer schemas from a Schema Registry's REST API (Confluent's, or a compatible one: Apicurio's {@code ccompat} API,
 * Karapace, Redpanda): {@code GET /schemas/ids/{id}}, and {@code POST /subjects/{subject}/versions} to register one.
 * Basic authentication and TLS (a private CA, a client certificate) are options.
 *
 * <p>Schemas are cached for the life of the process: an id names one schema for good. Only a registry that answers
 * {@code 404} with error code {@code 40403} ("Schema not found") makes an id unknown; anything else that is not an
 * answer (no connection, a timeout, {@code 5xx}, {@code 401}/{@code 403}, an unexpected page) is an outage, and the
 * call waits for the registry with exponential backoff for at most {@link Options#maxWait()} before it throws {@link
 * SchemaRegistryUnavailableException}. Neither the password nor a URL with credentials is ever logged.
 */
public final class SchemaRegistryClient implements SchemaSource {
    private static final Logger log = LoggerFactory.getLogger(SchemaRegistryClient.class);

    /**
     * Where the registry is and how long to wait for it.
     *
     * @param url base URL, e.g. {@code https://registry:8081} or {@code http://apicurio:8080/apis/ccompat/v7}; no
     *     credentials in it
     * @param username basic authentication user, or empty
     * @param password basic authentication password, or empty
     * @param caFile PEM CA certificates to trust for {@code https} (a private CA), or {@code null} for the JDK's
     * @param certFile PEM client certificate chain for registries that require one, or {@code null}
     * @param keyFile its unencrypted PKCS#8 PEM key, or {@code null}
     * @param requestTimeout how long one request may take
     * @param maxWait how long one lookup waits for a registry that does not answer before giving up
     * @param retryBackoffMin first pause between attempts
     * @param retryBackoffMax longest pause between attempts
     */
    public record Options(
            URI url,
            String username,
            String password,
            Path caFile,
            Path certFile,
            Path keyFile,
            Duration requestTimeout,
            Duration maxWait,
            Duration retryBackoffMin,
            Duration retryBackoffMax) {

        public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
        public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(60);
        public static final Duration DEFAULT_RETRY_BACKOFF_MIN = Duration.ofMillis(100);
        public static final Duration DEFAULT_RETRY_BACKOFF_MAX = Duration.ofSeconds(5);

        /** Validates every field; messages name the field, the value (never a password) and what is allowed. */
        public Options {
            Objects.requireNonNull(url, "url");
            if (!"http".equalsIgnoreCase(url.getScheme()) && !"https".equalsIgnoreCase(url.getScheme())) {
                throw new IllegalArgumentException(
                        "url must be an http:// or https:// URL but was " + Redact.uri(url.toString()));
            }
            if (url.getRawUserInfo() != null) {
                throw new IllegalArgumentException("url must not contain credentials but was "
                        + Redact.uri(url.toString()) + "; set the username and password instead");
            }
            if (url.getHost() == null) {
                throw new IllegalArgumentException("url must name a host but was " + url);
            }
            username = username == null ? "" : username;
            password = password == null ? "" : password;
            if (username.isEmpty() != password.isEmpty()) {
                throw new IllegalArgumentException("username and password must both be set for basic authentication,"
                        + " or neither, but only the " + (username.isEmpty() ? "password" : "username") + " was");
            }
            if ((certFile == null) != (keyFile == null)) {
                throw new IllegalArgumentException(
                        "certFile and keyFile must both be set for a client certificate," + " or neither");
            }
            requirePositive("requestTimeout", requestTimeout);
            requirePositive("maxWait", maxWait);
            requirePositive("retryBackoffMin", retryBackoffMin);
            requirePositive("retryBackoffMax", retryBackoffMax);
            if (retryBackoffMax.compareTo(retryBackoffMin) < 0) {
                throw new IllegalArgumentException("retryBackoffMax must be >= retryBackoffMin (" + retryBackoffMin
                        + ") but was " + retryBackoffMax);
            }
        }

        /** A registry at {@code url} without authentication or TLS settings, with the default timeouts. */
        public static Options of(String url) {
            return new Options(
                    URI.create(url),
                    "",
                    "",
                    null,
                    null,
                    null,
                    DEFAULT_REQUEST_TIMEOUT,
                    DEFAULT_MAX_WAIT,
                    DEFAULT_RETRY_BACKOFF_MIN,
                    DEFAULT_RETRY_BACKOFF_MAX);
        }

        /** A copy with basic authentication. */
        public Options withBasicAuth(String user, String pass) {
            return new Options(
                    url,
                    user,
                    pass,
                    caFile,
                    certFile,
                    keyFile,
                    requestTimeout,
                    maxWait,
                    retryBackoffMin,
                    retryBackoffMax);
        }

        /** A copy with TLS material (any may be {@code null}). */
        public Options withTls(Path ca, Path cert, Path key) {
            return new Options(
                    url, username, password, ca, cert, key, requestTimeout, maxWait, retryBackoffMin, retryBackoffMax);
        }

        /** A copy with these timeouts. */
        public Options withTimeouts(Duration request, Duration wait, Duration backoffMin, Duration backoffMax) {
            return new Options(
                    url, username, password, caFile, certFile, keyFile, request, wait, backoffMin, backoffMax);
        }

        private static void requirePositive(String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be a positive duration but was " + d);
            }
        }

        @Override
        public String toString() {
            return "SchemaRegistry[url=" + url + ", username=" + username + ", password="
                    + (password.isEmpty() ? "" : "****") + ", caFile=" + caFile + ", certFile=" + certFile
                    + ", keyFile=" + keyFile + ", requestTimeout=" + requestTimeout + ", maxWait=" + maxWait
                    + ", retryBackoff=" + retryBackoffMin + ".." + retryBackoffMax + "]";
        }
    }

    private final Options options;
    private final RegistryHttp http;
    private final Map<Integer, Schema> byId = new ConcurrentHashMap<>();
    private final LongAdder retries = new LongAdder();
    private volatile String unavailable; // why the last attempt failed, while it does; null when it answers
    private volatile long unavailableSince;

    private SchemaRegistryClient(Options options) {
        this.options = options;
        this.http = new RegistryHttp(
                options.url(),
                options.username(),
                options.password(),
                PemTls.sslContext(options.caFile(), options.certFile(), options.keyFile()),
                options.requestTimeout());
    }

    /** A client for the registry that {@code options} describe; nothing is contacted yet. */
    public static SchemaRegistryClient create(Options options) {
        return new SchemaRegistryClient(Objects.requireNonNull(options, "options"));
    }

    public Options options() {
        return options;
    }

    @Override
    public Schema schema(int id) {
        Schema known = byId.get(id);
        if (known != null) {
            return known;
        }
        Schema schema = withRetries("schema id " + id, () -> http.schemaById(id));
        Schema raced = byId.putIfAbsent(id, schema);
        return raced != null ? raced : schema;
    }

    /**
     * Registers {@code schema} under {@code subject} (e.g. {@code <topic>-value}) and returns its id; registering a
     * schema the subject already has returns its existing id.
     *
     * @throws IllegalStateException the registry refused it (incompatible with the subject's versions, invalid)
     * @throws SchemaRegistryUnavailableException the registry did not answer within {@link Options#maxWait()}
     */
    public int register(String subject, Schema schema) {
        int id = withRetries("registering a schema under " + subject, () -> http.register(subject, schema));
        byId.putIfAbsent(id, schema);
        return id;
    }

    /** Failed attempts so far (each one waited and tried again). */
    public long retries() {
        return retries.sum();
    }

    /** Why the registry did not answer the last attempt, while it does not. */
    public Optional<String> unavailableReason() {
        return Optional.ofNullable(unavailable);
    }

    @Override
    public String describe() {
        return "the schema registry at " + options.url();
    }

    /** The one retry loop: calls {@code call} until it answers, backing off, for at most {@code maxWait}. */
    private <R> R withRetries(String what, RegistryHttp.Call<R> call) {
        long deadline = System.nanoTime() + options.maxWait().toNanos();
        long backoff = options.retryBackoffMin().toNanos();
        while (true) {
            try {
                R result = call.run();
                available();
                return result;
            } catch (RegistryHttp.NoAnswer e) {
                retries.increment();
                unavailable(e.getMessage());
                long now = System.nanoTime();
                if (now + backoff - deadline > 0) {
                    throw new SchemaRegistryUnavailableException(
                            describe() + " did not answer within "
                                    + options.maxWait().toMillis() + " ms (" + what + "): " + e.getMessage(),
                            null);
                }
                try {
                    TimeUnit.NANOSECONDS.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new SchemaRegistryUnavailableException(
                            "interrupted while waiting for " + describe() + " (" + what + ")", ie);
                }
                backoff = Math.min(backoff * 2, options.retryBackoffMax().toNanos());
            }
        }
    }

    private void unavailable(String reason) {
        if (unavailable == null) {
            unavailableSince = System.nanoTime();
            log.warn("Schema registry unavailable, records that need it wait: {} ({})", reason, options.url());
        }
        unavailable = reason;
    }

    private void available() {
        if (unavailable != null) {
            unavailable = null;
            log.info(
                    "Schema registry available again after {} ms ({})",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - unavailableSince),
                    options.url());
        }
    }
}
