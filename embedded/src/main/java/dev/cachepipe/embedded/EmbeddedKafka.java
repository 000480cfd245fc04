package dev.cachepipe.embedded;

import dev.cachepipe.support.kafka.PartitionLeaders;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process Kafka broker in KRaft combined mode (broker and controller in one {@link KafkaRaftServer}) on free
 * loopback ports, for the demo and the tests. Starts in about two seconds.
 *
 * <p>{@link #shared()} gives one broker per JVM, stopped when the JVM exits; tests give their topics unique names.
 * {@link #stop()} and {@link #start()} restart the same broker on the same ports with its data, for outage tests.
 * {@link #startTemporary(Options)} starts one with its client listener secured (SASL, TLS) and any further broker
 * settings, e.g. an authorizer with ACLs.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static EmbeddedKafka shared;

    private final Path dir;
    private final boolean deleteOnClose;
    private final int brokerPort;
    private final int controllerPort;
    private final Options options;
    private final Properties props;
    private KafkaRaftServer server;

    /**
     * How the broker's client listener is secured and what else the broker is told.
     *
     * @param securityProtocol of the client listener (also its listener name and the inter-broker one): {@code
     *     PLAINTEXT}, {@code SASL_PLAINTEXT}, {@code SSL} or {@code SASL_SSL}
     * @param brokerProperties further broker settings, set last (e.g. {@code sasl.enabled.mechanisms}, {@code
     *     listener.name.sasl_plaintext.plain.sasl.jaas.config}, {@code ssl.keystore.location}, {@code
     *     authorizer.class.name}, {@code super.users})
     * @param clientProperties what this class's own clients ({@link #admin()}) need to connect, e.g. {@code
     *     security.protocol}, {@code sasl.*}, {@code ssl.*}; a super user's, when there is an authorizer
     */
    public record Options(
            String securityProtocol,
            Map<String, String> brokerProperties,
            Map<String, Object> clientProperties,
            List<String> formatArguments) {
        /** Without extra storage format arguments. */
        public Options(
                String securityProtocol, Map<String, String> brokerProperties, Map<String, Object> clientProperties) {
            this(securityProtocol, brokerProperties, clientProperties, List.of());
        }

        public Options {
            if (!List.of("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL").contains(securityProtocol)) {
                throw new IllegalArgumentException("securityProtocol must be PLAINTEXT, SASL_PLAINTEXT, SSL or"
                        + " SASL_SSL but was " + securityProtocol);
            }
            brokerProperties = Map.copyOf(brokerProperties);
            clientProperties = Map.copyOf(clientProperties);
            formatArguments = List.copyOf(formatArguments);
        }

        /**
         * SASL/SCRAM-SHA-512 over TLS on the client listener (no authorizer: every authenticated user may do
         * anything): the broker's certificate and the CA from {@code tls}, the SCRAM credentials of {@code users}
         * (name → password) created when the storage is formatted; {@link #admin()} connects as the first user.
         */
        public static Options saslScramSsl(TlsFiles tls, Map<String, String> users) {
            if (users.isEmpty()) {
                throw new IllegalArgumentException("at least one SCRAM user is needed");
            }
            Map.Entry<String, String> first = users.entrySet().iterator().next();
            Path keystore = tls.dir().resolve("broker-keystore.pem");
            try {
                Files.writeString(keystore, Files.readString(tls.serverKey()) + Files.readString(tls.serverCert()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            java.util.ArrayList<String> format = new java.util.ArrayList<>();
            users.forEach((user, password) -> {
                format.add("--add-scram");
                format.add("SCRAM-SHA-512=[name=" + user + ",password=" + password + "]");
            });
            Map<String, String> broker = new java.util.HashMap<>();
            broker.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
            broker.put("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512");
            broker.put(
                    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                    scramLogin(first.getKey(), first.getValue()));
            broker.put("ssl.keystore.type", "PEM");
            broker.put("ssl.keystore.location", keystore.toString());
            broker.put("ssl.truststore.type", "PEM");
            broker.put("ssl.truststore.location", tls.caCert().toString());
            return new Options("SASL_SSL", broker, saslScramSslClient(tls, first.getKey(), first.getValue()), format);
        }

        /** Client settings to connect as {@code user} over SASL_SSL with SCRAM-SHA-512, trusting the CA of {@code tls}. */
        public static Map<String, Object> saslScramSslClient(TlsFiles tls, String user, String password) {
            return Map.of(
                    "security.protocol", "SASL_SSL",
                    "sasl.mechanism", "SCRAM-SHA-512",
                    "sasl.jaas.config", scramLogin(user, password),
                    "ssl.truststore.type", "PEM",
                    "ssl.truststore.location", tls.caCert().toString());
        }

        private static String scramLogin(String user, String password) {
            return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                    + "\" password=\"" + password + "\";";
        }

        /** No security: what {@link #shared()} uses. */
        public static Options plaintext() {
            return new Options("PLAINTEXT", Map.of(), Map.of());
        }

        /**
         * SASL/PLAIN on the client listener with the {@code StandardAuthorizer}: {@code superUser} may do anything
         * ({@link #admin()} connects as it), every other user only what ACLs allow (none at first).
         *
         * @param users name → password of the other users
         */
        public static Options saslPlainWithAcls(String superUser, String superPassword, Map<String, String> users) {
            StringBuilder jaas = new StringBuilder(plainLogin(superUser, superPassword));
            jaas.setLength(jaas.length() - 1); // the ';'
            jaas.append(" user_")
                    .append(superUser)
                    .append("=\"")
                    .append(superPassword)
                    .append('"');
            users.forEach((user, password) -> jaas.append(" user_")
                    .append(user)
                    .append("=\"")
                    .append(password)
                    .append('"'));
            jaas.append(';');
            return new Options(
                    "SASL_PLAINTEXT",
                    Map.of(
                            "sasl.enabled.mechanisms", "PLAIN",
                            "sasl.mechanism.inter.broker.protocol", "PLAIN",
                            "listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas.toString(),
                            "authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                            // ANONYMOUS: the broker itself, on the (plaintext, loopback) controller listener
                            "super.users", "User:" + superUser + ";User:ANONYMOUS",
                            "allow.everyone.if.no.acl.found", "false"),
                    saslPlainClient(superUser, superPassword));
        }

        /** Client settings to connect as {@code user} over SASL_PLAINTEXT with mechanism PLAIN. */
        public static Map<String, Object> saslPlainClient(String user, String password) {
            return Map.of(
                    "security.protocol", "SASL_PLAINTEXT",
                    "sasl.mechanism", "PLAIN",
                    "sasl.jaas.config", plainLogin(user, password));
        }

        private static String plainLogin(String user, String password) {
            return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user
                    + "\" password=\"" + password + "\";";
        }
    }

    private EmbeddedKafka(Path dir, boolean deleteOnClose, Options options) {
        this.dir = dir;
        this.deleteOnClose = deleteOnClose;
        this.options = options;
        this.brokerPort = FreePorts.next();
        this.controllerPort = FreePorts.next();
        this.props = serverProperties();
        format();
    }

    /** The broker shared by everything in this JVM, started on first use and stopped at JVM exit. */
    public static synchronized EmbeddedKafka shared() {
        if (shared == null) {
            EmbeddedKafka kafka = new EmbeddedKafka(Files2.tempDir("cachepipe-kafka-"), true, Options.plaintext());
            kafka.start();
            Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "embedded-kafka-shutdown"));
            shared = kafka;
        }
        return shared;
    }

    /** Starts a private broker in a new temporary directory under {@code java.io.tmpdir}, deleted on close. */
    public static EmbeddedKafka startTemporary() {
        EmbeddedKafka kafka = new EmbeddedKafka(Files2.tempDir("cachepipe-kafka-"), true, Options.plaintext());
        kafka.start();
        return kafka;
    }

    /** Starts a private broker with {@code options} in a new temporary directory, deleted on close. */
    public static EmbeddedKafka startTemporary(Options options) {
        EmbeddedKafka kafka = new EmbeddedKafka(Files2.tempDir("cachepipe-kafka-"), true, options);
        kafka.start();
        return kafka;
    }

    /** Starts a private broker whose data lives in {@code dir} (kept on close). */
    public static EmbeddedKafka start(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        EmbeddedKafka kafka = new EmbeddedKafka(dir, false, Options.plaintext());
        kafka.start();
        return kafka;
    }

    /** {@code host:port} of the broker's client listener. */
    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    /** The directory holding the broker's data (and anything its owner wants deleted with it). */
    public Path dataDir() {
        return dir;
    }

    /** Starts (or restarts after {@link #stop()}) the broker and waits until it answers. */
    public synchronized void start() {
        if (server != null) {
            return;
        }
        long t0 = System.nanoTime();
        KafkaRaftServer s = new KafkaRaftServer(new KafkaConfig(props), Time.SYSTEM);
        s.startup();
        server = s;
        try {
            awaitReady(Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
        log.info(
                "Embedded Kafka broker ready at {} in {} ms",
                bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /** Stops the broker, keeping its data so that {@link #start()} brings it back. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        server.shutdown();
        server.awaitShutdown();
        server = null;
    }

    /** Whether the broker is running. */
    public synchronized boolean isRunning() {
        return server != null;
    }

    /** Creates a topic unless it exists. {@code configs} are topic configs such as {@code cleanup.policy}. */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            PartitionLeaders.await(admin, Map.of(name, partitions), Duration.ofSeconds(30));
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + name, e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("timed out creating topic " + name, e);
        }
    }

    /** A new admin client for this broker (with {@link Options#clientProperties()}); the caller closes it. */
    public Admin admin() {
        return Admin.create(clientProperties());
    }

    /** {@code bootstrap.servers} and what a client needs to connect ({@link Options#clientProperties()}). */
    public Map<String, Object> clientProperties() {
        Map<String, Object> m = new java.util.HashMap<>(options.clientProperties());
        m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return m;
    }

    @Override
    public synchronized void close() {
        try {
            stop();
        } finally {
            if (deleteOnClose) {
                Files2.deleteRecursively(dir);
            }
        }
    }

    private Properties serverProperties() {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        String client = options.securityProtocol();
        p.put("listeners", client + "://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", client + "://127.0.0.1:" + brokerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", client);
        p.put("listener.security.protocol.map", client + ":" + client + ",CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.resolve("data").toString());
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("log.cleaner.backoff.ms", "1000");
        p.putAll(options.brokerProperties());
        return p;
    }

    private void format() {
        Path config = dir.resolve("server.properties");
        try (Writer w = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            props.store(w, "cachepipe embedded broker");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> args = new java.util.ArrayList<>(
                List.of("format", "-t", Uuid.randomUuid().toString(), "-c", config.toString(), "--ignore-formatted"));
        args.addAll(options.formatArguments());
        int rc = kafka.tools.StorageTool.execute(
                args.toArray(new String[0]), new PrintStream(out, true, StandardCharsets.UTF_8));
        if (rc != 0) {
            throw new IllegalStateException("formatting the embedded broker's storage failed: " + out);
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        try (Admin admin = admin()) {
            while (System.nanoTime() < deadline) {
                try {
                    if (!admin.describeCluster()
                            .nodes()
                            .get(5, TimeUnit.SECONDS)
                            .isEmpty()) {
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for the broker", e);
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    last = e;
                }
            }
        }
        throw new IllegalStateException("embedded broker did not become ready in " + timeout, last);
    }
}
