package dev.cachepipe.writer.internal.purge;

import dev.cachepipe.support.redis.LuaScript;
import dev.cachepipe.support.redis.ScriptRunner;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Calls a multi-key script over a page of scanned keys in batches of up to {@link #BATCH} keys: one call per batch
 * costs Redis far less than a command per key. In a Redis Cluster a script's keys must share a hash slot, so there a
 * batch holds the keys of one slot. A call that meets {@code NOSCRIPT} (Redis restarted or failed over meanwhile) loads
 * the script and is sent again; one that meets {@code TRYAGAIN} (its slot is being migrated, with some of the keys
 * moved already) is sent again after a pause. Either until the timeout has passed.
 */
final class ScriptBatches {
    /** Keys per call: about a millisecond of Redis's time. */
    static final int BATCH = 256;

    /** How long a call refused with {@code TRYAGAIN} waits before it is sent again (until the timeout has passed). */
    static final long TRY_AGAIN_PAUSE_MILLIS = 50;

    private final RedisClusterAsyncCommands<byte[], byte[]> commands;
    private final ScriptRunner scripts;
    private final boolean cluster;
    private final Duration timeout;

    ScriptBatches(
            RedisClusterAsyncCommands<byte[], byte[]> commands,
            ScriptRunner scripts,
            boolean cluster,
            Duration timeout) {
        this.commands = commands;
        this.scripts = scripts;
        this.cluster = cluster;
        this.timeout = timeout;
    }

    /**
     * Calls {@code script} on {@code keys}, with {@code argument} as its one ARGV (none if {@code null}); one reply per
     * call, its keys in the order of {@code keys}. Nothing is awaited.
     */
    List<CompletableFuture<List<Object>>> send(LuaScript script, List<byte[]> keys, byte[] argument) {
        Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            int group = cluster ? SlotHash.getSlot(keys.get(i)) : 0;
            groups.computeIfAbsent(group, g -> new ArrayList<>()).add(i);
        }
        byte[][] args = argument == null ? new byte[0][] : new byte[][] {argument};
        List<CompletableFuture<List<Object>>> sent = new ArrayList<>();
        for (List<Integer> group : groups.values()) {
            for (int from = 0; from < group.size(); from += BATCH) {
                List<Integer> chunk = group.subList(from, Math.min(group.size(), from + BATCH));
                byte[][] k = new byte[chunk.size()][];
                for (int i = 0; i < chunk.size(); i++) {
                    k[i] = keys.get(chunk.get(i));
                }
                sent.add(call(script, k, args));
            }
        }
        return sent;
    }

    private CompletableFuture<List<Object>> call(LuaScript script, byte[][] keys, byte[][] args) {
        return call(script, keys, args, System.nanoTime() + timeout.toNanos());
    }

    private CompletableFuture<List<Object>> call(LuaScript script, byte[][] keys, byte[][] args, long deadline) {
        return commands.<List<Object>>evalsha(script.sha1(), ScriptOutputType.MULTI, keys, args)
                .toCompletableFuture()
                .exceptionallyCompose(e -> {
                    if (isTryAgain(e) && System.nanoTime() < deadline) {
                        // the slot is being migrated and its keys are split between the two masters: Redis refuses
                        // a multi-key call until the migration of that slot ends
                        return CompletableFuture.supplyAsync(
                                        () -> null,
                                        CompletableFuture.delayedExecutor(
                                                TRY_AGAIN_PAUSE_MILLIS, TimeUnit.MILLISECONDS))
                                .thenCompose(x -> call(script, keys, args, deadline));
                    }
                    if (!ScriptRunner.isNoScript(e) || System.nanoTime() >= deadline) {
                        return CompletableFuture.failedFuture(e);
                    }
                    // off the event loop: load (blocking), then call once more
                    return CompletableFuture.runAsync(() -> scripts.load(timeout, List.of(script)))
                            .thenCompose(loaded -> call(script, keys, args, deadline));
                });
    }

    /** {@code TRYAGAIN}: a multi-key call on a slot whose keys are being migrated, some moved and some not yet. */
    static boolean isTryAgain(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof RedisCommandExecutionException
                    && String.valueOf(t.getMessage()).startsWith("TRYAGAIN")) {
                return true;
            }
        }
        return false;
    }
}
