package dev.cachepipe.writer.internal;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The self-healing marker {@code <keyPrefix>:@cachepipe}: a HASH whose {@code epoch} field says that Redis holds a
 * complete data set, and whose {@code lock}/{@code lockUntil} fields are the lease of a running rebuild. All changes
 * go through the {@code lua/rebuild_*.lua} scripts (one key each, so Redis Cluster safe), called by SHA and loaded
 * again after {@code NOSCRIPT}. Calls block the calling thread up to the timeout (never call on an event loop);
 * failures throw {@link io.lettuce.core.RedisException} or {@link IllegalStateException}.
 */
final class Marker {
    /** Suffix of the marker key after the key prefix; '@' never occurs in an entity type, so no entry collides. */
    static final String SUFFIX = ":@cachepipe";

    static final long BEGIN_ACQUIRED = 1;
    static final long BEGIN_NOT_NEEDED = 0;
    static final long BEGIN_BUSY = -1;

    private enum Script {
        BEGIN("lua/rebuild_begin.lua"),
        RENEW("lua/rebuild_renew.lua"),
        COMPLETE("lua/rebuild_complete.lua"),
        RELEASE("lua/rebuild_release.lua");

        final byte[] text;
        final String sha1;

        Script(String resource) {
            try (InputStream in = Marker.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("class path resource " + resource + " is missing");
                }
                text = in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + resource, e);
            }
            try {
                sha1 = HexFormat.of()
                        .formatHex(MessageDigest.getInstance("SHA-1").digest(text));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-1 is not available", e);
            }
        }
    }

    private final Supplier<StatefulRedisConnection<byte[], byte[]>> connection;
    private final byte[] key;
    private final Duration timeout;

    /**
     * @param connection the writer's current connection, asked on every call: the writer may replace it (e.g. after a
     *     READONLY reply), and a rebuild keeps its marker for its whole run; throws if Redis is not reachable
     */
    Marker(Supplier<StatefulRedisConnection<byte[], byte[]>> connection, String keyPrefix, Duration timeout) {
        this.connection = connection;
        this.key = key(keyPrefix).getBytes(StandardCharsets.UTF_8);
        this.timeout = timeout;
    }

    static String key(String keyPrefix) {
        return keyPrefix + SUFFIX;
    }

    /** {@link #BEGIN_ACQUIRED}, {@link #BEGIN_NOT_NEEDED} or {@link #BEGIN_BUSY}. */
    long begin(String token, Duration lease, boolean force, String holder) {
        return call(Script.BEGIN, token, Long.toString(lease.toMillis()), force ? "1" : "0", holder);
    }

    /** Whether the lease is still this token's (and was extended). */
    boolean renew(String token, Duration lease) {
        return call(Script.RENEW, token, Long.toString(lease.toMillis())) == 1;
    }

    /** Whether the marker now says complete; false if the lease was lost (Redis lost its data again). */
    boolean complete(String token, String epoch) {
        return call(Script.COMPLETE, token, epoch) == 1;
    }

    /** Gives the lease up if this token holds it. */
    boolean release(String token) {
        return call(Script.RELEASE, token) == 1;
    }

    private long call(Script script, String... args) {
        byte[][] argv = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            argv[i] = args[i].getBytes(StandardCharsets.UTF_8);
        }
        StatefulRedisConnection<byte[], byte[]> c = connection.get();
        try {
            return evalsha(c, script, argv);
        } catch (RedisNoScriptException e) {
            String sha = await(c, c.async().scriptLoad(script.text));
            if (!script.sha1.equalsIgnoreCase(sha)) {
                throw new IllegalStateException(
                        "Redis computed SHA-1 " + sha + " for " + script + " but the writer computed " + script.sha1);
            }
            return evalsha(c, script, argv);
        }
    }

    private long evalsha(StatefulRedisConnection<byte[], byte[]> c, Script script, byte[][] argv) {
        RedisFuture<Long> f = c.async().evalsha(script.sha1, ScriptOutputType.INTEGER, new byte[][] {key}, argv);
        Long reply = await(c, f);
        return reply == null ? 0 : reply;
    }

    private <T> T await(StatefulRedisConnection<byte[], byte[]> c, RedisFuture<T> f) {
        c.flushCommands(); // the writer's connection does not flush by itself
        try {
            return f.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new io.lettuce.core.RedisCommandTimeoutException("no reply from Redis within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
