package dev.cachepipe.app.cli;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.ops.HumanDurations;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.schemas.CacheEntry;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.RedisConnector;
import io.lettuce.core.RedisException;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cachepipe inspect <entityType> <id>}: one Redis entry, decoded. */
@Command(
        name = "inspect",
        mixinStandardHelpOptions = true,
        description = {
            "Show one cache entry as Redis holds it: state (value, tombstone or fence), version, content type,"
                    + " occurredAt, remaining TTL and the payload (JSON pretty-printed, Avro decoded with --schema).",
            "Exit code 0 when the key exists, 1 when it does not (or is not a cachepipe entry)."
        })
public final class InspectCommand implements Callable<Integer> {
    static final int LABEL_WIDTH = 14;

    @Parameters(index = "0", paramLabel = "ENTITY_TYPE", description = "e.g. user")
    String entityType;

    @Parameters(index = "1", paramLabel = "ID", description = "the entity id, e.g. 42")
    String entityId;

    @Mixin
    ConfigOption config;

    @Option(
            names = "--schema",
            paramLabel = "FILE.avsc",
            description = "Avro schema to decode application/avro payloads with (repeatable; the one whose fingerprint"
                    + " matches the payload is used)")
    List<Path> schemaFiles = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!RedisLayout.isValidEntityType(entityType)) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "ENTITY_TYPE must match [a-z0-9_-]{1,64} but was '" + entityType + "'");
        }
        PayloadRenderer renderer = new PayloadRenderer(readSchemas());
        CachepipeConfig cfg = config.load();
        PrintWriter out = spec.commandLine().getOut();
        if (!cfg.entities().containsKey(entityType)) {
            spec.commandLine()
                    .getErr()
                    .println("note: entity type '" + entityType + "' is not in the configuration (configured: "
                            + String.join(", ", new TreeSet<>(cfg.entities().keySet())) + ")");
        }
        Infrastructure infra = Infrastructure.external(cfg, "inspect", false, true);
        String key = RedisLayout.key(cfg.redis().keyPrefix(), entityType, entityId);
        try (RedisConnector connector = RedisConnector.create(
                        infra.redisTarget(), cfg.redis().timeout(), Duration.ofMillis(100), Duration.ofSeconds(1));
                StatefulConnection<byte[], byte[]> c = connector.connect()) {
            // standalone or cluster: the key's master answers
            RedisClusterAsyncCommands<byte[], byte[]> redis = RedisConnector.async(c);
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            Map<byte[], byte[]> raw = redis.hgetall(k).get();
            long pttl = redis.pttl(k).get();
            Map<String, byte[]> hash = new java.util.HashMap<>();
            raw.forEach((f, v) -> hash.put(new String(f, StandardCharsets.UTF_8), v));
            return print(out, key, hash, pttl, renderer);
        } catch (RedisException | java.util.concurrent.ExecutionException e) {
            Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            throw new IllegalStateException(
                    "cannot read " + key + " from Redis at " + infra.redisDescription() + ": " + cause.getMessage(),
                    cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static int print(PrintWriter out, String key, Map<String, byte[]> hash, long pttl, PayloadRenderer renderer) {
        line(out, "key", key);
        Optional<CacheEntry> decoded;
        try {
            decoded = CacheEntry.decode(hash);
        } catch (IllegalArgumentException e) {
            line(out, "state", "not a cachepipe entry: " + e.getMessage());
            line(out, "fields", String.join(", ", new TreeSet<>(hash.keySet())));
            out.flush();
            return 1;
        }
        if (decoded.isEmpty()) {
            line(out, "state", "absent: not in Redis (never written, expired, evicted, or Redis lost its data)");
            out.flush();
            return 1;
        }
        CacheEntry e = decoded.get();
        line(
                out,
                "state",
                switch (e.state()) {
                    case VALUE -> "value";
                    case TOMBSTONE -> "tombstone (the entity was deleted: readers get a definite \"not found\")";
                    case FENCE ->
                        "fence (the value was dropped at this version: readers treat it as a miss and load it)";
                });
        line(out, "version", Long.toString(e.version()));
        if (e.contentType() != null) {
            line(out, "content type", e.contentType());
        }
        line(out, "occurred at", Instant.ofEpochMilli(e.occurredAt()) + " (" + ago(e.occurredAt()) + ")");
        line(out, "ttl", ttl(pttl));
        if (e.state() == CacheEntry.State.VALUE) {
            line(out, "payload", renderer.render(e.contentType(), e.payload()));
        }
        out.flush();
        return 0;
    }

    private static void line(PrintWriter out, String label, String value) {
        out.println(String.format("%-" + LABEL_WIDTH + "s", label) + value);
    }

    static String ttl(long pttl) {
        if (pttl == -1) {
            return "none (the key does not expire)";
        }
        if (pttl == -2) {
            return "gone (the key expired while it was read)";
        }
        return HumanDurations.human(Duration.ofMillis(pttl)) + " left";
    }

    private static String ago(long epochMillis) {
        long diff = System.currentTimeMillis() - epochMillis;
        return diff >= 0
                ? HumanDurations.human(Duration.ofMillis(diff)) + " ago"
                : "in " + HumanDurations.human(Duration.ofMillis(-diff)) + ", clocks differ";
    }

    private List<Schema> readSchemas() {
        List<Schema> out = new ArrayList<>();
        for (Path f : schemaFiles) {
            try {
                out.add(new Schema.Parser().parse(Files.readString(f)));
            } catch (IOException e) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(), "--schema " + f + ": cannot read it: " + e.getMessage());
            } catch (SchemaParseException e) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(), "--schema " + f + ": not an Avro schema: " + e.getMessage());
            }
        }
        return out;
    }
}
