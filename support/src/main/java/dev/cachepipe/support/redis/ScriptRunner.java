package dev.cachepipe.support.redis;

import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls {@link LuaScript}s by SHA-1 ({@code EVALSHA}) over one connection (byte arrays, commands flushed as issued),
 * the one place that loads scripts and handles a server that lost them.
 *
 * <p>The rule, for every caller: a {@code NOSCRIPT} reply (Redis restarted, failed over or ran {@code SCRIPT FLUSH})
 * loads that script with {@code SCRIPT LOAD}, checks that Redis computed the same SHA-1, and calls it once more. A
 * batch that meets {@code NOSCRIPT} on many calls loads each script once. Replies are never awaited on Netty's event
 * loop: callers get futures and wait on their own thread.
 */
public final class ScriptRunner {
    private static final Logger log = LoggerFactory.getLogger(ScriptRunner.class);
    private static final ByteArrayCodec CODEC = ByteArrayCodec.INSTANCE;

    private final StatefulConnection<byte[], byte[]> connection;
    private final RedisClusterAsyncCommands<byte[], byte[]> commands;
    private final ConcurrentHashMap<LuaScript, CompletableFuture<Void>> reloading = new ConcurrentHashMap<>();

    /**
     * Scripts called over {@code connection} (standalone or cluster, from a {@link RedisConnector}), which must flush
     * commands as they are issued (the default). In cluster mode each call goes to the master of its key's slot and
     * {@code SCRIPT LOAD} goes to every node.
     */
    public ScriptRunner(StatefulConnection<byte[], byte[]> connection) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.commands = RedisConnector.async(connection);
    }

    /**
     * Loads {@code scripts} ({@code SCRIPT LOAD}) and waits up to {@code timeout}. Blocks the calling thread: never
     * call it on a Netty event loop.
     *
     * @throws io.lettuce.core.RedisException if Redis did not answer in time or refused
     * @throws IllegalStateException if Redis computed another SHA-1 than {@link LuaScript#sha1()}
     */
    public void load(Duration timeout, Collection<LuaScript> scripts) {
        List<LuaScript> list = List.copyOf(scripts);
        List<RedisFuture<String>> futures = new ArrayList<>(list.size());
        for (LuaScript s : list) {
            futures.add(commands.scriptLoad(s.textNoCopy()));
        }
        if (!LettuceFutures.awaitAll(timeout, futures.toArray(new RedisFuture<?>[0]))) {
            throw new RedisCommandTimeoutException("SCRIPT LOAD did not complete within " + timeout);
        }
        for (int i = 0; i < list.size(); i++) {
            checkSha(list.get(i), replyOf(futures.get(i)));
        }
    }

    /** Sends {@code SCRIPT LOAD} for each script without waiting: a script that is still missing later is loaded then. */
    public void preload(Collection<LuaScript> scripts) {
        for (LuaScript s : scripts) {
            commands.scriptLoad(s.textNoCopy());
        }
    }

    /** Calls one script; the future fails with the Redis error, or completes with its integer reply. */
    public CompletableFuture<Long> call(ScriptCall call) {
        return call(call, ScriptOutputType.INTEGER);
    }

    /**
     * Calls one script whose reply is not always an integer; the future fails with the Redis error, or completes with
     * the reply as Lettuce's {@link ScriptOutputType#OBJECT} output decodes it: a {@code Long}, a {@code byte[]}, a
     * {@code List<Object>} of those (a nil element is {@code null}), or {@code null}.
     */
    public CompletableFuture<Object> callForObject(ScriptCall call) {
        return call(call, ScriptOutputType.OBJECT);
    }

    private <R> CompletableFuture<R> call(ScriptCall call, ScriptOutputType type) {
        return withReload(
                call,
                type,
                commands.<R>evalsha(call.script().sha1(), type, new byte[][] {call.key()}, call.args())
                        .toCompletableFuture());
    }

    /**
     * Sends every call in one write (one flush, pipelined) and returns their replies in the same order. A call that
     * could not be written completes exceptionally, as does one that Redis refused.
     */
    public List<CompletableFuture<Long>> callAll(List<ScriptCall> calls) {
        List<AsyncCommand<byte[], byte[], Long>> sent = new ArrayList<>(calls.size());
        for (ScriptCall c : calls) {
            sent.add(new AsyncCommand<>(evalsha(c)));
        }
        try {
            connection.dispatch(sent);
        } catch (RuntimeException e) {
            sent.forEach(c -> c.completeExceptionally(e));
        }
        List<CompletableFuture<Long>> replies = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            replies.add(withReload(calls.get(i), ScriptOutputType.INTEGER, sent.get(i)));
        }
        return replies;
    }

    /** Whether {@code error} (or what it wraps) is Redis's {@code NOSCRIPT} reply. */
    public static boolean isNoScript(Throwable error) {
        return Futures.unwrap(error) instanceof RedisNoScriptException;
    }

    private <R> CompletableFuture<R> withReload(ScriptCall call, ScriptOutputType type, CompletableFuture<R> first) {
        return first.exceptionallyCompose(e -> {
            Throwable cause = Futures.unwrap(e);
            if (!(cause instanceof RedisNoScriptException)) {
                return CompletableFuture.failedFuture(cause);
            }
            return reload(call.script())
                    .thenCompose(loaded -> commands.<R>evalsha(
                                    call.script().sha1(), type, new byte[][] {call.key()}, call.args())
                            .toCompletableFuture());
        });
    }

    /** One {@code SCRIPT LOAD} per script at a time, however many calls met {@code NOSCRIPT}. */
    private CompletableFuture<Void> reload(LuaScript script) {
        CompletableFuture<Void> running = reloading.get(script);
        if (running != null) {
            return running;
        }
        CompletableFuture<Void> mine = new CompletableFuture<>();
        running = reloading.putIfAbsent(script, mine);
        if (running != null) {
            return running;
        }
        log.info("Redis lost the script {} (NOSCRIPT: restarted, failed over or flushed); loading it again", script);
        commands.scriptLoad(script.textNoCopy()).whenComplete((sha, error) -> {
            reloading.remove(script, mine);
            if (error != null) {
                mine.completeExceptionally(Futures.unwrap(error));
                return;
            }
            try {
                checkSha(script, sha);
                mine.complete(null);
            } catch (IllegalStateException e) {
                mine.completeExceptionally(e);
            }
        });
        return mine;
    }

    private static RedisCommand<byte[], byte[], Long> evalsha(ScriptCall c) {
        CommandArgs<byte[], byte[]> args = new CommandArgs<>(CODEC)
                .add(c.script().sha1())
                .add(1)
                .addKey(c.key())
                .addValues(c.args());
        return new Command<>(CommandType.EVALSHA, new IntegerOutput<>(CODEC), args);
    }

    private static void checkSha(LuaScript script, String sha) {
        if (!script.sha1().equalsIgnoreCase(sha)) {
            throw new IllegalStateException(
                    "Redis computed SHA-1 " + sha + " for " + script + " but cachepipe computed " + script.sha1());
        }
    }

    private static <T> T replyOf(RedisFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
