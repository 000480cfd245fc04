package dev.cachepipe.app.testing;

import dev.cachepipe.app.Main;
import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.demo.ConsistencyCheck;
import dev.cachepipe.app.demo.EventGenerator;
import dev.cachepipe.app.demo.Oracle;
import dev.cachepipe.app.demo.WriterStats;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.writer.WriteOutcome;
import dev.cachepipe.writer.WriterMeters;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;

/**
 * One test's pipeline: a configuration with its own application id, topics, key prefix and state dir (under
 * target/), pointing at the shared broker and the given Redis, and optionally the real {@link Pipeline} running in
 * this JVM. Entity types: {@code user} (write-through) and {@code order} (invalidate), long TTLs and no jitter so
 * that nothing expires during a test.
 */
public final class TestPipeline implements AutoCloseable {
    public final String id;
    public final CachepipeConfig config;
    public final String yaml;
    public final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Infrastructure infra;
    private Pipeline pipeline;

    private TestPipeline(String id, String yaml) {
        this.id = id;
        this.yaml = yaml;
        this.config = CachepipeConfig.parse(yaml, Map.of());
    }

    /** A configuration for a test named {@code name}; nothing started. */
    public static TestPipeline configure(String name, RedisServer redis, int partitions, String kafkaProperties) {
        return configure(
                name, redis, partitions, kafkaProperties, EmbeddedKafka.shared().bootstrapServers());
    }

    /** As {@link #configure(String, RedisServer, int, String)}, against the broker at {@code bootstrapServers}. */
    public static TestPipeline configure(
            String name, RedisServer redis, int partitions, String kafkaProperties, String bootstrapServers) {
        return configure(name, redis.uri(), "auto", partitions, kafkaProperties, bootstrapServers);
    }

    /**
     * A configuration for a test named {@code name} against the Redis at {@code redisUris} (one URI, or a cluster's
     * seeds separated by commas) in {@code redis.mode} {@code redisMode}, on the shared broker; nothing started.
     */
    public static TestPipeline configure(String name, String redisUris, String redisMode, int partitions) {
        return configure(
                name,
                redisUris,
                redisMode,
                partitions,
                "",
                EmbeddedKafka.shared().bootstrapServers());
    }

    /**
     * As {@link #configure(String, String, String, int)}, with {@code moreEntities} (YAML, each line indented by four
     * spaces: entity types beside {@code user} and {@code order}).
     */
    public static TestPipeline configureWithEntities(
            String name, String redisUris, String redisMode, int partitions, String moreEntities) {
        return configure(
                name,
                redisUris,
                redisMode,
                partitions,
                "",
                EmbeddedKafka.shared().bootstrapServers(),
                moreEntities);
    }

    private static TestPipeline configure(
            String name,
            String redisUris,
            String redisMode,
            int partitions,
            String kafkaProperties,
            String bootstrapServers) {
        return configure(name, redisUris, redisMode, partitions, kafkaProperties, bootstrapServers, "");
    }

    private static TestPipeline configure(
            String name,
            String redisUris,
            String redisMode,
            int partitions,
            String kafkaProperties,
            String bootstrapServers,
            String moreEntities) {
        String id = name + "-" + UUID.randomUUID().toString().substring(0, 8);
        Path stateDir = Path.of(System.getProperty("java.io.tmpdir"), "streams", id);
        String yaml = """
                kafka:
                  bootstrapServers: %1$s
                  applicationId: %2$s
                  stateDir: %3$s
                  properties: {%5$s}
                redis:
                  uri: %4$s
                  mode: %7$s
                  keyPrefix: %2$s
                  timeout: 1s
                topics:
                  mutations: %2$s.mutations
                  invalidations: %2$s.invalidations
                  deadLetter: %2$s.dlq
                  partitions: %6$d
                writer:
                  maxBatchSize: 500
                  retryBackoffMin: 50ms
                  retryBackoffMax: 1s
                entities:
                  user:
                    topics: [%2$s.users]
                    mode: write-through
                    ttl: 1h
                    ttlJitter: 0
                    tombstoneTtl: 30m
                    maxPayloadBytes: 2048
                    inlineInvalidationMaxBytes: 1024
                  order:
                    topics: [%2$s.orders]
                    mode: invalidate
                    ttl: 1h
                    ttlJitter: 0
                    tombstoneTtl: 30m
                %8$s""".formatted(
                        bootstrapServers,
                        id,
                        stateDir.toAbsolutePath(),
                        redisUris,
                        kafkaProperties,
                        partitions,
                        redisMode,
                        moreEntities.replace("%2$s", id));
        return new TestPipeline(id, yaml);
    }

    /**
     * The same configuration (application id, topics, key prefix, state dir) pointed at another Redis, e.g. a replica
     * promoted after the first one failed; nothing started.
     */
    public TestPipeline withRedis(RedisServer other) {
        String uri = "uri: " + config.redis().uri() + "\n";
        if (!yaml.contains(uri)) {
            throw new IllegalStateException("no '" + uri.strip() + "' in " + yaml);
        }
        return new TestPipeline(id, yaml.replace(uri, "uri: " + other.uri() + "\n"));
    }

    /** The same configuration with {@code lines} (YAML, indented by two spaces) added under {@code redis:}. */
    public TestPipeline withRedisSettings(String lines) {
        if (!yaml.contains("\nredis:\n")) {
            throw new IllegalStateException("no 'redis:' section in " + yaml);
        }
        return new TestPipeline(id, yaml.replace("\nredis:\n", "\nredis:\n" + lines.stripTrailing() + "\n"));
    }

    /** The same configuration with {@code change} applied to its YAML (e.g. a {@code schemas:} section appended). */
    public TestPipeline withYaml(java.util.function.UnaryOperator<String> change) {
        return new TestPipeline(id, change.apply(yaml));
    }

    /**
     * The same configuration (application id, topics, key prefix, state dir) against another broker: as if the
     * installation were pointed at a new Kafka cluster.
     */
    public TestPipeline onKafka(String bootstrapServers) {
        return new TestPipeline(
                id,
                yaml.replace(
                        "bootstrapServers: " + config.kafka().bootstrapServers() + "\n",
                        "bootstrapServers: " + bootstrapServers + "\n"));
    }

    /** Configures and starts the pipeline in this JVM, waiting until Kafka Streams runs. */
    public static TestPipeline start(String name, RedisServer redis, int partitions) {
        TestPipeline p = configure(name, redis, partitions, "");
        p.startPipeline();
        return p;
    }

    public void startPipeline() {
        infra = Infrastructure.start(config);
        pipeline = Pipeline.start(config, infra, registry);
        awaitRunning();
    }

    /** Creates the topics without starting anything (for a pipeline that runs in another process). */
    public void createTopics() {
        Infrastructure i = Infrastructure.start(config);
        try {
            Pipeline.createTopics(config, i);
        } finally {
            i.close();
        }
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    /** Stops the pipeline running in this JVM (the topics and Redis stay). */
    public void stopPipeline() {
        if (pipeline != null) {
            pipeline.close();
            pipeline = null;
        }
    }

    /** The configuration written to target/tmp/ID.yaml, for the CLI's --config. */
    public Path configFile() {
        Path file = Path.of(System.getProperty("java.io.tmpdir"), id + ".yaml");
        try {
            java.nio.file.Files.writeString(file, yaml);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return file;
    }

    /**
     * The configuration of one instance of several, written to target/tmp/ID-INSTANCE.yaml for {@code run --config}:
     * its own Streams state directory and the extra {@code kafka:} line {@code kafkaLine} (e.g. {@code instanceId:
     * a}).
     */
    public Path instanceConfig(String instance, String kafkaLine) {
        String streamsState = "/streams/" + id;
        if (!yaml.contains(streamsState) || !yaml.contains("kafka:\n")) {
            throw new IllegalStateException("no '" + streamsState + "' or 'kafka:' in " + yaml);
        }
        Path file = Path.of(System.getProperty("java.io.tmpdir"), id + "-" + instance + ".yaml");
        try {
            java.nio.file.Files.writeString(
                    file,
                    yaml.replace(streamsState, streamsState + "-" + instance)
                            .replace("kafka:\n", "kafka:\n  " + kafkaLine + "\n"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return file;
    }

    /** Runs the CLI in this JVM with {@code args}, capturing what it prints. */
    public static CliRun cli(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Main.execute(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true), args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** What one CLI run printed and returned. */
    public record CliRun(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }

    public List<EntityPolicy> policies() {
        return List.copyOf(config.entities().values());
    }

    public EntityPolicy policy(String type) {
        return config.entities().get(type);
    }

    public Oracle oracle() {
        return new Oracle(config.redis().keyPrefix(), policies());
    }

    public Map<String, Object> kafkaProperties() {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", config.kafka().bootstrapServers());
        return props;
    }

    public EventGenerator generator(EventGenerator.Settings settings, Oracle oracle) {
        return new EventGenerator(kafkaProperties(), settings, oracle);
    }

    public ConsistencyCheck check(Oracle oracle) {
        String password = config.redis().password();
        return new ConsistencyCheck(
                RedisTarget.parse(
                                config.redis().uri(),
                                config.redis().mode(),
                                config.redis().username(),
                                password == null || password.isEmpty() ? null : password.toCharArray(),
                                null)
                        .withTls(config.redis().tls()),
                oracle);
    }

    public String writerGroup() {
        return config.kafka().applicationId() + "-writer";
    }

    /** The writer group's committed offsets on the mutations topic. */
    public Map<TopicPartition, Long> committedWriterOffsets() throws Exception {
        try (Admin admin = EmbeddedKafka.shared().admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(writerGroup())
                    .partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
            return offsets.entrySet().stream()
                    .filter(e -> e.getValue() != null)
                    .collect(Collectors.toMap(
                            Map.Entry::getKey, e -> e.getValue().offset()));
        }
    }

    /** The end offsets of the mutations topic: how far the topology has written. */
    public Map<TopicPartition, Long> mutationEndOffsets() throws Exception {
        try (Admin admin = EmbeddedKafka.shared().admin()) {
            String topic = config.topics().mutations();
            Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
            for (int i = 0; i < config.topics().partitions(); i++) {
                latest.put(new TopicPartition(topic, i), org.apache.kafka.clients.admin.OffsetSpec.latest());
            }
            return admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet().stream()
                    .collect(Collectors.toMap(
                            Map.Entry::getKey, e -> e.getValue().offset()));
        }
    }

    public static long sum(Map<TopicPartition, Long> offsets) {
        return offsets.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Sum of the writer's {@link WriterMeters#WRITES} counters with this outcome. */
    public long writes(WriteOutcome outcome) {
        return new WriterStats(registry).writes(outcome);
    }

    public long invalidationsPublished() {
        return new WriterStats(registry).invalidations();
    }

    private void awaitRunning() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (pipeline.streams().state() != KafkaStreams.State.RUNNING) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "Kafka Streams is " + pipeline.streams().state() + " after 60 s");
            }
            sleep(50);
        }
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (pipeline != null) {
            pipeline.close();
            pipeline = null;
        }
        if (infra != null) {
            infra.close();
            infra = null;
        }
        registry.close();
    }
}
