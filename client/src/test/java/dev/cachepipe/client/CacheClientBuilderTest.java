package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cachepipe.client.internal.ClientConfig;
import dev.cachepipe.support.redis.RedisMode;
import io.lettuce.core.RedisCredentials;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheClientBuilderTest {

    private static CacheClientBuilder valid() {
        return CacheClient.builder()
                .name("t")
                .redisUri("redis://127.0.0.1:6379")
                .bootstrapServers("127.0.0.1:9092");
    }

    private static RedisCredentials credentials(ClientConfig config) {
        return config.redisUri().getCredentialsProvider().resolveCredentials().block();
    }

    @Test
    void shouldNameBoundAndValueWhenSizeIsNegative() {
        assertThatThrownBy(() -> CacheClient.builder().l1MaximumSize(-3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("l1MaximumSize must be >= 0 but was -3");
    }

    @Test
    void shouldNameBoundAndValueWhenDurationsAreOutOfRange() {
        assertThatThrownBy(() -> CacheClient.builder().l1ExpireAfterWrite(Duration.ZERO))
                .hasMessage("l1ExpireAfterWrite must be > 0 but was PT0S");
        assertThatThrownBy(() -> CacheClient.builder().redisTimeout(Duration.ofMillis(-5)))
                .hasMessage("redisTimeout must be > 0 but was PT-0.005S");
        assertThatThrownBy(() -> CacheClient.builder().redisTimeout(Duration.ofMinutes(2)))
                .hasMessage("redisTimeout must be <= PT1M but was PT2M");
        assertThatThrownBy(() -> CacheClient.builder().leaseTime(Duration.ZERO))
                .hasMessage("leaseTime must be >= PT0.001S but was PT0S");
        assertThatThrownBy(() -> CacheClient.builder().loadWait(Duration.ofSeconds(-1)))
                .hasMessage("loadWait must be >= PT0S but was PT-1S");
        assertThatThrownBy(() -> CacheClient.builder().listenerMaxLag(0))
                .hasMessage("listenerMaxLag must be >= 1 but was 0");
        assertThatThrownBy(() -> CacheClient.builder().listenerMaxDisconnect(Duration.ZERO))
                .hasMessage("listenerMaxDisconnect must be > 0 but was PT0S");
    }

    @Test
    void shouldRejectRedisUriWithOtherSchemeWithoutEchoingThePassword() {
        assertThatThrownBy(() -> CacheClient.builder().redisUri("http://admin:s3cret@cache:6379"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("redisUri must start with redis:// or rediss://")
                .hasMessageContaining("http://***@cache:6379")
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void shouldAcceptTlsUriWithUserAndPasswordAndNeverPrintThem() {
        ClientConfig config =
                valid().redisUri("rediss://app:s3cret@cache.example:6380/2").config();

        assertThat(config.redisUri().isSsl()).isTrue();
        RedisCredentials credentials = credentials(config);
        assertThat(credentials.getUsername()).isEqualTo("app");
        assertThat(new String(credentials.getPassword())).isEqualTo("s3cret");
        assertThat(config.redisUri().getDatabase()).isEqualTo(2);
        assertThat(config.redisEndpoint()).isEqualTo("cache.example:6380");
        assertThat(config.toString()).contains("rediss://cache.example:6380").doesNotContain("s3cret", "app:");
    }

    @Test
    void shouldTakeClusterSeedsAndAModeAndRefuseAnUnknownMode() {
        ClientConfig config = valid().redisUri("redis://n1:7000,redis://n2:7001")
                .redisMode("cluster")
                .redisCredentials("app", "s3cret".toCharArray())
                .config();

        assertThat(config.redisTarget().seeds()).hasSize(2);
        assertThat(config.redisTarget().mode()).isEqualTo(RedisMode.CLUSTER);
        assertThat(config.redisEndpoint()).isEqualTo("n1:7000,n2:7001");
        assertThat(config.redisTarget().seeds())
                .allSatisfy(u -> assertThat(u.getCredentialsProvider()
                                .resolveCredentials()
                                .block()
                                .getUsername())
                        .isEqualTo("app"));
        assertThat(config.toString())
                .contains("redis://n1:7000,n2:7001 (cluster)")
                .doesNotContain("s3cret");
        assertThat(valid().config().redisTarget().mode()).isEqualTo(RedisMode.AUTO);
        assertThatThrownBy(() -> valid().redisMode("sentinel"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("redisMode must be auto, standalone or cluster but was 'sentinel'");
    }

    @Test
    void shouldLetExplicitCredentialsOverrideTheUri() {
        char[] password = "p4ss".toCharArray();
        CacheClientBuilder builder = valid().redisCredentials("svc", password);
        password[0] = 'X'; // the builder copied it

        ClientConfig config = builder.config();

        RedisCredentials credentials = credentials(config);
        assertThat(credentials.getUsername()).isEqualTo("svc");
        assertThat(new String(credentials.getPassword())).isEqualTo("p4ss");
    }

    @Test
    void shouldRejectKafkaPropertiesTheListenerOwns() {
        for (String key : new String[] {"group.id", "enable.auto.commit", "auto.offset.reset", "bootstrap.servers"}) {
            assertThatThrownBy(() -> CacheClient.builder().kafkaProperty(key, "x"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("kafka property " + key + " cannot be set");
        }
        assertThatThrownBy(() -> CacheClient.builder().kafkaProperties(Map.of("group.id", "g")))
                .hasMessageStartingWith("kafka property group.id cannot be set");
    }

    @Test
    void shouldRejectInvalidNamesWithTheValue() {
        assertThatThrownBy(() -> CacheClient.builder().keyPrefix("bad prefix"))
                .hasMessage("keyPrefix must match [A-Za-z0-9_.{}-]+(:[A-Za-z0-9_.{}-]+)* but was 'bad prefix'");
        assertThatThrownBy(() -> CacheClient.builder().keyPrefix("cache:")).hasMessageContaining("but was 'cache:'");
        assertThatThrownBy(() -> CacheClient.builder().invalidationsTopic("no/slash"))
                .hasMessage("invalidationsTopic must be a Kafka topic name ([A-Za-z0-9._-]{1,249}) but was 'no/slash'");
        assertThatThrownBy(() -> CacheClient.builder().name("a b")).hasMessageContaining("but was 'a b'");
        assertThatThrownBy(() -> CacheClient.builder().bootstrapServers(" "))
                .hasMessage("bootstrapServers must not be blank but was ' '");
    }

    @Test
    void shouldRequireRedisAndKafkaWhenBuilding() {
        assertThatThrownBy(
                        () -> CacheClient.builder().bootstrapServers("k:9092").build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("redisUri is required");
        assertThatThrownBy(
                        () -> CacheClient.builder().redisUri("redis://r:6379").build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("bootstrapServers is required");
    }

    @Test
    void shouldUseDocumentedDefaultsWhenNothingElseIsSet() {
        ClientConfig config = valid().config();

        assertThat(config.keyPrefix()).isEqualTo("cache");
        assertThat(config.invalidationsTopic()).isEqualTo("cachepipe.invalidations");
        assertThat(config.l1MaximumSize()).isEqualTo(10_000);
        assertThat(config.l1ExpireAfterWrite()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.redisTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.redisUri().getTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.leaseTime()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.loadWait()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.listenerMaxLag()).isEqualTo(10_000);
        assertThat(config.listenerMaxDisconnect()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.meterRegistry()).isNotNull();
    }

    @Test
    void shouldNotChangeTheBuilderWhenBuilding() {
        CacheClientBuilder builder =
                valid().kafkaProperty("security.protocol", "PLAINTEXT").l1MaximumSize(7);

        ClientConfig first = builder.config();
        builder.l1MaximumSize(9).kafkaProperty("client.rack", "r1");
        ClientConfig second = builder.config();

        assertThat(first.l1MaximumSize()).isEqualTo(7);
        assertThat(first.kafkaProperties()).containsOnlyKeys("security.protocol");
        assertThat(second.l1MaximumSize()).isEqualTo(9);
        assertThat(second.kafkaProperties()).containsOnlyKeys("security.protocol", "client.rack");
        assertThat(builder.config().name()).isEqualTo("t");
    }

    @Test
    void shouldGiveEachDefaultNamedClientItsOwnName() {
        CacheClientBuilder builder =
                CacheClient.builder().redisUri("redis://127.0.0.1:6379").bootstrapServers("127.0.0.1:9092");

        assertThat(builder.config().name())
                .isNotEqualTo(builder.config().name())
                .startsWith("cachepipe-client-");
    }
}
