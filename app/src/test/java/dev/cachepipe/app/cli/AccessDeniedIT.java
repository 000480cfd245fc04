package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.testing.ChildJvm;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

/**
 * Issue 8, item 8: authorization and authentication failures end {@code cachepipe run} with status 1 and a message
 * saying what was refused, instead of stalling as for an outage (a paused Redis still stalls: RedisOutageIT).
 */
class AccessDeniedIT {
    private static final String USER = "cachepipe";
    private static final String PASSWORD = "cachepipe-secret";

    @Test
    void shouldExitWithStatusOneNamingTheTopicWhenAnAclForbidsTheInvalidationsTopic() throws Exception {
        String log = runWithWriteDenied(p -> p.config.topics().invalidations());
        assertThat(log)
                .containsPattern("Kafka refused to publish invalidations to topic acl-[0-9a-f]{8}\\.invalidations")
                .containsPattern("TopicAuthorizationException: Not authorized to access topics: \\[acl-[0-9a-f]{8}"
                        + "\\.invalidations]")
                .contains("a Kafka ACL forbids it");
    }

    @Test
    void shouldExitWithStatusOneNamingTheTopicWhenAnAclForbidsKafkaStreamsTheMutationsTopic() throws Exception {
        String log = runWithWriteDenied(p -> p.config.topics().mutations());
        assertThat(log)
                .contains("Kafka refused Kafka Streams")
                .containsPattern("TopicAuthorizationException: Not authorized to access topics: \\[acl-[0-9a-f]{8}"
                        + "\\.mutations]")
                .contains("a Kafka ACL forbids it");
    }

    /**
     * Runs {@code cachepipe run} against a broker with ACLs that let cachepipe's user do everything on its topics,
     * groups and transactional ids except write to {@code denied}, publishes events, and returns its log once it
     * exited with status 1.
     */
    private static String runWithWriteDenied(java.util.function.Function<TestPipeline, String> denied)
            throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.startTemporary(
                        EmbeddedKafka.Options.saslPlainWithAcls("admin", "admin-secret", Map.of(USER, PASSWORD)));
                RedisServer redis = RedisServer.start()) {
            String clientSasl = "security.protocol: SASL_PLAINTEXT, sasl.mechanism: PLAIN, sasl.jaas.config: '"
                    + EmbeddedKafka.Options.saslPlainClient(USER, PASSWORD).get("sasl.jaas.config") + "'";
            TestPipeline p = TestPipeline.configure("acl", redis, 1, clientSasl, kafka.bootstrapServers());
            for (String topic : p.config.sourceTopics()) {
                kafka.createTopic(topic, 1, Map.of());
            }
            kafka.createTopic(p.config.topics().mutations(), 1, Map.of("cleanup.policy", "compact"));
            kafka.createTopic(p.config.topics().invalidations(), 1, Map.of());
            kafka.createTopic(p.config.topics().deadLetter(), 1, Map.of());
            try (Admin admin = kafka.admin()) {
                admin.createAcls(List.of(
                                allow(ResourceType.TOPIC, p.id), // its topics, Streams' internal ones included
                                allow(ResourceType.GROUP, p.id), // Streams' group and the writer's
                                allow(ResourceType.TRANSACTIONAL_ID, p.id),
                                // the mistake: cachepipe may see the topic but not write to it
                                new AclBinding(
                                        new ResourcePattern(ResourceType.TOPIC, denied.apply(p), PatternType.LITERAL),
                                        new AccessControlEntry(
                                                "User:" + USER, "*", AclOperation.WRITE, AclPermissionType.DENY))))
                        .all()
                        .get(30, TimeUnit.SECONDS);
            }

            Process run = ChildJvm.start(
                    p.id, List.of(), List.of("run", "--config", p.configFile().toString()));
            try (EventGenerator generator = new EventGenerator(
                    kafka.clientProperties(), EventGenerator.Settings.of(p.policies(), 50, 7L), p.oracle())) {
                // events flow until cachepipe has something to write
                CompletableFuture<Long> publishing =
                        CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofMinutes(3), 20));
                boolean exited = run.waitFor(180, TimeUnit.SECONDS);
                generator.stop();
                publishing.join();
                String log = Files.readString(ChildJvm.log(p.id));
                assertThat(exited).as("run exits; its log:\n%s", log).isTrue();
                assertThat(run.exitValue()).as(log).isEqualTo(1);
                assertThat(log).contains("cachepipe failed: ").doesNotContain(PASSWORD);
                return log;
            } finally {
                ChildJvm.stop(run);
            }
        }
    }

    @Test
    void shouldExitWithStatusOneWhenARedisAclForbidsTheCacheKeys() throws Exception {
        // the user may run every command, but only on keys that are not cachepipe's
        try (RedisServer redis =
                RedisServer.start(List.of("--user", USER, "on", ">" + PASSWORD, "~someone-else:*", "+@all"))) {
            TestPipeline p = TestPipeline.configure("noperm", redis, 1, "");
            p.createTopics();
            Path config = withRedisUser(p, PASSWORD);
            Process run = ChildJvm.start(p.id, List.of(), List.of("run", "--config", config.toString()));
            try (EventGenerator generator = p.generator(EventGenerator.Settings.of(p.policies(), 50, 7L), p.oracle())) {
                CompletableFuture<Long> publishing =
                        CompletableFuture.supplyAsync(() -> generator.publishFor(Duration.ofMinutes(3), 20));
                boolean exited = run.waitFor(180, TimeUnit.SECONDS);
                generator.stop();
                publishing.join();
                String log = Files.readString(ChildJvm.log(p.id));
                assertThat(exited).as("run exits; its log:\n%s", log).isTrue();
                assertThat(run.exitValue()).as(log).isEqualTo(1);
                assertThat(log)
                        .contains("cachepipe failed: ")
                        // whichever meets the ACL first: the marker check or a write
                        .containsPattern("Redis( at \\S+)? refused (a cache write|the marker check)")
                        .contains("NOPERM")
                        .contains("a Redis ACL forbids the command or key")
                        .doesNotContain(PASSWORD);
            } finally {
                ChildJvm.stop(run);
            }
        }
    }

    @Test
    void shouldExitWithStatusOneAtStartWhenRedisRefusesThePassword() throws Exception {
        try (RedisServer redis = RedisServer.start(List.of("--user", USER, "on", ">" + PASSWORD, "~*", "+@all"))) {
            TestPipeline p = TestPipeline.configure("wrongpass", redis, 1, "");
            p.createTopics();
            Path config = withRedisUser(p, "not-the-password");
            Process run = ChildJvm.start(p.id, List.of(), List.of("run", "--config", config.toString()));
            try {
                boolean exited = run.waitFor(180, TimeUnit.SECONDS);
                String log = Files.readString(ChildJvm.log(p.id));
                assertThat(exited).as("run exits; its log:\n%s", log).isTrue();
                assertThat(run.exitValue()).as(log).isEqualTo(1);
                assertThat(log)
                        .contains("cachepipe failed: ")
                        .contains("refused cachepipe's user")
                        .contains("WRONGPASS")
                        .contains("check redis.username and redis.password")
                        .doesNotContain("not-the-password");
            } finally {
                ChildJvm.stop(run);
            }
        }
    }

    private static AclBinding allow(ResourceType type, String prefix) {
        return new AclBinding(
                new ResourcePattern(type, prefix, PatternType.PREFIXED),
                new AccessControlEntry("User:" + USER, "*", AclOperation.ALL, AclPermissionType.ALLOW));
    }

    /** The test's configuration, logging in to Redis as {@link #USER} with {@code password}. */
    private static Path withRedisUser(TestPipeline p, String password) throws Exception {
        assertThat(p.yaml).contains("redis:\n  uri: ");
        Path file = Path.of(System.getProperty("java.io.tmpdir"), p.id + "-user.yaml");
        Files.writeString(
                file,
                p.yaml.replace(
                        "redis:\n  uri: ", "redis:\n  username: " + USER + "\n  password: " + password + "\n  uri: "));
        return file;
    }
}
