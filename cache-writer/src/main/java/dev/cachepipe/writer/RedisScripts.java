package dev.cachepipe.writer;

import dev.cachepipe.avro.CacheMutation;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;

/**
 * The three version-gated Lua scripts of the cache writer ({@code lua/*.lua} on the class path), loaded once with
 * {@code SCRIPT LOAD} and called by SHA with {@code EVALSHA}.
 *
 * <p>Each script takes one key and returns {@link #APPLIED}, {@link #STALE} or {@link #SAME_VERSION}. The SHA-1 is
 * computed over the exact bytes sent to Redis; {@link #load} checks that Redis computed the same digest.
 *
 * <p>Calls only dispatch the command: on a connection with {@code setAutoFlushCommands(false)} the caller flushes
 * ({@link StatefulRedisConnection#flushCommands()}). A call on a server that lost its script cache (restart,
 * {@code SCRIPT FLUSH}) fails with {@link io.lettuce.core.RedisNoScriptException}: call {@link #load} and retry.
 *
 * <p>Benchmark against the raw script: {@code redis-cli SCRIPT LOAD "$(cat lua/upsert_entry.lua)"}, then
 * {@code redis-benchmark -n 100000 -r 100000 EVALSHA <sha> 1 bench:user:__rand_int__ 1 payload application/json 0
 * 60000} (with {@code sha} = {@link #upsertSha()}).
 */
public final class RedisScripts {
    /** The write changed Redis: the key now holds the new version. */
    public static final long APPLIED = 1;
    /** The stored version is greater; nothing changed. */
    public static final long STALE = 0;
    /** The same version is already stored; nothing changed. */
    public static final long SAME_VERSION = 2;

    /** One Lua script file. */
    public enum Script {
        /** {@code upsert_entry.lua}: KEYS[1]; ARGV version, payload, content type ('' = none), occurredAt, ttl. */
        UPSERT_ENTRY("lua/upsert_entry.lua"),
        /** {@code write_tombstone.lua}: KEYS[1]; ARGV version, occurredAt, ttl. */
        WRITE_TOMBSTONE("lua/write_tombstone.lua"),
        /** {@code write_fence.lua}: KEYS[1]; ARGV version, occurredAt, ttl. */
        WRITE_FENCE("lua/write_fence.lua");

        private final String resource;
        private final byte[] text;
        private final String sha1;

        Script(String resource) {
            this.resource = resource;
            this.text = readResource(resource);
            this.sha1 = sha1Hex(text);
        }

        /** Class path resource name, e.g. {@code lua/upsert_entry.lua}. */
        public String resource() {
            return resource;
        }

        /** The exact bytes sent with {@code SCRIPT LOAD} (a copy). */
        public byte[] text() {
            return text.clone();
        }

        /** Lower-case hex SHA-1 of {@link #text()}, as {@code EVALSHA} expects it. */
        public String sha1() {
            return sha1;
        }
    }

    private static final byte[] EMPTY = new byte[0];

    private final StatefulRedisConnection<byte[], byte[]> connection;
    private final RedisAsyncCommands<byte[], byte[]> commands;

    /** Scripts called over {@code connection} (byte-array codec). Does not load them: call {@link #load}. */
    public RedisScripts(StatefulRedisConnection<byte[], byte[]> connection) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.commands = connection.async();
    }

    /** The exact bytes of {@code upsert_entry.lua} (for benchmarks). */
    public static byte[] upsertScript() {
        return Script.UPSERT_ENTRY.text();
    }

    /** The SHA-1 of {@link #upsertScript()}. */
    public static String upsertSha() {
        return Script.UPSERT_ENTRY.sha1();
    }

    /**
     * Loads all scripts ({@code SCRIPT LOAD}), flushes, and waits up to {@code timeout}. Blocks the calling thread:
     * never call it on a Netty event loop.
     *
     * @throws io.lettuce.core.RedisException if Redis did not answer in time or refused
     * @throws IllegalStateException if Redis computed a different SHA-1 than this class
     */
    public void load(Duration timeout) {
        List<RedisFuture<String>> futures = new ArrayList<>();
        for (Script s : Script.values()) {
            futures.add(commands.scriptLoad(s.text));
        }
        connection.flushCommands();
        if (!LettuceFutures.awaitAll(timeout, futures.toArray(new RedisFuture<?>[0]))) {
            throw new RedisCommandTimeoutException("SCRIPT LOAD did not complete within " + timeout);
        }
        Script[] scripts = Script.values();
        for (int i = 0; i < scripts.length; i++) {
            String sha = getNow(futures.get(i));
            if (!scripts[i].sha1.equalsIgnoreCase(sha)) {
                throw new IllegalStateException("Redis computed SHA-1 " + sha + " for " + scripts[i].resource
                        + " but the writer computed " + scripts[i].sha1);
            }
        }
    }

    /** Dispatches {@code upsert_entry.lua}. {@code contentType} may be {@code null}. */
    public RedisFuture<Long> upsert(
            String key, long version, byte[] payload, String contentType, long occurredAtMillis, long ttlMillis) {
        Objects.requireNonNull(payload, "payload");
        return commands.evalsha(
                Script.UPSERT_ENTRY.sha1,
                ScriptOutputType.INTEGER,
                keys(key),
                decimal(requireVersion(version)),
                payload,
                contentType == null ? EMPTY : contentType.getBytes(StandardCharsets.UTF_8),
                decimal(occurredAtMillis),
                decimal(requireTtl(ttlMillis)));
    }

    /** Dispatches {@code write_tombstone.lua}. */
    public RedisFuture<Long> tombstone(String key, long version, long occurredAtMillis, long ttlMillis) {
        return commands.evalsha(
                Script.WRITE_TOMBSTONE.sha1,
                ScriptOutputType.INTEGER,
                keys(key),
                decimal(requireVersion(version)),
                decimal(occurredAtMillis),
                decimal(requireTtl(ttlMillis)));
    }

    /** Dispatches {@code write_fence.lua}. */
    public RedisFuture<Long> fence(String key, long version, long occurredAtMillis, long ttlMillis) {
        return commands.evalsha(
                Script.WRITE_FENCE.sha1,
                ScriptOutputType.INTEGER,
                keys(key),
                decimal(requireVersion(version)),
                decimal(occurredAtMillis),
                decimal(requireTtl(ttlMillis)));
    }

    /**
     * Dispatches the script for {@code mutation.getOp()}.
     *
     * @throws IllegalArgumentException if the mutation cannot be applied (negative version, TTL not positive,
     *     UPSERT without payload)
     */
    public RedisFuture<Long> apply(CacheMutation mutation) {
        String key = mutation.getKey();
        long occurredAt = mutation.getOccurredAt().toEpochMilli();
        return switch (mutation.getOp()) {
            case UPSERT -> {
                ByteBuffer payload = mutation.getPayload();
                if (payload == null) {
                    throw new IllegalArgumentException("an UPSERT mutation needs a payload but " + key + " had none");
                }
                yield upsert(
                        key,
                        mutation.getVersion(),
                        bytes(payload),
                        mutation.getContentType(),
                        occurredAt,
                        mutation.getTtlMillis());
            }
            case TOMBSTONE -> tombstone(key, mutation.getVersion(), occurredAt, mutation.getTtlMillis());
            case FENCE -> fence(key, mutation.getVersion(), occurredAt, mutation.getTtlMillis());
        };
    }

    /** The remaining bytes of {@code buffer}, without moving its position. */
    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer dup = buffer.duplicate();
        byte[] b = new byte[dup.remaining()];
        dup.get(b);
        return b;
    }

    private static byte[][] keys(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("key must be a non-empty string but was " + key);
        }
        return new byte[][] {key.getBytes(StandardCharsets.UTF_8)};
    }

    private static long requireVersion(long version) {
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0 but was " + version);
        }
        return version;
    }

    private static long requireTtl(long ttlMillis) {
        if (ttlMillis <= 0) {
            throw new IllegalArgumentException("ttlMillis must be > 0 but was " + ttlMillis);
        }
        return ttlMillis;
    }

    private static byte[] decimal(long value) {
        return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
    }

    private static <T> T getNow(RedisFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static byte[] readResource(String resource) {
        try (InputStream in = RedisScripts.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("class path resource " + resource + " is missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    private static String sha1Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available", e);
        }
    }
}
