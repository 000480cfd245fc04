package dev.cachepipe.writer.internal.replay;

import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.Futures;
import dev.cachepipe.support.redis.LuaScript;
import dev.cachepipe.support.redis.ScriptCall;
import dev.cachepipe.support.redis.ScriptRunner;
import dev.cachepipe.writer.internal.apply.RedisBatchWriter;
import dev.cachepipe.writer.internal.apply.Shard;
import io.lettuce.core.RedisCommandTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The self-healing marker {@code <keyPrefix>:@cachepipe}: a HASH whose {@code epoch} field says that Redis holds a
 * complete data set, and whose {@code lock}/{@code lockUntil} fields are the lease of a running rebuild. All changes
 * go through the {@code lua/rebuild_*.lua} scripts (one key each, so Redis Cluster safe). Calls block the calling
 * thread up to the timeout (never call on an event loop); failures throw {@link io.lettuce.core.RedisException} or
 * {@link IllegalStateException}.
 */
final class Marker {
    static final long BEGIN_ACQUIRED = 1;
    static final long BEGIN_NOT_NEEDED = 0;
    static final long BEGIN_BUSY = -1;

    private static final LuaScript BEGIN = LuaScript.of(Marker.class, "lua/rebuild_begin.lua");
    private static final LuaScript RENEW = LuaScript.of(Marker.class, "lua/rebuild_renew.lua");
    private static final LuaScript COMPLETE = LuaScript.of(Marker.class, "lua/rebuild_complete.lua");
    private static final LuaScript RELEASE = LuaScript.of(Marker.class, "lua/rebuild_release.lua");

    private final Supplier<ScriptRunner> scripts;
    private final byte[] key;
    private final Duration timeout;

    /**
     * @param scripts the runner of the writer's current connection, asked on every call: the writer may replace the
     *     connection (e.g. after a READONLY reply), and a rebuild keeps its marker for its whole run; throws if Redis
     *     is not reachable
     */
    Marker(Supplier<ScriptRunner> scripts, String markerKey, Duration timeout) {
        this.scripts = scripts;
        this.key = markerKey.getBytes(StandardCharsets.UTF_8);
        this.timeout = timeout;
    }

    /**
     * The marker of {@code shard} under {@code keyPrefix}, called over the connection of {@code redis} (same thread
     * rules).
     *
     * @return null when Redis is not reachable
     */
    static Marker over(RedisBatchWriter redis, String keyPrefix, Shard shard, Duration timeout) {
        return redis.ensureConnected() != null
                ? null
                : new Marker(redis::currentScripts, shard.markerKey(keyPrefix), timeout);
    }

    static String key(String keyPrefix) {
        return RedisLayout.markerKey(keyPrefix);
    }

    /** {@link #BEGIN_ACQUIRED}, {@link #BEGIN_NOT_NEEDED} or {@link #BEGIN_BUSY}. */
    long begin(String token, Duration lease, boolean force, String holder) {
        return call(BEGIN, token, Long.toString(lease.toMillis()), force ? "1" : "0", holder);
    }

    /** Whether the lease is still this token's (and was extended). */
    boolean renew(String token, Duration lease) {
        return call(RENEW, token, Long.toString(lease.toMillis())) == 1;
    }

    /** Whether the marker now says complete; false if the lease was lost (Redis lost its data again). */
    boolean complete(String token, String epoch) {
        return call(COMPLETE, token, epoch) == 1;
    }

    /** Gives the lease up if this token holds it. */
    boolean release(String token) {
        return call(RELEASE, token) == 1;
    }

    private long call(LuaScript script, String... args) {
        byte[][] argv = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            argv[i] = args[i].getBytes(StandardCharsets.UTF_8);
        }
        try {
            Long reply = scripts.get()
                    .call(new ScriptCall(script, key, argv))
                    .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            return reply == null ? 0 : reply;
        } catch (ExecutionException e) {
            if (Futures.unwrap(e) instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new RedisCommandTimeoutException("no reply from Redis within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
