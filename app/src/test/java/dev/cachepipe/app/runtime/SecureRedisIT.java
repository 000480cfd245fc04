package dev.cachepipe.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.embedded.TlsFiles;
import dev.cachepipe.schemas.CacheEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Issue 9, acceptance 2: Redis as secured deployments run it, with real {@code redis-server} processes. A TLS-only
 * server ({@code --port 0 --tls-port}, a CA and certificates made with openssl here) that requires client
 * certificates: the pipeline (writer, self-healing, watermarks) and a client read and write over TLS with
 * {@code redis.tls.*}; a client that does not trust the CA fails without a secret in the error. An ACL user with
 * exactly the README's rule runs the pipeline and a client, and Redis logs no denial. Secrets never reach the logs.
 */
class SecureRedisIT {
    private static final String PASSWORD = "s3cret-P4ss";
    private static TlsFiles tls;

    private static final ListAppender<ILoggingEvent> LOGS = new ListAppender<>();

    @BeforeAll
    static void certificates() {
        tls = TlsFiles.create();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        LOGS.start();
        root.addAppender(LOGS);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(LOGS);
        try (var files = Files.list(tls.dir())) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(tls.dir());
    }

    @Test
    void shouldRunThePipelineAndAClientOverTlsOnlyRedisWithClientCertificates() throws Exception {
        try (RedisServer redis = RedisServer.startTls(tls, true, List.of());
                TestPipeline p = TestPipeline.configure("tls", redis.uri(), "standalone", 3)
                        .withRedisSettings("""
                                  tls:
                                    caFile: %s
                                    certFile: %s
                                    keyFile: %s
                                """.formatted(tls.caCert(), tls.clientCert(), tls.clientKey()))) {
            assertThat(redis.uri()).startsWith("rediss://");
            p.startPipeline();
            Oracle oracle = p.oracle();
            EventGenerator.Settings settings =
                    EventGenerator.Settings.of(p.policies(), 100, 91L).withWindow(1000);
            try (EventGenerator generator = p.generator(settings, oracle);
                    ConsistencyCheck check = p.check(oracle);
                    CacheClient client = CacheClient.builder()
                            .name("tls-client")
                            .redisUri(redis.uri())
                            .redisTls(tls.caCert(), tls.clientCert(), tls.clientKey(), "full")
                            .keyPrefix(p.config.redis().keyPrefix())
                            .bootstrapServers(EmbeddedKafka.shared().bootstrapServers())
                            .invalidationsTopic(p.config.topics().invalidations())
                            .redisTimeout(Duration.ofSeconds(5))
                            .build()) {
                generator.publish(1000, 0);
                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(90));
                assertThat(result.mismatches()).isEmpty();
                assertThat(result.total()).isEqualTo(oracle.entityCount());

                EntityCache<byte[]> users = client.entity("user", Codec.bytes());
                Oracle.Expectation some = oracle.expectations().stream()
                        .filter(e -> e.key().contains(":user:")
                                && e.entry()
                                        .map(en -> en.state() == CacheEntry.State.VALUE)
                                        .orElse(false))
                        .findFirst()
                        .orElseThrow();
                String id = some.key().substring(some.key().lastIndexOf(':') + 1);
                Optional<byte[]> read = users.get(id);
                assertThat(read).as("read over TLS through the client").isPresent();
                assertThat(read.get()).isEqualTo(some.entry().get().payload());
                assertThat(client.stats().l2Errors()).isZero();
            }
            // a client that does not trust the test CA (the JDK's trust store) cannot connect: a TLS error, no secret
            try (CacheClient untrusting = CacheClient.builder()
                    .name("tls-untrusting")
                    .redisUri("rediss://user:" + PASSWORD + "@127.0.0.1:" + redis.port())
                    .keyPrefix(p.config.redis().keyPrefix())
                    .bootstrapServers(EmbeddedKafka.shared().bootstrapServers())
                    .invalidationsTopic(p.config.topics().invalidations())
                    .redisTimeout(Duration.ofSeconds(2))
                    .build()) {
                EntityCache<byte[]> users = untrusting.entity("user", Codec.bytes());
                assertThat(users.get("1")).isEmpty();
                assertThat(untrusting.stats().l2Errors())
                        .as("Redis unreachable without the CA")
                        .isPositive();
            }
        }
        assertNoSecretInLogs();
    }

    @Test
    void shouldRunThePipelineAndAClientOnATlsClusterAsAnAclUser() throws Exception {
        try (RedisCluster cluster = RedisCluster.start(3, 0, tls)) {
            assertThat(cluster.seeds()).startsWith("rediss://");
            TestPipeline base = TestPipeline.configure("tlscluster", cluster.seeds(), "cluster", 3);
            String prefix = base.config.redis().keyPrefix();
            for (RedisServer node : cluster.nodes()) {
                addAclUser(node, prefix); // ACL users are per node
            }
            try (TestPipeline p = base.withRedisSettings("""
                      username: cachepipe
                      password: %s
                      tls:
                        caFile: %s
                    """.formatted(PASSWORD, tls.caCert()))) {
                p.startPipeline();
                Oracle oracle = p.oracle();
                EventGenerator.Settings settings =
                        EventGenerator.Settings.of(p.policies(), 100, 94L).withWindow(1000);
                try (EventGenerator generator = p.generator(settings, oracle);
                        ConsistencyCheck check = p.check(oracle);
                        CacheClient client = CacheClient.builder()
                                .name("tls-cluster-client")
                                .redisUri(cluster.seeds())
                                .redisMode("cluster")
                                .redisCredentials("cachepipe", PASSWORD.toCharArray())
                                .redisTls(tls.caCert(), null, null, "full")
                                .keyPrefix(prefix)
                                .bootstrapServers(EmbeddedKafka.shared().bootstrapServers())
                                .invalidationsTopic(p.config.topics().invalidations())
                                .redisTimeout(Duration.ofSeconds(5))
                                .build()) {
                    generator.publish(1000, 0);
                    ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(90));
                    assertThat(result.mismatches()).isEmpty();
                    assertThat(result.total()).isEqualTo(oracle.entityCount());
                    EntityCache<byte[]> orders = client.entity("order", Codec.bytes());
                    for (int i = 0; i < 6; i++) { // loads, leases and fills on several masters
                        byte[] loaded = orders.get(
                                "tls-loaded-" + i,
                                id -> dev.cachepipe.client.Loaded.of(new byte[] {(byte) id.length()}, 1));
                        assertThat(loaded).hasSize(1);
                    }
                    assertThat(client.stats().l2Errors()).isZero();
                }
                assertThat(p.pipeline().healthy()).isTrue();
            }
            for (RedisServer node : cluster.nodes()) {
                assertThat(node.command("ACL", "LOG").strip())
                        .as("commands or keys the ACL refused on %s", node.uri())
                        .isEmpty();
            }
        }
        assertNoSecretInLogs();
    }

    @Test
    void shouldRunThePipelineAndAClientAsAnAclUserWithOnlyTheDocumentedRule() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            TestPipeline base = TestPipeline.configure("acl", redis.uri(), "standalone", 3);
            String prefix = base.config.redis().keyPrefix();
            addAclUser(redis, prefix);
            try (TestPipeline p = base.withRedisSettings("  username: cachepipe\n  password: " + PASSWORD + "\n")) {
                p.startPipeline();
                Oracle oracle = p.oracle();
                EventGenerator.Settings settings =
                        EventGenerator.Settings.of(p.policies(), 100, 92L).withWindow(1000);
                try (EventGenerator generator = p.generator(settings, oracle);
                        ConsistencyCheck check = p.check(oracle);
                        CacheClient client = CacheClient.builder()
                                .name("acl-client")
                                .redisUri(redis.uri())
                                .redisCredentials("cachepipe", PASSWORD.toCharArray())
                                .keyPrefix(prefix)
                                .bootstrapServers(EmbeddedKafka.shared().bootstrapServers())
                                .invalidationsTopic(p.config.topics().invalidations())
                                .redisTimeout(Duration.ofSeconds(5))
                                .build()) {
                    generator.publish(1000, 0);
                    ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(90));
                    assertThat(result.mismatches()).isEmpty();
                    EntityCache<byte[]> orders = client.entity("order", Codec.bytes());
                    // invalidate mode: a miss in Redis, loaded with a lease and filled, all as the ACL user
                    byte[] loaded = orders.get("acl-loaded", id -> dev.cachepipe.client.Loaded.of(new byte[] {7}, 1));
                    assertThat(loaded).containsExactly(7);
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> redis.command("EXISTS", prefix + ":order:acl-loaded")
                                    .startsWith(":1"));
                    assertThat(client.stats().l2Errors()).isZero();
                }
                assertThat(p.pipeline().healthy()).isTrue();
            }
            assertThat(redis.command("ACL", "LOG"))
                    .as("commands or keys the ACL refused")
                    .isEqualTo("*0\r\n");
        }
        assertNoSecretInLogs();
    }

    /** Creates the user {@code cachepipe} with the README's rule (section "Redis ACL") for {@code prefix}. */
    private static void addAclUser(RedisServer redis, String prefix) {
        List<String> rule = List.of(
                "ACL",
                "SETUSER",
                "cachepipe",
                "reset",
                "on",
                ">" + PASSWORD,
                "~" + prefix + ":*",
                "resetchannels",
                "-@all",
                "+@connection",
                "+ping",
                "+info",
                "+evalsha",
                "+script|load",
                "+exists",
                "+hget",
                "+hmget",
                "+hgetall",
                "+hset",
                "+hdel",
                "+hexists",
                "+del",
                "+pexpire",
                "+pttl",
                "+get",
                "+set",
                "+time",
                "+cluster|nodes",
                "+cluster|slots",
                "+cluster|shards",
                "+cluster|myid",
                "+asking");
        assertThat(redis.command(rule.toArray(new String[0]))).containsIgnoringCase("OK");
        assertThat(redis.command("ACL", "LOG", "RESET")).containsIgnoringCase("OK");
    }

    /** Every log event of this JVM since {@link #captureLogs()}, message and stack trace, as text. */
    private static String capturedLogs() {
        StringBuilder sb = new StringBuilder();
        for (ILoggingEvent e : LOGS.list) {
            sb.append(e.getFormattedMessage()).append('\n');
            if (e.getThrowableProxy() != null) {
                sb.append(ThrowableProxyUtil.asString(e.getThrowableProxy())).append('\n');
            }
        }
        return sb.toString();
    }

    /** The logs (every logger, every level) never show the password or a private key. */
    private static void assertNoSecretInLogs() {
        String log = capturedLogs();
        assertThat(log).as("captured logs").contains("cachepipe running");
        assertThat(log).doesNotContain(PASSWORD).doesNotContain("PRIVATE KEY");
    }
}
