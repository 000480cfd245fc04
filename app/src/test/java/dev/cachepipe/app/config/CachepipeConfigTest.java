package dev.cachepipe.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.schemas.SchemaRegistryClient;
import dev.cachepipe.schemas.WireFormat;
import dev.cachepipe.support.redis.RedisMode;
import dev.cachepipe.topology.CacheMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CachepipeConfigTest {

    private static final String MINIMAL = """
            entities:
              user:
                topics: [users.events]
            """;

    @Test
    void shouldLoadBundledDefaultWhenNoFileGiven() {
        CachepipeConfig config = CachepipeConfig.parse(readDefault(), Map.of());
        assertThat(config.kafka().embedded()).isTrue();
        assertThat(config.redis().embedded()).isTrue();
        assertThat(config.entities()).containsOnlyKeys("user", "product", "session", "feature_flag", "order");
        assertThat(config.entities().get("user").ttl()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.entities().get("product").ttl()).isEqualTo(Duration.ofMinutes(1));
        assertThat(config.entities().get("session").ttl()).isEqualTo(Duration.ofHours(24));
        assertThat(config.entities().get("feature_flag").ttl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.entities().get("order").mode()).isEqualTo(CacheMode.INVALIDATE);
        assertThat(config.topics().partitions()).isEqualTo(3);
    }

    @Test
    void shouldApplyDefaultsWhenKeysAreOmitted() {
        CachepipeConfig config = CachepipeConfig.parse(MINIMAL, Map.of());
        assertThat(config.redis().keyPrefix()).isEqualTo("cache");
        assertThat(config.topics().mutations()).isEqualTo("cachepipe.mutations");
        assertThat(config.entities().get("user").mode()).isEqualTo(CacheMode.WRITE_THROUGH);
        assertThat(config.entities().get("user").maxPayloadBytes()).isEqualTo(1_048_576);
        assertThat(config.sourceTopics()).containsExactly("users.events");
    }

    @Test
    void shouldHealRedisByDefaultAndLetTheIntervalBeSet() {
        CachepipeConfig defaults = CachepipeConfig.parse(MINIMAL, Map.of());
        assertThat(defaults.writer().selfHealing()).isTrue();
        assertThat(defaults.writer().markerCheckInterval()).isEqualTo(Duration.ofSeconds(5));
        CachepipeConfig set = CachepipeConfig.parse(
                "writer:\n  selfHealing: false\n  markerCheckInterval: 30s\n" + MINIMAL, Map.of());
        assertThat(set.writer().selfHealing()).isFalse();
        assertThat(set.writer().markerCheckInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThatThrownBy(() -> CachepipeConfig.parse("writer:\n  selfHealing: sometimes\n" + MINIMAL, Map.of()))
                .hasMessageContaining("writer.selfHealing")
                .hasMessageContaining("'sometimes'")
                .hasMessageContaining("true or false");
    }

    @Test
    void shouldUseDynamicMembershipAndTenSecondSessionsByDefaultAndTakeAnInstanceId() {
        CachepipeConfig defaults = CachepipeConfig.parse(MINIMAL, Map.of());
        assertThat(defaults.kafka().staticMembership()).isFalse();
        assertThat(defaults.kafka().sessionTimeout()).isEqualTo(Duration.ofSeconds(10));
        CachepipeConfig bundled = CachepipeConfig.parse(readDefault(), Map.of("CACHEPIPE_INSTANCE_ID", "pod-0"));
        assertThat(bundled.kafka().instanceId()).isEqualTo("pod-0");
        assertThat(bundled.kafka().sessionTimeout()).isEqualTo(Duration.ofSeconds(10));
        CachepipeConfig set =
                CachepipeConfig.parse("kafka:\n  instanceId: node-1\n  sessionTimeout: 30s\n" + MINIMAL, Map.of());
        assertThat(set.kafka().staticMembership()).isTrue();
        assertThat(set.kafka().sessionTimeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void shouldRefuseABadInstanceIdOrSessionTimeoutNamingKeyValueAndAllowed() {
        assertThatThrownBy(() -> CachepipeConfig.parse("kafka:\n  instanceId: 'a b'\n" + MINIMAL, Map.of()))
                .hasMessageContaining("kafka.instanceId")
                .hasMessageContaining("'a b'")
                .hasMessageContaining("allowed characters");
        assertThatThrownBy(() -> CachepipeConfig.parse(
                        "kafka:\n  instanceId: x\n  properties: {group.instance.id: y}\n" + MINIMAL, Map.of()))
                .hasMessageContaining("kafka.instanceId")
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> CachepipeConfig.parse("kafka:\n  sessionTimeout: 2s\n" + MINIMAL, Map.of()))
                .hasMessageContaining("kafka.sessionTimeout")
                .hasMessageContaining("'2s'")
                .hasMessageContaining("between 6s and 30m");
    }

    @Test
    void shouldTakeClusterSeedsAndAModeAndRefuseBadOnesNamingKeyValueAndAllowed() {
        CachepipeConfig defaults = CachepipeConfig.parse(MINIMAL, Map.of());
        assertThat(defaults.redis().mode()).isEqualTo(RedisMode.AUTO);
        CachepipeConfig cluster = CachepipeConfig.parse(
                "redis:\n  uri: redis://n1:7000,redis://n2:7001\n  mode: cluster\n" + MINIMAL, Map.of());
        assertThat(cluster.redis().mode()).isEqualTo(RedisMode.CLUSTER);
        assertThat(cluster.redis().uri()).isEqualTo("redis://n1:7000,redis://n2:7001");

        assertThatThrownBy(() -> CachepipeConfig.parse("redis:\n  mode: sentinel\n" + MINIMAL, Map.of()))
                .hasMessageContaining("redis.mode")
                .hasMessageContaining("'sentinel'")
                .hasMessageContaining("auto, standalone or cluster");
        assertThatThrownBy(() ->
                        CachepipeConfig.parse("redis:\n  uri: redis://n1:7000,redis://n2:x\n" + MINIMAL, Map.of()))
                .hasMessageContaining("redis.uri");
        assertThatThrownBy(() ->
                        CachepipeConfig.parse("redis:\n  mode: cluster\n  keyPrefix: '{app}'\n" + MINIMAL, Map.of()))
                .hasMessageContaining("redis.keyPrefix")
                .hasMessageContaining("must not contain { or }");
    }

    @Test
    void shouldRememberVersionsForAWeekByDefaultAndRefuseLessThanAMinute() {
        CachepipeConfig defaults = CachepipeConfig.parse(MINIMAL, Map.of());
        assertThat(defaults.topologyConfig().versionRetention()).isEqualTo(Duration.ofDays(7));
        CachepipeConfig set = CachepipeConfig.parse("topology:\n  versionRetention: 30d\n" + MINIMAL, Map.of());
        assertThat(set.topologyConfig().versionRetention()).isEqualTo(Duration.ofDays(30));
        assertThatThrownBy(() -> CachepipeConfig.parse("topology:\n  versionRetention: 30s\n" + MINIMAL, Map.of()))
                .hasMessageContaining("topology.versionRetention")
                .hasMessageContaining("'30s'")
                .hasMessageContaining("at least 1m");
        assertThatThrownBy(() -> CachepipeConfig.parse("topology:\n  retention: 30d\n" + MINIMAL, Map.of()))
                .hasMessageContaining("topology.retention");
    }

    @Test
    void shouldSubstituteEnvironmentWhenVariablesAreSet() {
        String yaml = """
                kafka:
                  bootstrapServers: ${BROKERS:-embedded}
                  properties:
                    security.protocol: ${PROTOCOL:-PLAINTEXT}
                redis:
                  uri: redis://${REDIS_HOST}:6379
                  password: ${REDIS_PASSWORD}
                """ + MINIMAL;
        CachepipeConfig config = CachepipeConfig.parse(
                yaml, Map.of("BROKERS", "b1:9092,b2:9092", "REDIS_HOST", "cache", "REDIS_PASSWORD", "s3cret"));
        assertThat(config.kafka().bootstrapServers()).isEqualTo("b1:9092,b2:9092");
        assertThat(config.kafka().properties()).containsEntry("security.protocol", "PLAINTEXT");
        assertThat(config.redis().uri()).isEqualTo("redis://cache:6379");
        assertThat(config.redis().password()).isEqualTo("s3cret");
        assertThat(config.redis().toString()).doesNotContain("s3cret");
    }

    @Test
    void shouldNameKeyValueAndAllowedWhenModeIsWrong() {
        assertThatThrownBy(() -> CachepipeConfig.parse(MINIMAL + "    mode: write-behind\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("entities.user.mode")
                .hasMessageContaining("write-behind")
                .hasMessageContaining("write-through, invalidate, expire-only");
    }

    @Test
    void shouldNameKeyWhenDurationIsMalformed() {
        assertThatThrownBy(() -> CachepipeConfig.parse(MINIMAL + "    ttl: 5 minutes\n", Map.of()))
                .hasMessageContaining("entities.user.ttl")
                .hasMessageContaining("'5 minutes'")
                .hasMessageContaining("30s");
    }

    @Test
    void shouldRejectJitterOutOfRange() {
        assertThatThrownBy(() -> CachepipeConfig.parse(MINIMAL + "    ttlJitter: 1.5\n", Map.of()))
                .hasMessageContaining("entities.user.ttlJitter")
                .hasMessageContaining("1.5");
    }

    @Test
    void shouldRejectUnknownKeyWhenMisspelt() {
        assertThatThrownBy(() -> CachepipeConfig.parse("topics:\n  partitons: 3\n" + MINIMAL, Map.of()))
                .hasMessageContaining("topics.partitons")
                .hasMessageContaining("partitions");
    }

    @Test
    void shouldRejectMissingEnvironmentVariableWithoutDefault() {
        assertThatThrownBy(() -> CachepipeConfig.parse("redis:\n  uri: ${NOPE}\n" + MINIMAL, Map.of()))
                .hasMessageContaining("redis.uri")
                .hasMessageContaining("NOPE");
    }

    @Test
    void shouldNotShowPasswordWhenRedisUriIsRejected() {
        assertThatThrownBy(() -> CachepipeConfig.parse("redis:\n  uri: http://u:hunter2@h\n" + MINIMAL, Map.of()))
                .hasMessageContaining("redis.uri")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void shouldNotShowPasswordWhenLettuceCannotParseUri() {
        assertThatThrownBy(
                        () -> CachepipeConfig.parse("redis:\n  uri: redis://u:p@ss word@h:6379\n" + MINIMAL, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("redis.uri")
                .hasMessageNotContaining("ss word")
                .hasNoCause();
    }

    @Test
    void shouldMaskSecretKafkaPropertiesWhenPrinted() {
        String yaml = "kafka:\n  properties:\n    sasl.jaas.config: secret-jaas\n    ssl.key.password: pw1\n"
                + "    security.protocol: SASL_SSL\n" + MINIMAL;
        String shown = CachepipeConfig.parse(yaml, Map.of()).kafka().toString();
        assertThat(shown).contains("SASL_SSL").doesNotContain("secret-jaas").doesNotContain("pw1");
    }

    @Test
    void shouldRejectDurationThatOverflows() {
        assertThatThrownBy(() -> CachepipeConfig.parse(MINIMAL + "    ttl: 99999999999999999999d\n", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("entities.user.ttl");
        assertThatThrownBy(() -> CachepipeConfig.parse(MINIMAL + "    ttl: 100000d\n", Map.of()))
                .isInstanceOf(ConfigException.class);
    }

    private static final String V0_SCHEMA = """
            {"type":"record","name":"DomainEvent","namespace":"dev.cachepipe.avro","fields":[
              {"name":"eventId","type":"string"},
              {"name":"entityType","type":"string"},
              {"name":"entityId","type":"string"},
              {"name":"version","type":"long"},
              {"name":"op","type":{"type":"enum","name":"Operation","symbols":["UPSERT","DELETE"]}},
              {"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"}},
              {"name":"payload","type":["null","bytes"],"default":null}]}
            """;

    @Test
    void shouldLoadOlderDomainEventSchemasRelativeToTheConfigFile(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        java.nio.file.Files.writeString(dir.resolve("domain-event-v0.avsc"), V0_SCHEMA);
        Path file = dir.resolve("cachepipe.yaml");
        java.nio.file.Files.writeString(
                file, "schemas:\n  domainEventWriterSchemas: [domain-event-v0.avsc]\n" + MINIMAL);

        CachepipeConfig config = CachepipeConfig.load(file);

        assertThat(config.domainEventWriterSchemas())
                .singleElement()
                .satisfies(s -> assertThat(s.getField("attributes")).isNull());
    }

    @Test
    void shouldRejectWriterSchemaThatCannotBeReadIntoDomainEvent(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        java.nio.file.Files.writeString(
                dir.resolve("bad.avsc"),
                V0_SCHEMA.replace(
                        "{\"name\":\"version\",\"type\":\"long\"}", "{\"name\":\"version\",\"type\":\"string\"}"));
        java.nio.file.Files.writeString(dir.resolve("other.avsc"), V0_SCHEMA.replace("\"DomainEvent\"", "\"Other\""));
        Path file = dir.resolve("cachepipe.yaml");

        java.nio.file.Files.writeString(file, "schemas:\n  domainEventWriterSchemas: [bad.avsc]\n" + MINIMAL);
        assertThatThrownBy(() -> CachepipeConfig.load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("schemas.domainEventWriterSchemas")
                .hasMessageContaining("bad.avsc")
                .hasMessageContaining("version");

        java.nio.file.Files.writeString(file, "schemas:\n  domainEventWriterSchemas: [other.avsc]\n" + MINIMAL);
        assertThatThrownBy(() -> CachepipeConfig.load(file))
                .hasMessageContaining("must describe dev.cachepipe.avro.DomainEvent");

        java.nio.file.Files.writeString(file, "schemas:\n  domainEventWriterSchemas: [missing.avsc]\n" + MINIMAL);
        assertThatThrownBy(() -> CachepipeConfig.load(file)).hasMessageContaining("cannot read");
    }

    @Test
    void shouldReadBothFormatsWithoutARegistryByDefault() {
        CachepipeConfig config = CachepipeConfig.parse(MINIMAL, Map.of());
        assertThat(config.decoding().format()).isEqualTo(WireFormat.AUTO);
        assertThat(config.decoding().entityFormats()).containsEntry("user", WireFormat.AUTO);
        assertThat(config.decoding().hasSchemaSource()).isFalse();
        assertThat(config.schemaSource()).isNull();
        assertThat(config.eventDecoding(null).formatOf("users.events")).isEqualTo(WireFormat.AUTO);
    }

    @Test
    void shouldTakeARegistryWithCredentialsAndAFormatPerEntityTypeWithoutShowingThePassword() {
        CachepipeConfig config = CachepipeConfig.parse("""
                schemas:
                  format: single-object
                  registry:
                    url: https://registry.example:8081/apis/ccompat/v7
                    username: cachepipe
                    password: ${REGISTRY_PASSWORD}
                    maxWait: 30s
                entities:
                  user:
                    topics: [users.events]
                    format: confluent
                  order:
                    topics: [orders.events]
                """, Map.of("REGISTRY_PASSWORD", "hunter2-secret"));
        SchemaRegistryClient.Options registry = config.decoding().registry();
        assertThat(registry.url()).hasToString("https://registry.example:8081/apis/ccompat/v7");
        assertThat(registry.password()).isEqualTo("hunter2-secret");
        assertThat(registry.maxWait()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.toString()).doesNotContain("hunter2-secret");
        assertThat(config.eventDecoding(null).formatOf("users.events")).isEqualTo(WireFormat.CONFLUENT);
        assertThat(config.eventDecoding(null).formatOf("orders.events")).isEqualTo(WireFormat.SINGLE_OBJECT);
        assertThat(config.schemaSource()).isInstanceOf(SchemaRegistryClient.class);
    }

    @Test
    void shouldRefuseBadFormatsAndRegistrySettingsNamingKeyValueAndAllowed(@org.junit.jupiter.api.io.TempDir Path dir) {
        assertThatThrownBy(() -> CachepipeConfig.parse("schemas:\n  format: protobuf\n" + MINIMAL, Map.of()))
                .hasMessageContaining("schemas.format")
                .hasMessageContaining("'protobuf'")
                .hasMessageContaining("single-object, confluent, auto");
        assertThatThrownBy(() -> CachepipeConfig.parse("schemas:\n  format: confluent\n" + MINIMAL, Map.of()))
                .hasMessageContaining("schemas.format")
                .hasMessageContaining("schemas.registry.url or schemas.registry.directory");
        assertThatThrownBy(() -> CachepipeConfig.parse("""
                        entities:
                          user:
                            topics: [shared.events]
                            format: confluent
                          order:
                            topics: [shared.events]
                            format: single-object
                        schemas:
                          registry:
                            url: http://registry:8081
                        """, Map.of()))
                .hasMessageContaining("entities.order.format")
                .hasMessageContaining("shared.events")
                .hasMessageContaining("share its format");
        assertThatThrownBy(() -> CachepipeConfig.parse(
                        "schemas:\n  registry:\n    url: http://registry:8081\n    directory: " + dir + "\n" + MINIMAL,
                        Map.of()))
                .hasMessageContaining("schemas.registry.directory")
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> CachepipeConfig.parse(
                        "schemas:\n  registry:\n    url: http://registry:8081\n    maxWait: 5m\n" + MINIMAL, Map.of()))
                .hasMessageContaining("schemas.registry.maxWait")
                .hasMessageContaining("max.poll.interval.ms (300000 ms)");
        assertThatThrownBy(() -> CachepipeConfig.parse(
                        "schemas:\n  registry:\n    url: https://bob:pa55word-x@registry:8081\n" + MINIMAL, Map.of()))
                .hasMessageContaining("schemas.registry.url")
                .hasMessageContaining("username and password")
                .hasMessageNotContaining("pa55word-x");
        assertThatThrownBy(() -> CachepipeConfig.parse(
                        "schemas:\n  registry:\n    directory: no-such-dir\n" + MINIMAL, Map.of()))
                .hasMessageContaining("schemas.registry.directory")
                .hasMessageContaining("readable directory");
        CachepipeConfig fromDir =
                CachepipeConfig.parse("schemas:\n  registry:\n    directory: " + dir + "\n" + MINIMAL, Map.of());
        assertThat(fromDir.decoding().registryDirectory()).isEqualTo(dir);
        assertThat(fromDir.schemaSource().describe()).contains(dir.toString());
    }

    @Test
    void shouldRejectInvalidEntityTypeName() {
        assertThatThrownBy(() -> CachepipeConfig.parse("entities:\n  User:\n    topics: [u]\n", Map.of()))
                .hasMessageContaining("entities.User")
                .hasMessageContaining("[a-z0-9_-]{1,64}");
    }

    @Test
    void shouldRejectSourceTopicThatIsAnInternalTopic() {
        assertThatThrownBy(() -> CachepipeConfig.parse("entities:\n  user:\n    topics: [cachepipe.dlq]\n", Map.of()))
                .hasMessageContaining("entities.user.topics")
                .hasMessageContaining("cachepipe.dlq");
    }

    @Test
    void shouldReportMissingFileByName() {
        assertThatThrownBy(() -> CachepipeConfig.load(Path.of("does/not/exist.yaml")))
                .hasMessageContaining("does/not/exist.yaml");
    }

    private static String readDefault() {
        try {
            return java.nio.file.Files.readString(Path.of("../config/cachepipe.yaml"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
