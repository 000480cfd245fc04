package dev.cachepipe.client.internal;

import dev.cachepipe.schemas.Redact;
import dev.cachepipe.schemas.RedisLayout;
import dev.cachepipe.support.redis.Futures;
import dev.cachepipe.support.redis.LuaScript;
import dev.cachepipe.support.redis.RedisConnector;
import dev.cachepipe.support.redis.ScriptCall;
import dev.cachepipe.support.redis.ScriptRunner;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisLoadingException;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.KeyValueListOutput;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.output.ValueOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's Redis: one shared Lettuce connection (byte arrays), reads with {@code HMGET}, pipelined batches, the
 * lease commands and the two Lua scripts. Not API.
 *
 * <p>Every call has a deadline and either returns a reply or throws {@link L2Unavailable}; it never hangs. Commands
 * fail fast while disconnected (Lettuce reconnects by itself), and after a failure the client waits {@code
 * retryInterval} before it tries Redis again, so a frozen Redis costs one timeout per interval, not one per read.
 * The state change is logged once each way. Callers block on their own thread; nothing blocks Netty's event loop.
 */
public final class RedisL2 implements AutoCloseable, ClientMetrics.RedisHealthView {
    private static final Logger log = LoggerFactory.getLogger(RedisL2.class);
    private static final ByteArrayCodec CODEC = ByteArrayCodec.INSTANCE;

    /** Fields read for an entry, in HMGET order. {@code ts} is not needed to serve a read. */
    static final String[] FIELD_NAMES = {
        RedisLayout.VERSION, RedisLayout.DATA, RedisLayout.CONTENT_TYPE, RedisLayout.DELETED, RedisLayout.INVALIDATED
    };

    private static final byte[][] FIELDS = Arrays.stream(FIELD_NAMES)
            .map(f -> f.getBytes(StandardCharsets.US_ASCII))
            .toArray(byte[][]::new);
    private static final List<byte[]> FIELD_LIST = List.of(FIELDS);
    private static final byte[] EMPTY = new byte[0];
    private static final List<LuaScript> SCRIPTS =
            Arrays.stream(ClientScript.values()).map(ClientScript::script).toList();

    private final ClientConfig config;
    private final String endpoint;
    private final RedisConnector connector;
    private final long timeoutNanos;
    private final long retryIntervalNanos;
    private final AtomicBoolean down = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile StatefulConnection<byte[], byte[]> connection;
    private volatile RedisClusterAsyncCommands<byte[], byte[]> commands;
    private volatile ScriptRunner scripts;
    private volatile long retryAtNanos;
    private volatile boolean cluster;
    private final ClientMetrics metrics;

    /** A lease attempt: whether this client got the lease, and the entry as Redis held it right after. */
    public record Acquire(boolean acquired, Map<String, byte[]> entry) {}

    /** A look at a lease held elsewhere: its value ({@code null} = gone) and then the entry. */
    public record Poll(byte[] lease, Map<String, byte[]> entry) {}

    public RedisL2(ClientConfig config, ClientMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.endpoint = config.redisEndpoint();
        this.timeoutNanos = config.redisTimeout().toNanos();
        this.retryIntervalNanos =
                Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(TimeUnit.SECONDS.toNanos(1), timeoutNanos));
        this.connector = RedisConnector.create(
                config.redisTarget(), config.redisTimeout(), Duration.ofMillis(10), Duration.ofSeconds(1));
    }

    /** Connects once, synchronously; if that fails, keeps trying in the background. */
    public void start() {
        try {
            StatefulConnection<byte[], byte[]> c = connector.connect();
            connected(c);
        } catch (RuntimeException e) {
            markDown(e);
            scheduleConnect(100);
        }
    }

    private void connected(StatefulConnection<byte[], byte[]> c) {
        if (closed.get()) {
            c.closeAsync();
            return;
        }
        ScriptRunner runner = new ScriptRunner(c);
        // Best effort: a script still missing when called is loaded then (see ScriptRunner).
        runner.preload(SCRIPTS);
        scripts = runner;
        connection = c;
        commands = RedisConnector.async(c);
        cluster = RedisConnector.partitions(c) != null;
        if (c instanceof io.lettuce.core.cluster.api.StatefulRedisClusterConnection<byte[], byte[]> cc
                && !"master".equals(config.redisReadFrom())) {
            // only read-only commands (HMGET, GET) follow it: scripts and SET go to the master
            cc.setReadFrom(
                    "replica".equals(config.redisReadFrom())
                            ? io.lettuce.core.ReadFrom.REPLICA
                            : io.lettuce.core.ReadFrom.REPLICA_PREFERRED);
        }
        markUp();
        log.debug("Connected to Redis at {}", endpoint);
    }

    private void scheduleConnect(long delayMillis) {
        if (closed.get()) {
            return;
        }
        connector.schedule(
                () -> {
                    if (closed.get()) {
                        return;
                    }
                    connector.connectAsync().whenComplete((c, e) -> {
                        if (e == null) {
                            connected(c);
                        } else {
                            scheduleConnect(Math.min(delayMillis * 2, 5_000));
                        }
                    });
                },
                Duration.ofMillis(delayMillis));
    }

    /** Whether the client would send a command now (connected, and not waiting after a failure). */
    @Override
    public boolean available() {
        if (commands == null) {
            return false;
        }
        long retryAt = retryAtNanos;
        return retryAt == 0 || System.nanoTime() - retryAt >= 0;
    }

    /** The entry's fields as a map (missing fields left out; empty = absent key). */
    public Map<String, byte[]> read(byte[] key) {
        RedisClusterAsyncCommands<byte[], byte[]> c = commandsOrThrow();
        long t0 = System.nanoTime();
        CompletableFuture<List<KeyValue<byte[], byte[]>>> f;
        try {
            f = c.hmget(key, FIELDS).toCompletableFuture();
        } catch (RuntimeException e) {
            throw failed(e);
        }
        Map<String, byte[]> hash = toHash(await(f, t0));
        time(metrics.l2Read(), t0);
        return hash;
    }

    /**
     * Reads several entries in one pipelined round trip. An element is {@code null} when Redis answered that key
     * with an error (e.g. not a hash).
     */
    public List<Map<String, byte[]>> readAll(List<byte[]> keys) {
        List<AsyncCommand<byte[], byte[], List<KeyValue<byte[], byte[]>>>> cmds = new ArrayList<>(keys.size());
        for (byte[] key : keys) {
            cmds.add(new AsyncCommand<>(hmget(key)));
        }
        long t0 = System.nanoTime();
        dispatch(cmds);
        awaitAll(cmds, t0);
        time(metrics.l2ReadAll(), t0);
        List<Map<String, byte[]>> out = new ArrayList<>(keys.size());
        for (AsyncCommand<byte[], byte[], List<KeyValue<byte[], byte[]>>> cmd : cmds) {
            out.add(replyOrNull(cmd) == null ? null : toHash(cmd.join()));
        }
        return out;
    }

    /** {@code SET lease token NX PX leaseMillis}, then {@code HMGET entry}, pipelined. */
    public Acquire tryAcquire(byte[] leaseKey, byte[] token, long leaseMillis, byte[] entryKey) {
        CommandArgs<byte[], byte[]> args =
                new CommandArgs<>(CODEC).addKey(leaseKey).addValue(token);
        SetArgs.Builder.nx().px(leaseMillis).build(args);
        AsyncCommand<byte[], byte[], String> set =
                new AsyncCommand<>(new Command<>(CommandType.SET, new StatusOutput<>(CODEC), args));
        AsyncCommand<byte[], byte[], List<KeyValue<byte[], byte[]>>> get = new AsyncCommand<>(hmget(entryKey));
        long t0 = System.nanoTime();
        dispatch(List.of(set, get));
        awaitAll(List.of(set, get), t0);
        time(metrics.l2Lease(), t0);
        String ok = reply(set);
        return new Acquire("OK".equals(ok), toHash(reply(get)));
    }

    /** {@code GET lease}, then {@code HMGET entry}, pipelined (in that order: a lease seen gone implies a fill seen). */
    public Poll poll(byte[] leaseKey, byte[] entryKey) {
        AsyncCommand<byte[], byte[], byte[]> lease = new AsyncCommand<>(
                new Command<>(CommandType.GET, new ValueOutput<>(CODEC), new CommandArgs<>(CODEC).addKey(leaseKey)));
        AsyncCommand<byte[], byte[], List<KeyValue<byte[], byte[]>>> get = new AsyncCommand<>(hmget(entryKey));
        long t0 = System.nanoTime();
        if (cluster) {
            // lease and entry may live on different nodes: the entry is read only after the lease was
            dispatch(List.of(lease));
            awaitAll(List.of(lease), t0);
            dispatch(List.of(get));
            awaitAll(List.of(get), System.nanoTime());
        } else {
            dispatch(List.of(lease, get));
            awaitAll(List.of(lease, get), t0);
        }
        time(metrics.l2Lease(), t0);
        return new Poll(reply(lease), toHash(reply(get)));
    }

    /**
     * What {@code fill_entry.lua} did.
     *
     * @param stored whether the value was stored
     * @param found when it was dropped, the entry Redis held instead (fields as {@link #read}); {@code null} when
     *     stored or when Redis held something that is not a hash
     */
    public record FillReply(boolean stored, Map<String, byte[]> found) {
        static final FillReply STORED = new FillReply(true, null);
    }

    /**
     * Runs {@code fill_entry.lua}, asking for what Redis holds when it drops the fill, then (whatever it replied)
     * releases {@code lease} if this client holds it.
     *
     * @throws L2Unavailable if Redis did not answer
     * @throws RedisCommandExecutionException if Redis answered with an error
     */
    public FillReply fill(Fill fill, Lease lease) {
        ScriptRunner runner = scriptsOrThrow();
        long t0 = System.nanoTime();
        CompletableFuture<Object> f;
        try {
            f = runner.callForObject(new ScriptCall(
                    ClientScript.FILL_ENTRY.script(),
                    fill.entryKey(),
                    ascii(Long.toString(fill.version())),
                    ascii(fill.expect().luaArgument()),
                    fill.payload(),
                    fill.contentType() == null ? EMPTY : fill.contentType().getBytes(StandardCharsets.UTF_8),
                    ascii(Long.toString(fill.occurredAtMillis())),
                    ascii(Long.toString(fill.ttlMillis())),
                    ascii(ClientScript.REPLY_FOUND)));
            if (lease.held()) {
                // After the fill, so that a waiter that sees the lease gone also sees the value.
                f = f.thenCompose(r -> runner.call(new ScriptCall(
                                ClientScript.RELEASE_LEASE.script(), lease.key(), lease.token(), EMPTY, ascii("1")))
                        .handle((x, e) -> r));
            }
        } catch (RuntimeException e) {
            throw failed(e);
        }
        Object r = await(f, t0, 2);
        time(metrics.l2Fill(), t0);
        return fillReply(r);
    }

    /**
     * {@code 1}, {@code 0} or the array of {@link #FIELD_NAMES} (see {@code fill_entry.lua}), as Lettuce's {@code
     * OBJECT} output decodes it: it wraps a top-level integer in a list of one.
     */
    static FillReply fillReply(Object reply) {
        if (reply instanceof List<?> one && one.size() == 1 && !(one.get(0) instanceof byte[])) {
            reply = one.get(0);
        }
        if (reply instanceof Long n) {
            return n == ClientScript.STORED ? FillReply.STORED : new FillReply(false, null);
        }
        if (reply instanceof List<?> values) {
            Map<String, byte[]> hash = new HashMap<>(8);
            for (int i = 0; i < FIELD_NAMES.length && i < values.size(); i++) {
                if (values.get(i) instanceof byte[] b) {
                    hash.put(FIELD_NAMES[i], b);
                }
            }
            return new FillReply(false, hash);
        }
        throw new IllegalStateException("fill_entry.lua replied " + reply + ", which is not 1, 0 or an entry");
    }

    /** Releases a lease this client holds; leaves {@code marker} for {@code markerMillis} when it is not null. */
    public void release(byte[] leaseKey, byte[] token, byte[] marker, long markerMillis) {
        ScriptRunner runner = scriptsOrThrow();
        long t0 = System.nanoTime();
        CompletableFuture<Long> f;
        try {
            f = runner.call(new ScriptCall(
                    ClientScript.RELEASE_LEASE.script(),
                    leaseKey,
                    token,
                    marker == null ? EMPTY : marker,
                    ascii(Long.toString(Math.max(1, markerMillis)))));
        } catch (RuntimeException e) {
            throw failed(e);
        }
        await(f, t0);
        time(metrics.l2Lease(), t0);
    }

    private static Command<byte[], byte[], List<KeyValue<byte[], byte[]>>> hmget(byte[] key) {
        CommandArgs<byte[], byte[]> args = new CommandArgs<>(CODEC).addKey(key);
        for (byte[] f : FIELDS) {
            args.addKey(f);
        }
        return new Command<>(CommandType.HMGET, new KeyValueListOutput<>(CODEC, FIELD_LIST), args);
    }

    private void dispatch(List<? extends RedisCommand<byte[], byte[], ?>> cmds) {
        StatefulConnection<byte[], byte[]> c = connectionOrThrow();
        try {
            c.dispatch(cmds);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    static Map<String, byte[]> toHash(List<KeyValue<byte[], byte[]>> values) {
        Map<String, byte[]> hash = new HashMap<>(8);
        for (int i = 0; i < FIELD_NAMES.length && i < values.size(); i++) {
            KeyValue<byte[], byte[]> kv = values.get(i);
            if (kv.hasValue()) {
                hash.put(FIELD_NAMES[i], kv.getValue());
            }
        }
        return hash;
    }

    private RedisClusterAsyncCommands<byte[], byte[]> commandsOrThrow() {
        RedisClusterAsyncCommands<byte[], byte[]> c = commands;
        if (c == null || !available()) {
            throw L2Unavailable.INSTANCE;
        }
        return c;
    }

    private ScriptRunner scriptsOrThrow() {
        ScriptRunner s = scripts;
        if (s == null || !available()) {
            throw L2Unavailable.INSTANCE;
        }
        return s;
    }

    private StatefulConnection<byte[], byte[]> connectionOrThrow() {
        StatefulConnection<byte[], byte[]> c = connection;
        if (c == null || !available()) {
            throw L2Unavailable.INSTANCE;
        }
        return c;
    }

    private <T> T await(CompletableFuture<T> f, long t0) {
        return await(f, t0, 1);
    }

    /** Waits for one reply ({@code commands} round trips' worth of time); Redis error replies are rethrown. */
    private <T> T await(CompletableFuture<T> f, long t0, int commands) {
        try {
            T r = f.get(timeoutNanos * commands + TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.NANOSECONDS);
            markUp();
            return r;
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = Futures.unwrap(e);
            if (isReply(cause)) {
                markUp();
                throw (RedisCommandExecutionException) cause;
            }
            throw failed(cause);
        } catch (TimeoutException | CancellationException e) {
            f.cancel(false);
            throw failed(new io.lettuce.core.RedisCommandTimeoutException("no reply within " + config.redisTimeout()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw L2Unavailable.INSTANCE;
        }
    }

    /** Waits until every command is done or the deadline passed; fails only if Redis did not answer them all. */
    private void awaitAll(List<? extends CompletableFuture<?>> futures, long t0) {
        long deadline = t0 + timeoutNanos + TimeUnit.MILLISECONDS.toNanos(50);
        for (CompletableFuture<?> f : futures) {
            try {
                f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException | CompletionException e) {
                Throwable cause = Futures.unwrap(e);
                if (!isReply(cause)) {
                    futures.forEach(x -> x.cancel(false));
                    throw failed(cause);
                }
            } catch (TimeoutException | CancellationException e) {
                futures.forEach(x -> x.cancel(false));
                throw failed(
                        new io.lettuce.core.RedisCommandTimeoutException("no reply within " + config.redisTimeout()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                futures.forEach(x -> x.cancel(false));
                throw L2Unavailable.INSTANCE;
            }
        }
        markUp();
    }

    /** The reply of a completed command; a Redis error reply is rethrown. */
    private static <T> T reply(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable cause = Futures.unwrap(e);
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }

    /** The reply of a completed command, or {@code null} for a Redis error reply. */
    private static <T> T replyOrNull(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            return null;
        }
    }

    private static boolean isReply(Throwable t) {
        return t instanceof RedisCommandExecutionException
                && !(t instanceof RedisLoadingException)
                && !(t instanceof RedisBusyException);
    }

    private L2Unavailable failed(Throwable cause) {
        markDown(cause);
        return L2Unavailable.INSTANCE;
    }

    private void markDown(Throwable cause) {
        retryAtNanos = System.nanoTime() + retryIntervalNanos;
        if (down.compareAndSet(false, true)) {
            log.warn(
                    "Redis at {} is unavailable ({}); serving L1 and loaders, trying again every {} ms",
                    endpoint,
                    Redact.describe(cause),
                    TimeUnit.NANOSECONDS.toMillis(retryIntervalNanos));
        }
    }

    private void markUp() {
        if (down.get() && down.compareAndSet(true, false)) {
            retryAtNanos = 0;
            log.info("Redis at {} answers again", endpoint);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Records a latency on {@code timer} since {@code t0}. */
    static void time(Timer timer, long t0) {
        timer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        StatefulConnection<byte[], byte[]> c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log.debug("closing the Redis connection failed: {}", Redact.describe(e));
            }
        }
        connector.close();
    }
}
