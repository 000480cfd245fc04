package dev.cachepipe.app.runtime;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.config.ConfigException;
import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.SchemaRegistryClient;
import dev.cachepipe.schemas.SchemaRegistryUnavailableException;
import dev.cachepipe.schemas.SchemaSource;
import dev.cachepipe.support.AccessDenied;
import dev.cachepipe.support.kafka.PartitionLeaders;
import dev.cachepipe.topology.CachepipeTopology;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.CacheWriter;
import dev.cachepipe.writer.WriterConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running pipeline in one process: the Kafka Streams topology and the cache writer, started in order and
 * stopped cleanly by {@link #close()}.
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

    /** Stream threads that die more often than this within {@link #REPLACE_WINDOW} stop the pipeline. */
    static final int MAX_THREAD_REPLACEMENTS = 5;

    static final Duration REPLACE_WINDOW = Duration.ofMinutes(10);

    /** Largest record Kafka takes by default ({@code max.request.size}, {@code message.max.bytes}). */
    private static final int KAFKA_DEFAULT_MAX_RECORD = 1_048_576;

    /** Room for the key, the ids and the other fields of a mutation beside its payload. */
    private static final int MUTATION_OVERHEAD = 64 * 1024;

    /** Appended to {@code kafka.instanceId} for the writer's consumer, so that it differs from the stream threads'. */
    static final String WRITER_INSTANCE_SUFFIX = "-writer";

    private final KafkaStreams streams;
    private final CacheWriter writer;
    private final Thread writerThread;
    private final CompletableFuture<String> failure = new CompletableFuture<>();
    private final FailureWindow threadDeaths = new FailureWindow(MAX_THREAD_REPLACEMENTS, REPLACE_WINDOW);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final SchemaRegistryClient registryClient; // null: no registry configured

    private Pipeline(KafkaStreams streams, CacheWriter writer, SchemaSource schemas) {
        this.streams = streams;
        this.writer = writer;
        this.registryClient = schemas instanceof SchemaRegistryClient c ? c : null;
        this.writerThread = new Thread(this::runWriter, "cachepipe-writer");
        streams.setUncaughtExceptionHandler(this::onStreamThreadFailure);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.ERROR) {
                failure.complete("Kafka Streams failed (state ERROR)");
            }
        });
    }

    private void runWriter() {
        try {
            writer.run();
        } catch (RuntimeException | Error e) {
            AccessDenied denied = AccessDenied.in("Kafka refused the cache writer", e);
            failure.complete("the cache writer stopped: " + (denied != null ? denied.getMessage() : e));
        }
    }

    /**
     * A stream thread that died is replaced (the task retries its records), but a record that kills every thread
     * that touches it would loop forever: after {@link #MAX_THREAD_REPLACEMENTS} deaths within {@link
     * #REPLACE_WINDOW} the pipeline stops and reports why, so an orchestrator restarts it and alerts. An authorization
     * or authentication failure stops it at once: no new thread would fare better. A schema registry that stayed
     * unreachable for {@code schemas.registry.maxWait} while a record waited for it is an outage, not a failing record:
     * the thread is replaced without counting, so that it reads that record again (nothing was committed past it) and
     * waits again, for as long as the outage lasts.
     */
    private StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse onStreamThreadFailure(Throwable e) {
        if (SchemaRegistryUnavailableException.isCauseOf(e)) {
            log.warn(
                    "Stream thread stopped while the schema registry does not answer; replacing it: its records are"
                            + " read again from the last commit and wait for the registry ({})",
                    Redact.describe(e));
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        }
        AccessDenied denied = AccessDenied.in("Kafka refused Kafka Streams", e);
        if (denied != null) {
            // no replacement thread would be allowed more: stop now, so that `run` exits and says why
            log.error("Stream thread failed: {}; stopping the pipeline", denied.getMessage(), e);
            failure.complete(denied.getMessage());
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        if (threadDeaths.recordAndCheck(System.nanoTime())) {
            log.error(
                    "Stream threads failed {} times within {}; stopping the pipeline",
                    threadDeaths.count(),
                    REPLACE_WINDOW,
                    e);
            failure.complete("stream threads keep failing: " + e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        log.error("Stream thread failed; replacing it", e);
        return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    /**
     * Completes (with the reason) when the pipeline stopped by itself: the writer hit a fatal error, or Kafka Streams
     * failed for good. A clean {@link #close()} does not complete it.
     */
    public CompletableFuture<String> failure() {
        return failure;
    }

    /** Creates missing topics, then starts the topology and the writer. */
    public static Pipeline start(CachepipeConfig config, Infrastructure infra, MeterRegistry registry) {
        createTopics(config, infra);
        try (Admin admin = Admin.create(infra.kafkaClientProperties())) {
            LocalStateOwner.verify(
                    admin, infra.streamsStateDir(), config.kafka().applicationId(), stateTopics(config));
        }

        Properties props = new Properties();
        props.putAll(config.kafka().properties());
        props.putAll(membership(config.kafka(), ""));
        // with the registry: the dead-letter handlers count into it (see CachepipeTopology.streamsProperties)
        props.putAll(CachepipeTopology.streamsProperties(config.topologyConfig(), registry));
        Object rocksDb = config.kafka().properties().get(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG);
        if (rocksDb != null) {
            props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, rocksDb); // the operator's RocksDB settings win
        }
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.kafka().applicationId());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, infra.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, infra.streamsStateDir().toString());
        props.putIfAbsent(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "1000");
        props.putIfAbsent(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), "5");
        // Larger batches of mutations and changelog records: fewer produce requests per event while draining.
        props.putIfAbsent(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), "65536");
        // A task reads each entity type's topic; their records concern different keys, so there is nothing to gain
        // from holding one topic back until the other has data (Kafka's default, 0, also costs a lag check and a
        // formatted trace message per record while a partition is empty): process what is there at once.
        props.putIfAbsent(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, "-1");
        // At a trickle of events a fetch that returns at the first record costs a round trip per record (and the
        // broker's CPU): wait up to 5 ms for 64 KB instead (a backlog fills that at once)
        props.putIfAbsent(StreamsConfig.mainConsumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), "65536");
        props.putIfAbsent(StreamsConfig.mainConsumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), "5");
        // A mutation is its payload plus a few ids: let the largest allowed payload through.
        props.putIfAbsent(
                StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
                Integer.toString(maxMutationBytes(config)));

        WriterConfig writerConfig;
        try {
            writerConfig = writerConfig(config, infra.bootstrapServers());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("kafka.properties: " + e.getMessage());
        }
        if (!config.writer().selfHealing()) {
            writerConfig = writerConfig.withKeyPrefix(null);
        }
        SchemaSource schemas = config.schemaSource();
        KafkaStreams streams = new KafkaStreams(
                CachepipeTopology.build(config.topologyConfig(), config.eventDecoding(schemas), registry), props);
        CacheWriter writer;
        try {
            writer = new CacheWriter(writerConfig, infra.redisTarget(), registry);
        } catch (RuntimeException e) {
            streams.close(Duration.ofSeconds(10));
            throw e;
        }
        Pipeline pipeline = new Pipeline(streams, writer, schemas);
        try {
            streams.start();
            pipeline.writerThread.start();
        } catch (RuntimeException e) {
            pipeline.close();
            throw e;
        }
        log.info(
                "cachepipe running: Kafka {}, Redis {}, entity types {}",
                infra.bootstrapServers(),
                infra.redisDescription(),
                config.entities().keySet());
        return pipeline;
    }

    /**
     * The group membership settings of Kafka Streams ({@code suffix} empty: Streams derives one {@code
     * group.instance.id} per stream thread) or of the writer: {@code group.instance.id} = {@code kafka.instanceId} +
     * {@code suffix} when one is set; {@code session.timeout.ms} = {@code kafka.sessionTimeout}, so that the others take
     * over a dead instance's partitions within it, and a heartbeat of a third of it (at most 3 s). What {@code
     * kafka.properties} sets explicitly wins.
     */
    static Map<String, String> membership(CachepipeConfig.Kafka kafka, String suffix) {
        Map<String, String> m = new HashMap<>();
        if (kafka.staticMembership()) {
            m.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, kafka.instanceId() + suffix);
        }
        long session = kafka.sessionTimeout().toMillis();
        m.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(session));
        m.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Long.toString(Math.min(3000, session / 3)));
        m.keySet().removeAll(kafka.properties().keySet());
        return m;
    }

    /**
     * The cache writer's configuration: group {@code <applicationId>-writer} (a static member {@code
     * <instanceId>-writer} when {@code kafka.instanceId} is set), the key prefix (self-healing on) and the marker
     * check interval.
     */
    public static WriterConfig writerConfig(CachepipeConfig config, String bootstrapServers) {
        Map<String, String> kafkaProperties = new HashMap<>(config.kafka().properties());
        kafkaProperties.putAll(membership(config.kafka(), WRITER_INSTANCE_SUFFIX));
        return new WriterConfig(
                        bootstrapServers,
                        kafkaProperties,
                        config.kafka().applicationId() + "-writer",
                        config.topics().mutations(),
                        config.topics().invalidations(),
                        config.writer().maxBatchSize(),
                        config.redis().timeout(),
                        config.writer().retryBackoffMin(),
                        config.writer().retryBackoffMax())
                .withKeyPrefix(config.redis().keyPrefix())
                .withMarkerCheckInterval(config.writer().markerCheckInterval());
    }

    /** Whether the writer currently reaches Redis and Kafka, and the topology its schema registry (if any). */
    public boolean healthy() {
        return writer.healthy() && streams.state().isRunningOrRebalancing() && registryUnavailable() == null;
    }

    /** Why the pipeline is unhealthy, or {@code "ok"}. */
    public String healthReason() {
        if (!streams.state().isRunningOrRebalancing()) {
            return "Kafka Streams is " + streams.state();
        }
        if (!writer.healthy()) {
            return writer.healthReason();
        }
        String registry = registryUnavailable();
        return registry == null ? "ok" : "schema registry unavailable (events wait for it): " + registry;
    }

    private String registryUnavailable() {
        return registryClient == null
                ? null
                : registryClient.unavailableReason().orElse(null);
    }

    /** Whether the writer is rebuilding Redis from the mutations topic (self-healing). */
    public boolean rebuilding() {
        return writer.rebuilding();
    }

    /** The progress of the current or last self-healing rebuild. */
    public Optional<CacheRebuild.Progress> rebuildProgress() {
        return writer.rebuildProgress();
    }

    /** The Kafka Streams instance (for its state and metrics). */
    public KafkaStreams streams() {
        return streams;
    }

    /** The largest mutation record the configured payload limits allow, at least Kafka's default. */
    static int maxMutationBytes(CachepipeConfig config) {
        int maxPayload = config.entities().values().stream()
                .mapToInt(p -> p.maxPayloadBytes())
                .max()
                .orElse(0);
        return Math.max(KAFKA_DEFAULT_MAX_RECORD, maxPayload + MUTATION_OVERHEAD);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("Stopping cachepipe");
        writer.close();
        try {
            writerThread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // leave the group even as a static member, so that the others take the partitions over at once
        streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(30)));
        log.info("cachepipe stopped");
    }

    /**
     * The topics whose incarnation the local Streams state depends on: the sources, the mutations topic and the
     * versions store's changelog.
     */
    static List<String> stateTopics(CachepipeConfig config) {
        List<String> topics = new ArrayList<>(config.sourceTopics());
        topics.add(config.topics().mutations());
        topics.add(config.kafka().applicationId() + "-" + CachepipeTopology.VERSIONS_STORE + "-changelog");
        return topics;
    }

    /** Creates the source, mutations (compacted), invalidations and dead-letter topics that do not exist yet. */
    public static void createTopics(CachepipeConfig config, Infrastructure infra) {
        Optional<Integer> partitions = Optional.of(config.topics().partitions());
        Optional<Short> replication = config.topics().replicationFactor() < 0
                ? Optional.empty()
                : Optional.of(config.topics().replicationFactor());
        List<NewTopic> wanted = new ArrayList<>();
        for (String source : config.sourceTopics()) {
            wanted.add(new NewTopic(source, partitions, replication));
        }
        wanted.add(new NewTopic(config.topics().mutations(), partitions, replication)
                .configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG,
                        TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                        Integer.toString(maxMutationBytes(config)))));
        wanted.add(new NewTopic(config.topics().invalidations(), partitions, replication));
        wanted.add(new NewTopic(config.topics().deadLetter(), partitions, replication));
        try (Admin admin = Admin.create(infra.kafkaClientProperties())) {
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            List<NewTopic> missing =
                    wanted.stream().filter(t -> !existing.contains(t.name())).toList();
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
                // created is not online yet: see PartitionLeaders (an idempotent producer could lose its first batch)
                PartitionLeaders.await(
                        admin,
                        missing.stream()
                                .collect(java.util.stream.Collectors.toMap(NewTopic::name, t -> t.numPartitions())),
                        Duration.ofSeconds(60));
                log.info(
                        "Created topics {}",
                        missing.stream().map(NewTopic::name).toList());
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw new IllegalStateException(
                        "cannot create topics: " + e.getCause().getMessage(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "Kafka at " + infra.bootstrapServers() + " did not answer within 60 s while creating topics", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }
}
