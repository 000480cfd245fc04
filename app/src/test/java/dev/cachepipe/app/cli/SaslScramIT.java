package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.testing.ChildJvm;
import dev.cachepipe.app.testing.TestPipeline;
import dev.cachepipe.avro.DomainEvent;
import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.embedded.TlsFiles;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 9, acceptance 2: a broker that requires SASL/SCRAM-SHA-512 over TLS (certificates made with openssl here, the
 * SCRAM credentials created when its storage is formatted). The topology, the writer and a client's invalidation
 * listener all connect with {@code kafka.properties} / the client's Kafka properties; Redis ends equal to the oracle
 * and the client's L1 follows an update. A wrong SASL password ends {@code run} with status 1 and a clear message,
 * without the password.
 */
class SaslScramIT {
    private static final String USER = "cachepipe";
    private static final String PASSWORD = "scram-P4ssword";
    private static TlsFiles tls;
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() {
        tls = TlsFiles.create();
        Map<String, String> users = new LinkedHashMap<>();
        users.put("admin", "admin-secret");
        users.put(USER, PASSWORD);
        kafka = EmbeddedKafka.startTemporary(EmbeddedKafka.Options.saslScramSsl(tls, users));
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    private static String clientProperties(String password) {
        Map<String, Object> p = EmbeddedKafka.Options.saslScramSslClient(tls, USER, password);
        StringBuilder sb = new StringBuilder();
        p.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ")
                .append(k)
                .append(": '")
                .append(v)
                .append('\''));
        return sb.toString();
    }

    @Test
    void shouldRunTheTopologyTheWriterAndAClientListenerOverSaslScramOverTls() throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestPipeline p = TestPipeline.configure(
                        "scram", redis, 3, clientProperties(PASSWORD), kafka.bootstrapServers())) {
            p.startPipeline();
            Oracle oracle = p.oracle();
            Map<String, Object> clientKafka = EmbeddedKafka.Options.saslScramSslClient(tls, USER, PASSWORD);
            Map<String, Object> producer = new java.util.HashMap<>(clientKafka);
            producer.put("bootstrap.servers", kafka.bootstrapServers());
            try (EventGenerator generator =
                            new EventGenerator(producer, EventGenerator.Settings.of(p.policies(), 100, 93L), oracle);
                    ConsistencyCheck check = p.check(oracle);
                    CacheClient client = CacheClient.builder()
                            .name("scram-client")
                            .redisUri(redis.uri())
                            .keyPrefix(p.config.redis().keyPrefix())
                            .bootstrapServers(kafka.bootstrapServers())
                            .kafkaProperties(clientKafka)
                            .invalidationsTopic(p.config.topics().invalidations())
                            .kafkaTimeout(Duration.ofSeconds(30))
                            .build()) {
                generator.publish(600, 0);
                ConsistencyCheck.Result result = check.awaitConsistent(Duration.ofSeconds(90));
                assertThat(result.mismatches()).isEmpty();
                assertThat(result.total()).isEqualTo(oracle.entityCount());

                // the client's listener gets the writer's invalidations over SASL_SSL: an update reaches its L1
                EntityCache<byte[]> users = client.entity("user", Codec.bytes());
                DomainEvent event = DomainEvent.newBuilder()
                        .setEventId(java.util.UUID.randomUUID().toString())
                        .setEntityType("user")
                        .setEntityId("scram-1")
                        .setVersion(1)
                        .setOp(dev.cachepipe.avro.Operation.UPSERT)
                        .setOccurredAt(java.time.Instant.now())
                        .setContentType("application/json")
                        .setPayload(java.nio.ByteBuffer.wrap("{\"v\":1}".getBytes()))
                        .setAttributes(Map.of())
                        .build();
                generator.publish(event);
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> users.get("scram-1").isPresent());
                generator.publish(DomainEvent.newBuilder(event)
                        .setEventId(java.util.UUID.randomUUID().toString())
                        .setVersion(2)
                        .setPayload(java.nio.ByteBuffer.wrap("{\"v\":2}".getBytes()))
                        .build());
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                    Optional<byte[]> v = users.get("scram-1");
                    assertThat(v).isPresent();
                    assertThat(new String(v.get())).isEqualTo("{\"v\":2}");
                });
                assertThat(p.pipeline().healthy()).isTrue();
            }
        }
    }

    @Test
    void shouldExitWithStatusOneAtStartWhenTheSaslPasswordIsWrong() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            TestPipeline p = TestPipeline.configure(
                    "scramwrong", redis, 1, clientProperties("not-the-password"), kafka.bootstrapServers());
            Process run = ChildJvm.start(
                    p.id, List.of(), List.of("run", "--config", p.configFile().toString()));
            try {
                boolean exited = run.waitFor(180, TimeUnit.SECONDS);
                String log = Files.readString(ChildJvm.log(p.id));
                assertThat(exited).as("run exits; its log:\n%s", log).isTrue();
                assertThat(run.exitValue()).as(log).isEqualTo(1);
                assertThat(log)
                        .contains("cachepipe: cannot create topics: Authentication failed")
                        .contains("invalid credentials with SASL mechanism SCRAM-SHA-512")
                        .doesNotContain("not-the-password");
            } finally {
                ChildJvm.stop(run);
            }
        }
    }
}
