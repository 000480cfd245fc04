package dev.cachepipe.app.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.schemas.SchemaRegistryClient;
import dev.cachepipe.schemas.SchemaSource;
import dev.cachepipe.schemas.WireFormat;
import dev.cachepipe.schemas.internal.Incompatibilities;
import dev.cachepipe.support.redis.RedisMode;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.support.redis.RedisTls;
import dev.cachepipe.topology.CacheMode;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.topology.EventDecoding;
import dev.cachepipe.topology.TopologyConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * The whole cachepipe configuration, read from YAML with {@code ${ENV:-default}} substitution and validated at
 * start-up: every error names the key, the value and what is allowed. See {@code config/cachepipe.yaml} and the
 * README's configuration reference.
 */
public record CachepipeConfig(
        Kafka kafka,
        Redis redis,
        Topics topics,
        Writer writer,
        Topology topology,
        Map<String, EntityPolicy> entities,
        List<Schema> domainEventWriterSchemas,
        Decoding decoding) {

    /** The value of {@code bootstrapServers} and {@code uri} that starts an in-process broker / a local Redis. */
    public static final String EMBEDDED = "embedded";

    /** Name of the default configuration bundled in the jar (a copy of {@code config/cachepipe.yaml}). */
    public static final String DEFAULT_RESOURCE = "cachepipe.yaml";

    /** Where the build puts it (app/pom.xml copies config/cachepipe.yaml to this class-path location). */
    private static final String DEFAULT_RESOURCE_PATH = "/dev/cachepipe/app/" + DEFAULT_RESOURCE;

    public CachepipeConfig {
        entities = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(entities));
        domainEventWriterSchemas = List.copyOf(domainEventWriterSchemas);
    }

    /**
     * How domain events are framed and where the writer schemas of Confluent-format records come from.
     *
     * @param format {@code schemas.format}: the wire format of entity types without their own
     * @param entityFormats the wire format of every entity type ({@code entities.<type>.format}, else {@code format})
     * @param registry {@code schemas.registry.*} when {@code schemas.registry.url} is set, else {@code null}
     * @param registryDirectory {@code schemas.registry.directory} (files {@code <id>.avsc}), else {@code null}
     */
    public record Decoding(
            WireFormat format,
            Map<String, WireFormat> entityFormats,
            SchemaRegistryClient.Options registry,
            Path registryDirectory) {
        public Decoding {
            entityFormats = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(entityFormats));
        }

        /** Whether a registry or a schema directory is configured. */
        public boolean hasSchemaSource() {
            return registry != null || registryDirectory != null;
        }
    }

    /**
     * Kafka connection and Streams settings.
     *
     * @param instanceId this instance's static group membership id ({@code group.instance.id}: Kafka Streams derives
     *     one per stream thread from it, the writer uses {@code <instanceId>-writer}), or empty for dynamic membership
     * @param sessionTimeout how long the group waits for a silent member (Streams and the writer) before others take
     *     over its partitions
     */
    public record Kafka(
            String bootstrapServers,
            String applicationId,
            Map<String, String> properties,
            Path stateDir,
            String instanceId,
            Duration sessionTimeout) {
        public Kafka {
            properties = Map.copyOf(properties);
        }

        /** Whether this instance is a static group member ({@link #instanceId()} is set). */
        public boolean staticMembership() {
            return !instanceId.isEmpty();
        }

        public boolean embedded() {
            return EMBEDDED.equals(bootstrapServers);
        }

        @Override
        public String toString() {
            return "Kafka[bootstrapServers=" + bootstrapServers + ", applicationId=" + applicationId + ", properties="
                    + Redact.properties(properties) + ", stateDir=" + stateDir + ", instanceId=" + instanceId
                    + ", sessionTimeout=" + sessionTimeout + "]";
        }
    }

    /** Redis connection settings; {@link #toString()} never shows a password. */
    public record Redis(
            String uri,
            String username,
            String password,
            String keyPrefix,
            Duration timeout,
            RedisMode mode,
            RedisTls tls) {
        public boolean embedded() {
            return EMBEDDED.equals(uri);
        }

        @Override
        public String toString() {
            return "Redis[uri=" + Redact.uri(uri) + ", username=" + username + ", password="
                    + (password == null || password.isEmpty() ? "" : "****") + ", keyPrefix=" + keyPrefix
                    + ", timeout=" + timeout + ", mode=" + mode.configName() + ", tls=" + tls + "]";
        }
    }

    /** Topic names and the settings of the topics that cachepipe creates. */
    public record Topics(
            String mutations, String invalidations, String deadLetter, int partitions, short replicationFactor) {}

    /**
     * Cache writer tuning and self-healing.
     *
     * @param selfHealing whether the writer rebuilds Redis from the mutations topic by itself when Redis has lost
     *     its data (it checks the marker {@code <keyPrefix>:@cachepipe})
     * @param markerCheckInterval how often it checks the marker (also at start-up and after every Redis outage)
     */
    public record Writer(
            int maxBatchSize,
            Duration retryBackoffMin,
            Duration retryBackoffMax,
            boolean selfHealing,
            Duration markerCheckInterval) {}

    /**
     * Topology settings.
     *
     * @param versionRetention how long the highest emitted version of a key is remembered after it was last raised
     * @param maxFutureSkew how far ahead of the clock a record timestamp may move the stream time of that retention
     */
    public record Topology(Duration versionRetention, Duration maxFutureSkew) {}

    /**
     * {@code $TMPDIR/cachepipe-state/<hash of bootstrapServers>}: two installations on one machine that talk to
     * different Kafka clusters never share local state by accident (Kafka Streams adds the application id below it).
     */
    static String defaultStateDir(String bootstrapServers) {
        try {
            byte[] sha = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(bootstrapServers.getBytes(StandardCharsets.UTF_8));
            String hash = java.util.HexFormat.of().formatHex(sha, 0, 6);
            return Path.of(System.getProperty("java.io.tmpdir"), "cachepipe-state", hash)
                    .toString();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The configuration bundled in the jar ({@code config/cachepipe.yaml}), with the process environment. */
    public static CachepipeConfig defaults() {
        try (InputStream in = CachepipeConfig.class.getResourceAsStream(DEFAULT_RESOURCE_PATH)) {
            if (in == null) {
                throw new IllegalStateException("bundled " + DEFAULT_RESOURCE + " is missing from the jar");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), System.getenv());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled " + DEFAULT_RESOURCE, e);
        }
    }

    /** Reads and validates a YAML file, substituting from the process environment. */
    public static CachepipeConfig load(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            return parse(Files.readString(file), System.getenv(), dir == null ? Path.of("") : dir);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
    }

    /** Parses and validates YAML text; {@code env} supplies {@code ${NAME}} values. */
    public static CachepipeConfig parse(String yaml, Map<String, String> env) {
        return parse(yaml, env, Path.of(""));
    }

    /** As {@link #parse(String, Map)}; files named in the configuration are relative to {@code baseDir}. */
    public static CachepipeConfig parse(String yaml, Map<String, String> env, Path baseDir) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new ConfigException("the configuration is not valid YAML: " + e.getOriginalMessage() + " at line "
                    + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()));
        }
        Section top = new Section("", root, env);
        top.allowOnly("kafka", "redis", "topics", "writer", "topology", "entities", "schemas");

        Section k = top.section("kafka");
        k.allowOnly("bootstrapServers", "applicationId", "properties", "stateDir", "instanceId", "sessionTimeout");
        String applicationId = k.nonBlank("applicationId", "cachepipe");
        if (!applicationId.matches("[A-Za-z0-9._-]+")) {
            throw new ConfigException(k.key("applicationId"), applicationId, "allowed characters: A-Z a-z 0-9 . _ -");
        }
        Map<String, String> kafkaProperties = k.stringMap("properties");
        Kafka kafka = new Kafka(
                k.nonBlank("bootstrapServers", EMBEDDED),
                applicationId,
                kafkaProperties,
                Path.of(k.nonBlank("stateDir", defaultStateDir(k.nonBlank("bootstrapServers", EMBEDDED)))),
                k.string("instanceId", "").strip(),
                k.duration("sessionTimeout", "10s"));
        validateMembership(k, kafka);

        Section r = top.section("redis");
        r.allowOnly("uri", "username", "password", "keyPrefix", "timeout", "mode", "tls");
        String uri = r.nonBlank("uri", EMBEDDED);
        if (!uri.equals(EMBEDDED) && !isRedisUri(uri)) {
            throw new ConfigException(
                    r.key("uri"),
                    Redact.uri(uri),
                    "use 'embedded' or a URI redis://host:port, rediss://host:port (TLS), or several cluster seeds"
                            + " separated by commas; percent-encode special characters of a password, or set"
                            + " redis.password instead");
        }
        String keyPrefix = r.nonBlank("keyPrefix", RedisLayout.DEFAULT_PREFIX);
        if (!RedisLayout.isValidPrefix(keyPrefix)) {
            throw new ConfigException(
                    r.key("keyPrefix"), keyPrefix, "use letters, digits and . _ - { }, segments separated by ':'");
        }
        String modeValue = r.nonBlank("mode", "auto");
        RedisMode mode;
        try {
            mode = RedisMode.parse(modeValue);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(r.key("mode"), modeValue, "use auto, standalone or cluster");
        }
        if (mode == RedisMode.CLUSTER && (keyPrefix.contains("{") || keyPrefix.contains("}"))) {
            throw new ConfigException(
                    r.key("keyPrefix"),
                    keyPrefix,
                    "in cluster mode the key prefix must not contain { or }: a hash tag in it would put every key in"
                            + " one slot, on one master");
        }
        Redis redis = new Redis(
                uri,
                r.string("username", ""),
                r.string("password", ""),
                keyPrefix,
                r.duration("timeout", "2s"),
                mode,
                redisTls(r.section("tls"), baseDir));

        Section t = top.section("topics");
        t.allowOnly("mutations", "invalidations", "deadLetter", "partitions", "replicationFactor");
        Topics topics = new Topics(
                t.nonBlank("mutations", "cachepipe.mutations"),
                t.nonBlank("invalidations", "cachepipe.invalidations"),
                t.nonBlank("deadLetter", "cachepipe.dlq"),
                t.integer("partitions", 3, 1, 10_000),
                (short) t.integer("replicationFactor", -1, -1, 32));
        if (topics.replicationFactor() == 0) {
            throw new ConfigException(t.key("replicationFactor"), 0, "use -1 (broker default) or 1 and above");
        }

        Section w = top.section("writer");
        w.allowOnly("maxBatchSize", "retryBackoffMin", "retryBackoffMax", "selfHealing", "markerCheckInterval");
        Writer writer = new Writer(
                w.integer("maxBatchSize", 1000, 1, 100_000),
                w.duration("retryBackoffMin", "100ms"),
                w.duration("retryBackoffMax", "5s"),
                w.bool("selfHealing", true),
                w.duration("markerCheckInterval", "5s"));
        if (writer.retryBackoffMax().compareTo(writer.retryBackoffMin()) < 0) {
            throw new ConfigException(
                    w.key("retryBackoffMax"),
                    Durations.format(writer.retryBackoffMax()),
                    "must be >= writer.retryBackoffMin (" + Durations.format(writer.retryBackoffMin()) + ")");
        }

        Section tp = top.section("topology");
        tp.allowOnly("versionRetention", "maxFutureSkew");
        Topology topology = new Topology(tp.duration("versionRetention", "7d"), tp.duration("maxFutureSkew", "5m"));
        if (topology.versionRetention().compareTo(TopologyConfig.MIN_VERSION_RETENTION) < 0) {
            throw new ConfigException(
                    tp.key("versionRetention"), Durations.format(topology.versionRetention()), "must be at least 1m");
        }

        Map<String, EntityPolicy> entities = entities(top.section("entities"), topics);
        Section schemas = top.section("schemas");
        schemas.allowOnly("domainEventWriterSchemas", "format", "registry");
        return new CachepipeConfig(
                kafka,
                redis,
                topics,
                writer,
                topology,
                entities,
                writerSchemas(schemas, baseDir),
                decoding(schemas, top.section("entities"), entities, kafka, baseDir));
    }

    /**
     * {@code schemas.format}, {@code entities.<type>.format} and {@code schemas.registry.*}: entity types that share a
     * topic must share its format; a confluent format needs a registry or a schema directory; one lookup's wait for
     * the registry must end before Kafka Streams' {@code max.poll.interval.ms} would drop the stream thread from its
     * group.
     */
    private static Decoding decoding(
            Section s, Section es, Map<String, EntityPolicy> entities, Kafka kafka, Path baseDir) {
        WireFormat format = wireFormat(s, "format", WireFormat.AUTO);
        Map<String, WireFormat> perEntity = new LinkedHashMap<>();
        Map<String, String> topicOwner = new HashMap<>();
        for (EntityPolicy policy : entities.values()) {
            Section e = es.section(policy.entityType());
            WireFormat own = wireFormat(e, "format", format);
            perEntity.put(policy.entityType(), own);
            for (String topic : policy.topics()) {
                String other = topicOwner.putIfAbsent(topic, policy.entityType());
                if (other != null && perEntity.get(other) != own) {
                    throw new ConfigException(
                            e.key("format"),
                            own.configName(),
                            "entities." + other + " reads topic " + topic + " as "
                                    + perEntity.get(other).configName()
                                    + "; entity types that share a topic must share its format (auto reads both)");
                }
            }
        }
        Section r = s.section("registry");
        r.allowOnly(
                "url",
                "username",
                "password",
                "directory",
                "timeout",
                "maxWait",
                "retryBackoffMin",
                "retryBackoffMax",
                "tls");
        String url = r.string("url", "").strip();
        String directory = r.string("directory", "").strip();
        if (!url.isEmpty() && !directory.isEmpty()) {
            throw new ConfigException(
                    r.key("directory"), directory, "set schemas.registry.url or schemas.registry.directory, not both");
        }
        SchemaRegistryClient.Options registry = null;
        if (!url.isEmpty()) {
            Section tls = r.section("tls");
            tls.allowOnly("caFile", "certFile", "keyFile");
            try {
                registry = SchemaRegistryClient.Options.of(url)
                        .withBasicAuth(r.string("username", ""), r.string("password", ""))
                        .withTls(
                                tlsFile(tls, "caFile", baseDir),
                                tlsFile(tls, "certFile", baseDir),
                                tlsFile(tls, "keyFile", baseDir))
                        .withTimeouts(
                                r.duration("timeout", "5s"),
                                r.duration("maxWait", "60s"),
                                r.duration("retryBackoffMin", "100ms"),
                                r.duration("retryBackoffMax", "5s"));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(r.key("url"), Redact.uri(url), e.getMessage());
            }
            long maxPoll = maxPollIntervalMs(kafka.properties());
            long wait = registry.maxWait().plus(registry.requestTimeout()).toMillis();
            if (wait >= maxPoll) {
                throw new ConfigException(
                        r.key("maxWait"),
                        Durations.format(registry.maxWait()),
                        "schemas.registry.maxWait plus schemas.registry.timeout must stay below Kafka Streams'"
                                + " max.poll.interval.ms (" + maxPoll + " ms): a stream thread that waits longer is"
                                + " dropped from its group");
            }
        }
        Path dir = null;
        if (!directory.isEmpty()) {
            dir = baseDir.resolve(directory);
            if (!Files.isDirectory(dir) || !Files.isReadable(dir)) {
                throw new ConfigException(
                        r.key("directory"),
                        directory,
                        "must be a readable directory of <id>.avsc files; " + dir + " is not");
            }
        }
        Decoding decoding = new Decoding(format, perEntity, registry, dir);
        if (!decoding.hasSchemaSource()) {
            for (Map.Entry<String, WireFormat> e : perEntity.entrySet()) {
                if (e.getValue() == WireFormat.CONFLUENT) {
                    boolean own = es.section(e.getKey()).has("format");
                    throw new ConfigException(
                            own ? "entities." + e.getKey() + ".format" : s.key("format"),
                            "confluent",
                            "the Confluent wire format needs schemas.registry.url or schemas.registry.directory");
                }
            }
        }
        return decoding;
    }

    /** Kafka Streams' {@code max.poll.interval.ms} as {@code kafka.properties} set it (its default: 300000). */
    static long maxPollIntervalMs(Map<String, String> properties) {
        for (String key : List.of(
                "main.consumer.max.poll.interval.ms", "consumer.max.poll.interval.ms", "max.poll.interval.ms")) {
            String v = properties.get(key);
            if (v != null) {
                try {
                    return Long.parseLong(v.trim());
                } catch (NumberFormatException e) {
                    throw new ConfigException("kafka.properties." + key, v, "must be a whole number of milliseconds");
                }
            }
        }
        return 300_000;
    }

    private static WireFormat wireFormat(Section s, String name, WireFormat defaultValue) {
        String v = s.nonBlank(name, defaultValue.configName());
        try {
            return WireFormat.parse(v);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(s.key(name), v, "allowed: single-object, confluent, auto");
        }
    }

    /** {@code kafka.instanceId} and {@code kafka.sessionTimeout}: the values a broker accepts by default. */
    private static void validateMembership(Section k, Kafka kafka) {
        if (kafka.staticMembership()) {
            if (!kafka.instanceId().matches("[A-Za-z0-9._-]{1,200}")) {
                throw new ConfigException(
                        k.key("instanceId"),
                        kafka.instanceId(),
                        "allowed characters: A-Z a-z 0-9 . _ - (at most 200), or empty for dynamic membership");
            }
            if (kafka.properties().containsKey("group.instance.id")) {
                throw new ConfigException(
                        k.key("instanceId"),
                        kafka.instanceId(),
                        "set either kafka.instanceId or kafka.properties group.instance.id, not both");
            }
        }
        Duration t = kafka.sessionTimeout();
        if (t.compareTo(Duration.ofSeconds(6)) < 0 || t.compareTo(Duration.ofMinutes(30)) > 0) {
            throw new ConfigException(
                    k.key("sessionTimeout"),
                    Durations.format(t),
                    "must be between 6s and 30m (a broker's default group.min.session.timeout.ms and"
                            + " group.max.session.timeout.ms)");
        }
    }

    /** {@code redis.tls}: CA bundle, client certificate and key (PEM, relative to the configuration file), checks. */
    private static RedisTls redisTls(Section t, Path baseDir) {
        t.allowOnly("caFile", "certFile", "keyFile", "verifyPeer");
        Path ca = tlsFile(t, "caFile", baseDir);
        Path cert = tlsFile(t, "certFile", baseDir);
        Path key = tlsFile(t, "keyFile", baseDir);
        if ((cert == null) != (key == null)) {
            throw new ConfigException(
                    t.key(cert == null ? "certFile" : "keyFile"),
                    "",
                    "set both redis.tls.certFile and redis.tls.keyFile for a client certificate, or neither");
        }
        String verify = t.nonBlank("verifyPeer", "full");
        RedisTls.Verify mode;
        try {
            mode = RedisTls.Verify.parse(verify);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(
                    t.key("verifyPeer"),
                    verify,
                    "use full (the certificate chain and the host name), ca (the chain only) or none (no check: tests"
                            + " only)");
        }
        return new RedisTls(ca, cert, key, mode);
    }

    private static Path tlsFile(Section t, String name, Path baseDir) {
        String file = t.string(name, "");
        if (file.isBlank()) {
            return null;
        }
        Path path = baseDir.resolve(file);
        if (!Files.isReadable(path)) {
            throw new ConfigException(t.key(name), file, "must be a readable PEM file; " + path + " is not");
        }
        return path;
    }

    /**
     * {@code schemas.domainEventWriterSchemas}: older (or newer) DomainEvent schemas that producers still write with,
     * as {@code .avsc} files (relative to the configuration file); each must be readable into the current schema.
     */
    private static List<Schema> writerSchemas(Section s, Path baseDir) {
        String key = s.key("domainEventWriterSchemas");
        List<Schema> out = new java.util.ArrayList<>();
        for (String file : s.optionalStringList("domainEventWriterSchemas")) {
            Path path = baseDir.resolve(file);
            Schema schema;
            try {
                schema = new Schema.Parser().parse(path.toFile());
            } catch (IOException e) {
                throw new ConfigException(key, file, "cannot read " + path + ": " + e.getMessage());
            } catch (org.apache.avro.SchemaParseException e) {
                throw new ConfigException(key, file, "not an Avro schema: " + e.getMessage());
            }
            Schema current = DomainEvent.getClassSchema();
            if (!current.getFullName().equals(schema.getFullName())) {
                throw new ConfigException(
                        key, file, "must describe " + current.getFullName() + " but describes " + schema.getFullName());
            }
            var compatibility = SchemaCompatibility.checkReaderWriterCompatibility(current, schema);
            if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                throw new ConfigException(
                        key,
                        file,
                        "events written with it cannot be read into the current DomainEvent: "
                                + Incompatibilities.describe(compatibility, current));
            }
            out.add(schema);
        }
        return out;
    }

    /** Whether Lettuce accepts {@code uri}; its own error message would show the password, so it is dropped. */
    private static boolean isRedisUri(String uri) {
        if (!uri.matches("(redis|rediss|redis-socket)://.+")) {
            return false;
        }
        try {
            RedisTarget.parse(uri, RedisMode.AUTO, null, null, null);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Map<String, EntityPolicy> entities(Section es, Topics topics) {
        List<String> names = es.names();
        if (names.isEmpty()) {
            throw new ConfigException("entities", null, "configure at least one entity type");
        }
        Set<String> internal = Set.of(topics.mutations(), topics.invalidations(), topics.deadLetter());
        Map<String, EntityPolicy> out = new LinkedHashMap<>();
        for (String type : names) {
            String path = "entities." + type;
            if (!RedisLayout.isValidEntityType(type)) {
                throw new ConfigException(path, type, "entity type names match [a-z0-9_-]{1,64}");
            }
            Section e = es.section(type);
            e.allowOnly(
                    "topics",
                    "mode",
                    "ttl",
                    "ttlJitter",
                    "tombstoneTtl",
                    "maxPayloadBytes",
                    "inlineInvalidationMaxBytes",
                    "format");
            List<String> sourceTopics = e.stringList("topics");
            for (String topic : sourceTopics) {
                if (internal.contains(topic)) {
                    throw new ConfigException(
                            e.key("topics"),
                            topic,
                            "a source topic must not be one of cachepipe's" + " own topics " + new HashSet<>(internal));
                }
            }
            CacheMode mode;
            String modeText = e.string("mode", CacheMode.WRITE_THROUGH.configName());
            try {
                mode = CacheMode.parse(modeText);
            } catch (IllegalArgumentException ex) {
                throw new ConfigException(e.key("mode"), modeText, "allowed: write-through, invalidate, expire-only");
            }
            try {
                out.put(
                        type,
                        new EntityPolicy(
                                type,
                                sourceTopics,
                                mode,
                                e.duration("ttl", "5m"),
                                e.decimal("ttlJitter", 0.1, 0.0, 1.0),
                                e.duration("tombstoneTtl", "1m"),
                                e.integer("maxPayloadBytes", 1_048_576, 1, 64 * 1024 * 1024),
                                e.integer("inlineInvalidationMaxBytes", 1024, 0, 1_048_576)));
            } catch (IllegalArgumentException ex) {
                throw new ConfigException(ex.getMessage());
            }
        }
        return out;
    }

    /** The topology's view of this configuration. */
    public TopologyConfig topologyConfig() {
        return new TopologyConfig(
                redis.keyPrefix(),
                topics.mutations(),
                topics.deadLetter(),
                entities,
                topology.versionRetention(),
                topology.maxFutureSkew());
    }

    /**
     * The topology's decoding of this configuration: each source topic's wire format (its entity types'), the older
     * single-object schemas, and {@code schemaIds} (from {@link #schemaSource()}) for Confluent-format records.
     */
    public EventDecoding eventDecoding(SchemaSource schemaIds) {
        Map<String, WireFormat> perTopic = new HashMap<>();
        entities.forEach((type, policy) -> policy.topics()
                .forEach(topic -> perTopic.put(topic, decoding.entityFormats().get(type))));
        return new EventDecoding(decoding.format(), perTopic, domainEventWriterSchemas, schemaIds);
    }

    /**
     * A new client of the configured schema registry, or the configured schema directory, or {@code null} when neither
     * is configured. Create one per process: a registry client caches the schemas it fetched.
     */
    public SchemaSource schemaSource() {
        if (decoding.registry() != null) {
            return SchemaRegistryClient.create(decoding.registry());
        }
        return decoding.registryDirectory() != null ? SchemaSource.directory(decoding.registryDirectory()) : null;
    }

    /** This configuration with Confluent-format records' schemas from the registry at {@code url} (the demo's). */
    public CachepipeConfig withSchemaRegistry(String url) {
        return new CachepipeConfig(
                kafka,
                redis,
                topics,
                writer,
                topology,
                entities,
                domainEventWriterSchemas,
                new Decoding(decoding.format(), decoding.entityFormats(), SchemaRegistryClient.Options.of(url), null));
    }

    /** Every source topic of every entity type, without duplicates, in configuration order. */
    public List<String> sourceTopics() {
        return entities.values().stream()
                .flatMap(p -> p.topics().stream())
                .distinct()
                .toList();
    }
}
