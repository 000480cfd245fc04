package dev.cachepipe.writer.internal.purge;

import dev.cachepipe.avro.CacheInvalidation;
import dev.cachepipe.schemas.AvroSerde;
import dev.cachepipe.schemas.PurgeAnnouncement;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.EntryScripts;
import dev.cachepipe.support.redis.LuaScript;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.RedisTarget;
import dev.cachepipe.support.redis.ScriptRunner;
import dev.cachepipe.writer.CachePurge;
import dev.cachepipe.writer.CachePurge.Outcome;
import dev.cachepipe.writer.CachePurge.Progress;
import dev.cachepipe.writer.CachePurge.Request;
import dev.cachepipe.writer.CachePurge.Result;
import dev.cachepipe.writer.WriterConfig;
import dev.cachepipe.writer.WriterMeters;
import dev.cachepipe.writer.internal.apply.KafkaClients;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one {@link CachePurge}: wait for the pipeline, scan and fence, announce. */
public final class PurgeDriver {
    private static final Logger log = LoggerFactory.getLogger(PurgeDriver.class);

    private static final LuaScript PURGE_ENTRIES = EntryScripts.PURGE_ENTRIES;
    /** {@code read_versions.lua}: each key's version and whether it is a fence or tombstone (for a dry run). */
    static final LuaScript READ_VERSIONS = LuaScript.of(PurgeDriver.class, "lua/read_versions.lua");

    /** Keys asked of each {@code SCAN} call. */
    static final int SCAN_COUNT = 2_000;

    /** Scans at most, in a cluster whose slots move meanwhile (see {@link #scanUntilSettled}). */
    static final int MAX_SCANS = 5;

    /** How long to wait before scanning again while a slot migration is under way. */
    private static final Duration RESCAN_PAUSE = Duration.ofMillis(500);

    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);
    private static final byte[] ONE = {'1'};

    private final WriterConfig config;
    private final RedisTarget redis;
    private final Request request;
    private final MeterRegistry registry;
    private final String scope;

    private long matched;
    private long fenced;
    private long unchanged;
    private long gone;

    public PurgeDriver(WriterConfig config, RedisTarget redis, Request request, MeterRegistry registry) {
        this.config = config;
        this.redis = redis;
        this.request = request;
        this.registry = registry;
        this.scope = request.entityType()
                + (request.idPrefix().isEmpty() ? "" : " (ids starting with '" + request.idPrefix() + "')");
    }

    public Result run(Consumer<Progress> listener, BooleanSupplier cancelled) {
        Instant startedAt = Instant.now();
        if (!request.waitForPipeline().isZero()) {
            String behind;
            try (Admin admin = Admin.create(KafkaClients.admin(config))) {
                behind = new PipelineWait(admin, request.waitForPipeline(), cancelled)
                        .await(
                                request.topologyGroupId(),
                                request.sourceTopics(),
                                config.groupId(),
                                config.mutationsTopic());
            }
            if (behind != null) {
                return finish(new Result(Outcome.PIPELINE_BEHIND, progress(0), startedAt, 0, behind));
            }
        }
        long t0 = System.nanoTime();
        boolean stopped;
        try (RedisConnector connector = RedisConnector.create(
                redis, config.redisTimeout(), config.retryBackoffMin(), config.retryBackoffMax())) {
            StatefulConnection<byte[], byte[]> connection = connector.connect();
            try {
                stopped = scanUntilSettled(connection, connector.isCluster(), t0, listener, cancelled);
            } finally {
                connection.close();
            }
        }
        Progress done = progress(System.nanoTime() - t0);
        if (request.dryRun()) {
            return finish(new Result(Outcome.DRY_RUN, done, startedAt, 0, ""));
        }
        int partitions = announce(startedAt);
        return finish(new Result(
                stopped ? Outcome.CANCELLED : Outcome.COMPLETED,
                done,
                startedAt,
                partitions,
                stopped ? "stopped before the end" : ""));
    }

    /**
     * Scans and fences; in a cluster, scans again while slots moved during the scan: {@code SCAN} walks one master
     * after the other, so keys that a resharding moved from a master not scanned yet to one scanned already were never
     * seen. A scan again finds the fences of the first and fences what it missed (counting only those). True if
     * cancelled before the end.
     */
    private boolean scanUntilSettled(
            StatefulConnection<byte[], byte[]> connection,
            boolean cluster,
            long t0,
            Consumer<Progress> listener,
            BooleanSupplier cancelled) {
        boolean again = false;
        for (int scans = 1; ; scans++) {
            String before = cluster && !request.dryRun() ? slotLayout(connection) : null;
            if (scan(connection, cluster, t0, listener, cancelled, again)) {
                return true;
            }
            if (before == null) {
                return false;
            }
            String after = slotLayout(connection);
            boolean migrating = after.contains("[");
            if (after.equals(before) && !migrating) {
                return false;
            }
            if (scans == MAX_SCANS) {
                throw new io.lettuce.core.RedisException("the cluster's slots kept moving during " + MAX_SCANS
                        + " scans for the purge of " + scope + ", so entries may have been missed: run the purge"
                        + " again once the resharding is over (nothing was announced yet)");
            }
            log.info(
                    "Purge of {}: slots of the cluster moved during the scan{}: scanning again so that no entry is"
                            + " missed",
                    scope,
                    migrating ? " (a migration is under way)" : "");
            if (migrating) {
                pause(RESCAN_PAUSE);
            }
            again = true;
        }
    }

    /**
     * What each master of the cluster says of itself in {@code CLUSTER NODES}: its id and its slots, migrations under
     * way included ({@code [slot->-id]}, {@code [slot-<-id]}); one line per master, sorted.
     */
    private static String slotLayout(StatefulConnection<byte[], byte[]> connection) {
        StatefulRedisClusterConnection<byte[], byte[]> cluster =
                (StatefulRedisClusterConnection<byte[], byte[]>) connection;
        List<String> lines = new ArrayList<>();
        for (RedisClusterNode node : cluster.getPartitions()) {
            if (!node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                continue;
            }
            for (String line : cluster.getConnection(node.getNodeId())
                    .sync()
                    .clusterNodes()
                    .split("\n")) {
                String[] f = line.trim().split(" ");
                // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...
                if (f.length >= 8 && f[2].contains("myself")) {
                    lines.add(f[0] + " " + String.join(" ", Arrays.copyOfRange(f, 8, f.length)));
                }
            }
        }
        Collections.sort(lines);
        return String.join("\n", lines);
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.lettuce.core.RedisException("interrupted while waiting for a migration to end", e);
        }
    }

    /**
     * Scans and fences page after page; true if cancelled before the end. {@code again}: a scan after the slots moved,
     * which counts only the values it fences (the rest was counted by the first).
     */
    private boolean scan(
            StatefulConnection<byte[], byte[]> connection,
            boolean cluster,
            long t0,
            Consumer<Progress> listener,
            BooleanSupplier cancelled,
            boolean again) {
        RedisClusterAsyncCommands<byte[], byte[]> commands = RedisConnector.async(connection);
        ScriptRunner scripts = new ScriptRunner(connection);
        scripts.load(config.redisTimeout(), request.dryRun() ? List.of(READ_VERSIONS) : List.of(PURGE_ENTRIES));
        ScriptBatches batches = new ScriptBatches(commands, scripts, cluster, config.redisTimeout());
        byte[] ttl = Long.toString(request.fenceTtl().toMillis()).getBytes(StandardCharsets.US_ASCII);
        ScanArgs args = ScanArgs.Builder.matches(pattern()).limit(SCAN_COUNT);
        List<CompletableFuture<List<Object>>> inFlight = List.of();
        RedisFuture<KeyScanCursor<byte[]>> next = commands.scan(ScanCursor.INITIAL, args);
        while (next != null) {
            if (cancelled.getAsBoolean()) {
                settle(inFlight, again);
                return true;
            }
            KeyScanCursor<byte[]> page = await(next, "SCAN");
            // the next page is asked for at once: Redis scans it while this one is read and fenced
            next = page.isFinished() ? null : commands.scan(page, args);
            List<byte[]> keys = page.getKeys();
            if (!again) {
                matched += keys.size();
            }
            if (request.dryRun()) {
                count(batches.send(READ_VERSIONS, keys, null));
            } else {
                // one script per batch reads each version and fences it; the previous page's batches ran meanwhile
                List<CompletableFuture<List<Object>>> sent = batches.send(PURGE_ENTRIES, keys, ttl);
                settle(inFlight, again);
                inFlight = sent;
            }
            listener.accept(progress(System.nanoTime() - t0));
        }
        settle(inFlight, again);
        listener.accept(progress(System.nanoTime() - t0));
        return false;
    }

    /** Waits for a dry run's reads and counts what would be fenced. */
    private void count(List<CompletableFuture<List<Object>>> reads) {
        for (CompletableFuture<List<Object>> read : reads) {
            List<Object> reply = await(read, "read_versions");
            for (int i = 0; i < reply.size(); i += 2) {
                if (reply.get(i) == null) {
                    gone++;
                } else if ((Long) reply.get(i + 1) == 1) {
                    unchanged++;
                } else {
                    fenced++;
                }
            }
        }
    }

    /** Waits for a page's fences and counts their replies ({@code again}: only the fences, see {@link #scan}). */
    private void settle(List<CompletableFuture<List<Object>>> sent, boolean again) {
        for (CompletableFuture<List<Object>> batch : sent) {
            for (Object code : await(batch, "purge_entries")) {
                long r = (Long) code;
                if (r == 1) {
                    fenced++;
                    if (again) {
                        matched++;
                    }
                } else if (again) {
                    continue;
                } else if (r == 2) {
                    unchanged++;
                } else {
                    gone++;
                }
            }
        }
    }

    /** {@code <keyPrefix>:<entityType>:<idPrefix>*}, with the glob's special characters in the prefix escaped. */
    String pattern() {
        String literal = RedisLayout.key(config.keyPrefix(), request.entityType(), request.idPrefix());
        StringBuilder b = new StringBuilder(literal.length() + 8);
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('*').toString();
    }

    /** One purge record on every partition of the invalidations topic; the number of partitions. */
    private int announce(Instant startedAt) {
        CacheInvalidation inv = PurgeAnnouncement.of(
                config.keyPrefix(), request.entityType(), request.idPrefix(), startedAt, Instant.now());
        String key = inv.getKey();
        byte[] value = AvroSerde.of(CacheInvalidation.class).encode(inv);
        byte[] recordKey = key.getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                KafkaClients.producer(config), new ByteArraySerializer(), new ByteArraySerializer())) {
            List<PartitionInfo> partitions = producer.partitionsFor(config.invalidationsTopic());
            List<Future<RecordMetadata>> acks = new ArrayList<>(partitions.size());
            for (PartitionInfo p : partitions) {
                RecordHeaders headers = new RecordHeaders();
                headers.add(new RecordHeader(RedisLayout.PURGE_HEADER, ONE));
                acks.add(producer.send(
                        new ProducerRecord<>(config.invalidationsTopic(), p.partition(), recordKey, value, headers)));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get(KAFKA_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
            return partitions.size();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while announcing the purge of " + scope, e);
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            // KafkaException: no metadata for the topic within max.block.ms (the broker is down), or a send refused
            throw new KafkaException(
                    "Redis is purged, but the purge of " + scope + " could not be announced on "
                            + config.invalidationsTopic() + " (clients keep their L1 until its entries expire): "
                            + (e instanceof ExecutionException ? e.getCause() : e).getMessage()
                            + "; run the purge again",
                    e);
        }
    }

    private Result finish(Result result) {
        String type = request.entityType();
        String outcome = result.outcome().name().toLowerCase(java.util.Locale.ROOT);
        Counter.builder(WriterMeters.PURGES)
                .description("Purges of an entity type (or id prefix) from Redis and L1 that ended")
                .tags(WriterMeters.ENTITY_TYPE, type, WriterMeters.OUTCOME, outcome)
                .register(registry)
                .increment();
        if (!request.dryRun()) {
            for (Map.Entry<String, Long> e : Map.of(
                            "fenced", result.progress().fenced(),
                            "unchanged", result.progress().unchanged(),
                            "gone", result.progress().gone())
                    .entrySet()) {
                Counter.builder(WriterMeters.PURGE_ENTRIES)
                        .description("Entries purges examined, by what became of them")
                        .tags(WriterMeters.ENTITY_TYPE, type, WriterMeters.OUTCOME, e.getKey())
                        .register(registry)
                        .increment(e.getValue());
            }
        }
        Progress p = result.progress();
        if (result.outcome() == Outcome.PIPELINE_BEHIND) {
            log.warn("Purge of {} not started: {}", scope, result.detail());
        } else {
            log.info(
                    "Purge of {} {}: {} entries in {} ms ({} /s): {} {}, {} fences or tombstones already,"
                            + " {} gone{}",
                    scope,
                    outcome,
                    p.matched(),
                    p.elapsed().toMillis(),
                    Math.round(p.ratePerSecond()),
                    p.fenced(),
                    request.dryRun() ? "to fence" : "fenced",
                    p.unchanged(),
                    p.gone(),
                    result.announcedPartitions() == 0
                            ? ""
                            : "; announced on " + result.announcedPartitions() + " partitions of "
                                    + config.invalidationsTopic());
        }
        return result;
    }

    private Progress progress(long nanos) {
        return new Progress(matched, fenced, 0, unchanged, gone, Duration.ofNanos(nanos));
    }

    private <T> T await(Future<T> future, String what) {
        try {
            return future.get(config.redisTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.lettuce.core.RedisException("interrupted while waiting for " + what, e);
        } catch (TimeoutException e) {
            throw new RedisCommandTimeoutException(what + " did not answer within " + config.redisTimeout());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new io.lettuce.core.RedisException(cause);
        }
    }
}
