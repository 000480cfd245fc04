package dev.cachepipe.writer;

import dev.cachepipe.avro.CacheMutation;
import dev.cachepipe.support.redis.EntryScripts;
import dev.cachepipe.support.redis.LuaScript;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.ScriptCall;
import dev.cachepipe.support.redis.ScriptRunner;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * The three version-gated Lua scripts the cache writer applies mutations with ({@code lua/*.lua} of
 * {@link EntryScripts}), and how a mutation becomes their arguments.
 *
 * <p>Each script takes one key and returns {@link #APPLIED}, {@link #STALE} or {@link #SAME_VERSION}. The SHA-1 is
 * computed over the exact bytes sent to Redis; {@link #load} checks that Redis computed the same digest.
 *
 * <p>The instance methods are the raw calls, for tools and tests: one {@code EVALSHA} each, and a server that lost
 * its script cache (restart, {@code SCRIPT FLUSH}) answers {@link io.lettuce.core.RedisNoScriptException}: call
 * {@link #load} and retry. The writer itself calls them through a {@link ScriptRunner}, which does that by itself.
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
        UPSERT_ENTRY(EntryScripts.UPSERT_ENTRY),
        /** {@code write_tombstone.lua}: KEYS[1]; ARGV version, occurredAt, ttl. */
        WRITE_TOMBSTONE(EntryScripts.WRITE_TOMBSTONE),
        /** {@code write_fence.lua}: KEYS[1]; ARGV version, occurredAt, ttl. */
        WRITE_FENCE(EntryScripts.WRITE_FENCE);

        private final LuaScript lua;

        Script(LuaScript lua) {
            this.lua = lua;
        }

        /** Class path resource name, e.g. {@code lua/upsert_entry.lua}. */
        public String resource() {
            return lua.resource();
        }

        /** The exact bytes sent with {@code SCRIPT LOAD} (a copy). */
        public byte[] text() {
            return lua.text();
        }

        /** Lower-case hex SHA-1 of {@link #text()}, as {@code EVALSHA} expects it. */
        public String sha1() {
            return lua.sha1();
        }

        /** The script as the {@link ScriptRunner} calls it. */
        public LuaScript lua() {
            return lua;
        }
    }

    private static final byte[] EMPTY = new byte[0];

    private final StatefulConnection<byte[], byte[]> connection;
    private final RedisClusterAsyncCommands<byte[], byte[]> commands;

    /** Scripts called over {@code connection} (byte-array codec). Does not load them: call {@link #load}. */
    public RedisScripts(StatefulConnection<byte[], byte[]> connection) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.commands = RedisConnector.async(connection);
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
     * Loads all scripts ({@code SCRIPT LOAD}) and waits up to {@code timeout}. Blocks the calling thread: never call
     * it on a Netty event loop.
     *
     * @throws io.lettuce.core.RedisException if Redis did not answer in time or refused
     * @throws IllegalStateException if Redis computed a different SHA-1 than this class
     */
    public void load(Duration timeout) {
        new ScriptRunner(connection)
                .load(timeout, Arrays.stream(Script.values()).map(Script::lua).toList());
    }

    /** Dispatches {@code upsert_entry.lua}. {@code contentType} may be {@code null}. */
    public RedisFuture<Long> upsert(
            String key, long version, byte[] payload, String contentType, long occurredAtMillis, long ttlMillis) {
        return send(upsertCall(key, version, payload, contentType, occurredAtMillis, ttlMillis));
    }

    /** Dispatches {@code write_tombstone.lua}. */
    public RedisFuture<Long> tombstone(String key, long version, long occurredAtMillis, long ttlMillis) {
        return send(gateCall(Script.WRITE_TOMBSTONE, key, version, occurredAtMillis, ttlMillis));
    }

    /** Dispatches {@code write_fence.lua}. */
    public RedisFuture<Long> fence(String key, long version, long occurredAtMillis, long ttlMillis) {
        return send(gateCall(Script.WRITE_FENCE, key, version, occurredAtMillis, ttlMillis));
    }

    /**
     * Dispatches the script for {@code mutation.getOp()}.
     *
     * @throws IllegalArgumentException if the mutation cannot be applied (negative version, TTL not positive,
     *     UPSERT without payload)
     */
    public RedisFuture<Long> apply(CacheMutation mutation) {
        return send(call(mutation));
    }

    /**
     * The script call that applies {@code mutation}: its script, its key and its arguments.
     *
     * @throws IllegalArgumentException if the mutation cannot be applied (negative version, TTL not positive,
     *     UPSERT without payload)
     */
    public static ScriptCall call(CacheMutation mutation) {
        String key = mutation.getKey();
        long occurredAt = mutation.getOccurredAt().toEpochMilli();
        return switch (mutation.getOp()) {
            case UPSERT -> {
                ByteBuffer payload = mutation.getPayload();
                if (payload == null) {
                    throw new IllegalArgumentException("an UPSERT mutation needs a payload but " + key + " had none");
                }
                yield upsertCall(
                        key,
                        mutation.getVersion(),
                        bytes(payload),
                        mutation.getContentType(),
                        occurredAt,
                        mutation.getTtlMillis());
            }
            case TOMBSTONE ->
                gateCall(Script.WRITE_TOMBSTONE, key, mutation.getVersion(), occurredAt, mutation.getTtlMillis());
            case FENCE -> gateCall(Script.WRITE_FENCE, key, mutation.getVersion(), occurredAt, mutation.getTtlMillis());
        };
    }

    private static ScriptCall upsertCall(
            String key, long version, byte[] payload, String contentType, long occurredAtMillis, long ttlMillis) {
        Objects.requireNonNull(payload, "payload");
        return new ScriptCall(
                Script.UPSERT_ENTRY.lua(),
                keyBytes(key),
                decimal(requireVersion(version)),
                payload,
                contentType == null ? EMPTY : contentType.getBytes(StandardCharsets.UTF_8),
                decimal(occurredAtMillis),
                decimal(requireTtl(ttlMillis)));
    }

    /** A tombstone or a fence: the same three arguments. */
    private static ScriptCall gateCall(Script script, String key, long version, long occurredAtMillis, long ttlMillis) {
        return new ScriptCall(
                script.lua(),
                keyBytes(key),
                decimal(requireVersion(version)),
                decimal(occurredAtMillis),
                decimal(requireTtl(ttlMillis)));
    }

    private RedisFuture<Long> send(ScriptCall call) {
        return commands.evalsha(call.script().sha1(), ScriptOutputType.INTEGER, new byte[][] {call.key()}, call.args());
    }

    /** The remaining bytes of {@code buffer}, without moving its position. */
    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer dup = buffer.duplicate();
        byte[] b = new byte[dup.remaining()];
        dup.get(b);
        return b;
    }

    private static byte[] keyBytes(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("key must be a non-empty string but was " + key);
        }
        return key.getBytes(StandardCharsets.UTF_8);
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

    /** {@code value} in ASCII decimal, written straight into its array (every script call has three or four). */
    static byte[] decimal(long value) {
        if (value < 0) {
            return Long.toString(value).getBytes(StandardCharsets.US_ASCII); // never on the hot path
        }
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        byte[] out = new byte[digits];
        long v = value;
        for (int i = digits - 1; i >= 0; i--) {
            out[i] = (byte) ('0' + (v % 10));
            v /= 10;
        }
        return out;
    }
}
