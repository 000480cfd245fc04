package dev.cachepipe.client.internal;

import dev.cachepipe.client.CacheLoadException;
import dev.cachepipe.client.Loaded;
import dev.cachepipe.client.Loader;
import dev.cachepipe.client.internal.EntryReader.Lookup;
import dev.cachepipe.schemas.Redact;
import io.lettuce.core.RedisCommandExecutionException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one entity type loads an id that neither L1 nor Redis holds, in named steps. Not API.
 *
 * <ol>
 *   <li><b>lease</b>: take the id's load {@link Lease}, or wait (until {@code loadWait}, backing off 5 → 100 ms) for
 *       the instance that holds it: its value, its "not found", or its end without a value (then take over). A
 *       refused lease (read-only replica) or a wait in vain loads without a lease; Redis unavailable loads without
 *       Redis.
 *   <li><b>load</b>: run the loader once.
 *   <li><b>fill</b>: store the value with {@code fill_entry.lua}, gated by what Redis held when the load began
 *       ({@link FillExpectation}); when an invalidation overtook the load the fill is dropped and the script replies
 *       with what Redis holds, which is returned when it is newer.
 *   <li><b>monotonic</b>: a versioned value older than what this client already returned, holds or saw ({@link
 *       LocalCache#floor}, or a fence the fill ran into) is neither stored nor returned: L1's newer entry is
 *       returned if it has one, else the loader runs again, {@value #BEHIND_ATTEMPTS} times at most, and then the
 *       call fails with a {@link CacheLoadException} that names both versions.
 *   <li><b>release</b>: the fill releases the lease after it stores; every other way out releases it, leaving "not
 *       found" for waiting instances when the loader found nothing.
 * </ol>
 *
 * <p>A result goes into L1 only through its freshness checks: {@link LocalCache#offerVersioned} for what Redis
 * versioned, {@link LocalCache#offerLoaded} (epoch and watermark taken before the load) for what it did not.
 */
final class LoadPath<T> {
    // Logged under the entity cache, as before the load path had a class of its own.
    private static final Logger log = LoggerFactory.getLogger(DefaultEntityCache.class);

    private static final String FILL_ERROR_LOGGED_ONCE = "Entity type {}: {}: {}; loaded values are returned but not"
            + " stored (logged once; see cachepipe.client.fills)";

    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** How often the loader runs for one call while it returns a version older than one this client saw. */
    private static final int BEHIND_ATTEMPTS = 3;

    private final EntityContext<T> ctx;
    private final EntryReader<T> reader;
    private final TokenSource tokens;
    private final long leaseMillis;
    private final long loadWaitNanos;
    private final long fillTtlMillis;
    private final AtomicBoolean fillErrorLogged = new AtomicBoolean();

    LoadPath(EntityContext<T> ctx, EntryReader<T> reader, TokenSource tokens, ClientConfig config) {
        this.ctx = ctx;
        this.reader = reader;
        this.tokens = tokens;
        this.leaseMillis = Math.max(1, config.leaseTime().toMillis());
        this.loadWaitNanos = config.loadWait().toNanos();
        this.fillTtlMillis = Math.max(1, config.fillTtl().toMillis());
    }

    /** What the lease step decided (or, inside it, that it goes on). */
    private sealed interface Step permits Serve, Load, WithoutRedis, Undecided {}

    /** Return this entry: a value Redis holds, or the "not found" another instance's loader left. */
    private record Serve(L1Entry entry) implements Step {}

    /** Run the loader under {@code lease} (held or not); the fill expects what Redis held when the load began. */
    private record Load(Lease lease, FillExpectation expect) implements Step {}

    /** Redis did not answer: load without it. */
    private enum WithoutRedis implements Step {
        INSTANCE
    }

    /** Another instance holds the lease, or just gave it up without a value; the entry as last seen. */
    private record Undecided(FillExpectation expect) implements Step {}

    /** The epoch and the id's watermark before the loader ran, for {@link LocalCache#offerLoaded}. */
    private record Before(long epoch, Long watermark) {}

    /** Loads {@code id}: Redis first, then lease, load, fill, release. */
    L1Entry load(String id, Loader<T> loader) {
        byte[] key = ctx.keys().entry(id);
        Lookup lookup = reader.read(id, key);
        if (lookup.hit() != null) {
            return lookup.hit();
        }
        if (lookup.error()) {
            return loadWithoutRedis(id, loader);
        }
        Step step = lease(id, key, lookup.expect());
        if (step instanceof Serve serve) {
            return serve.entry();
        }
        if (step instanceof Load load) {
            return loadAndFill(id, loader, key, load);
        }
        return loadWithoutRedis(id, loader);
    }

    // ----------------------------------------------------------------------------------------------------- lease

    /** Takes the lease, or waits for its holder and takes over when it leaves no value; one deadline throughout. */
    private Step lease(String id, byte[] key, FillExpectation expect) {
        byte[] leaseKey = ctx.keys().lease(id);
        long deadline = System.nanoTime() + loadWaitNanos;
        boolean waited = false;
        while (true) {
            Step step = acquire(id, key, leaseKey, expect);
            if (!(step instanceof Undecided held)) {
                return step;
            }
            if (!waited) {
                ctx.metrics().leasesWaited.increment();
                waited = true;
            }
            step = awaitHolder(id, key, leaseKey, deadline, held.expect());
            if (!(step instanceof Undecided gone)) {
                return step;
            }
            expect = gone.expect();
        }
    }

    /** {@code SET NX} the lease with a new token, reading the entry in the same round trip. */
    private Step acquire(String id, byte[] key, byte[] leaseKey, FillExpectation expect) {
        byte[] token = tokens.next();
        long epoch = ctx.freshness().epoch();
        RedisL2.Acquire acquire;
        try {
            acquire = ctx.l2().tryAcquire(leaseKey, token, leaseMillis, key);
        } catch (L2Unavailable e) {
            return WithoutRedis.INSTANCE;
        } catch (RedisCommandExecutionException e) {
            return new Load(Lease.NOT_HELD, expect); // e.g. a read-only replica: load without a lease
        }
        Lookup seen = reader.examine(id, acquire.entry(), epoch);
        if (acquire.acquired()) {
            ctx.metrics().leasesAcquired.increment();
            Lease lease = Lease.held(ctx.l2(), leaseKey, token, leaseMillis, ctx.entityType());
            if (seen.hit() != null) {
                lease.release();
                return new Serve(seen.hit());
            }
            return new Load(lease, seen.expect());
        }
        return seen.hit() != null ? new Serve(seen.hit()) : new Undecided(seen.expect());
    }

    /** Polls the lease and the entry, backing off, until the holder's value, its "not found", its end or the deadline. */
    private Step awaitHolder(String id, byte[] key, byte[] leaseKey, long deadline, FillExpectation expect) {
        long backoff = MIN_BACKOFF_NANOS;
        while (true) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                ctx.metrics().leaseWaitTimeouts.increment();
                return new Load(Lease.NOT_HELD, expect); // load without a lease; the fill is still gated
            }
            sleepNanos(Math.min(backoff, remaining));
            backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
            long epoch = ctx.freshness().epoch();
            RedisL2.Poll poll;
            try {
                poll = ctx.l2().poll(leaseKey, key);
            } catch (L2Unavailable e) {
                return WithoutRedis.INSTANCE;
            } catch (RedisCommandExecutionException e) {
                return new Load(Lease.NOT_HELD, expect);
            }
            Lookup seen = reader.examine(id, poll.entry(), epoch);
            if (seen.hit() != null) {
                return new Serve(seen.hit());
            }
            expect = seen.expect();
            if (poll.lease() == null) {
                return new Undecided(expect); // the holder is done (or gone) and left no value: try to take over
            }
            if (Arrays.equals(poll.lease(), Lease.NOT_FOUND_MARKER)) {
                return new Serve(L1Entry.notFound(L1Entry.UNVERSIONED));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ load, fill

    /**
     * What one run of the loader came to: the entry to return, or ({@code entry == null}) a loaded version older than
     * {@code newer}, one this client already returned, holds or saw (L1, an invalidation, a fence in Redis).
     */
    private record Outcome(L1Entry entry, long loaded, long newer) {
        static Outcome of(L1Entry entry) {
            return new Outcome(entry, L1Entry.UNVERSIONED, L1Entry.UNVERSIONED);
        }

        static Outcome behind(long loaded, long newer) {
            return new Outcome(null, loaded, newer);
        }
    }

    /**
     * Runs the loader and fills; while the loaded version is older than one this client saw, loads again (at most
     * {@link #BEHIND_ATTEMPTS} runs).
     */
    private L1Entry loadAndFill(String id, Loader<T> loader, byte[] key, Load load) {
        Lease lease = load.lease();
        for (int attempt = 1; ; attempt++) {
            Outcome out = loadAndFillOnce(id, loader, key, lease, load.expect());
            if (out.entry() != null) {
                return out.entry();
            }
            lease = Lease.NOT_HELD; // every way to "behind" released it
            // An invalidation can reach this client before the fill does (the update overtook the load): Redis holds
            // the newer state then, and it is what to return, not a reason to run the loader again.
            Lookup now = reader.read(id, key);
            if (now.hit() != null && now.hit().version() > out.loaded()) {
                return now.hit();
            }
            L1Entry newer = behind(id, out, attempt);
            if (newer != null) {
                return newer;
            }
        }
    }

    /** Runs the loader once; a value is filled, a "not found" is left on the lease for waiting instances. */
    private Outcome loadAndFillOnce(String id, Loader<T> loader, byte[] key, Lease lease, FillExpectation seen) {
        Before before = before(id);
        Loaded<T> loaded;
        try {
            loaded = runLoader(id, loader);
        } catch (RuntimeException | Error e) {
            lease.release();
            throw e;
        }
        if (!loaded.found()) {
            // Not written to Redis: only the pipeline writes tombstones. Shared with waiting instances via the lease.
            lease.releaseNotFound();
            return offerLoaded(id, L1Entry.notFound(L1Entry.UNVERSIONED), before);
        }
        return fill(id, key, loaded, FillExpectation.forLoad(loaded.versioned(), seen), lease, before);
    }

    /**
     * Stores the loaded value in Redis (which then releases the lease) unless it is older than what this client saw
     * or an invalidation overtook the load; then returns the newer state Redis holds, if any.
     */
    private Outcome fill(String id, byte[] key, Loaded<T> loaded, FillExpectation expect, Lease lease, Before before) {
        long floor = ctx.l1().floor(id);
        if (loaded.versioned() && loaded.version() < floor) {
            // Older than a version this client returned or saw: neither stored in Redis nor returned.
            lease.release();
            return Outcome.behind(loaded.version(), floor);
        }
        if (!expect.fills()) {
            // Redis holds something this client cannot read: leave it alone.
            lease.release();
            return offerLoaded(id, entryOf(loaded), before);
        }
        byte[] payload;
        try {
            payload = ctx.codec().encode(loaded.value());
            if (payload == null) {
                throw new IllegalStateException(ctx.codec() + " encoded the loaded value as null");
            }
        } catch (RuntimeException e) {
            return notFilled(id, loaded, lease, before, "cannot encode the loaded value with " + ctx.codec(), e);
        }
        long version = expect.storedVersion(loaded.version());
        Fill fill = new Fill(
                key, version, expect, payload, ctx.codec().contentType(), System.currentTimeMillis(), fillTtlMillis);
        long epoch = ctx.freshness().epoch();
        RedisL2.FillReply reply;
        try {
            reply = ctx.l2().fill(fill, lease);
        } catch (L2Unavailable e) {
            ctx.metrics().fillErrors.increment();
            return offerLoaded(id, entryOf(loaded), before);
        } catch (RedisCommandExecutionException e) {
            return notFilled(id, loaded, lease, before, "Redis refused the fill", e);
        }
        if (reply.stored()) {
            ctx.metrics().fillsStored.increment();
            LocalCache.Offer offer = ctx.l1().offerVersioned(id, L1Entry.value(version, loaded.value()), epoch);
            if (!offer.stale()) {
                return Outcome.of(offer.entry());
            }
            // An invalidation newer than the fill arrived meanwhile: what Redis holds now, not what was loaded.
            ctx.metrics().l1Rejected.increment();
            return newerState(id, loaded, reader.read(id, key));
        }
        // An invalidation overtook the load: the fill was dropped. The script replied with what Redis holds.
        ctx.metrics().fillsDropped.increment();
        Lookup found = reply.found() == null ? reader.read(id, key) : reader.examine(id, reply.found(), epoch);
        return newerState(id, loaded, found);
    }

    /**
     * After a race with an invalidation: the value or tombstone Redis holds; else, for a versioned load older than
     * what this client saw (or than the fence Redis holds), "behind"; else the value as loaded, not cached.
     */
    private Outcome newerState(String id, Loaded<T> loaded, Lookup redis) {
        if (redis.hit() != null) {
            return Outcome.of(redis.hit());
        }
        if (loaded.versioned()) {
            long newer = ctx.l1().floor(id);
            if (redis.expect() instanceof FillExpectation.Fence fence) {
                newer = Math.max(newer, fence.version());
            }
            if (newer > loaded.version()) {
                return Outcome.behind(loaded.version(), newer);
            }
        }
        return Outcome.of(entryOf(loaded));
    }

    /** The fill failed before Redis stored anything: count, log once, release, keep the value as loaded. */
    private Outcome notFilled(String id, Loaded<T> loaded, Lease lease, Before before, String what, Exception e) {
        ctx.metrics().fillErrors.increment();
        if (fillErrorLogged.compareAndSet(false, true)) {
            log.warn(FILL_ERROR_LOGGED_ONCE, ctx.entityType(), what, Redact.describe(e));
        }
        lease.release();
        return offerLoaded(id, entryOf(loaded), before);
    }

    /** Redis is unavailable: load, and keep the value in L1 unless an invalidation arrived during the load. */
    private L1Entry loadWithoutRedis(String id, Loader<T> loader) {
        for (int attempt = 1; ; attempt++) {
            Before before = before(id);
            Loaded<T> loaded = runLoader(id, loader);
            L1Entry entry = loaded.found() ? entryOf(loaded) : L1Entry.notFound(L1Entry.UNVERSIONED);
            Outcome out = offerLoaded(id, entry, before);
            if (out.entry() != null) {
                return out.entry();
            }
            L1Entry newer = behind(id, out, attempt);
            if (newer != null) {
                return newer;
            }
        }
    }

    /**
     * A loaded version was older than one this client saw: counts it, and returns L1's entry if L1 now holds the newer
     * one; else waits a little before the next run of the loader (its source may be a replica that is catching up)
     * and returns {@code null}, or gives up after the last.
     */
    private L1Entry behind(String id, Outcome out, int attempt) {
        ctx.metrics().fillsBehind.increment();
        L1Entry held = ctx.l1().get(id);
        if (held != null && held.version() > out.loaded()) {
            return held;
        }
        if (attempt >= BEHIND_ATTEMPTS) {
            throw new CacheLoadException(
                    "the loader of " + ctx.entityType() + " returned version " + out.loaded() + " of '" + id + "' "
                            + attempt + " times, but this client already saw version " + out.newer()
                            + " (L1, an invalidation or a fence in Redis); an older version is neither returned nor"
                            + " cached (monotonic reads): is the loader's source behind the events?",
                    null);
        }
        sleepNanos(MIN_BACKOFF_NANOS << (attempt - 1));
        return null;
    }

    private Before before(String id) {
        long epoch = ctx.freshness().epoch();
        return new Before(epoch, ctx.l1().watermark(id));
    }

    /**
     * Offers a value Redis did not version: not cached when an invalidation came during the load; "behind" when it is
     * versioned and older than what this client saw.
     */
    private Outcome offerLoaded(String id, L1Entry entry, Before before) {
        LocalCache.Offer offer = ctx.l1().offerLoaded(id, entry, before.epoch(), before.watermark());
        if (!offer.stale()) {
            return Outcome.of(offer.entry());
        }
        ctx.metrics().l1Rejected.increment();
        long floor = ctx.l1().floor(id);
        if (entry.version() != L1Entry.UNVERSIONED && entry.version() < floor) {
            return Outcome.behind(entry.version(), floor);
        }
        return Outcome.of(entry);
    }

    private L1Entry entryOf(Loaded<T> loaded) {
        return L1Entry.value(loaded.versioned() ? loaded.version() : L1Entry.UNVERSIONED, loaded.value());
    }

    private Loaded<T> runLoader(String id, Loader<T> loader) {
        long t0 = System.nanoTime();
        Loaded<T> loaded;
        try {
            loaded = loader.load(id);
        } catch (RuntimeException | Error e) {
            ctx.metrics().loadFailed(System.nanoTime() - t0);
            throw e;
        } catch (Exception e) {
            ctx.metrics().loadFailed(System.nanoTime() - t0);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new CacheLoadException("the loader of " + ctx.entityType() + " failed for '" + id + "'", e);
        }
        if (loaded == null) {
            ctx.metrics().loadFailed(System.nanoTime() - t0);
            throw new CacheLoadException(
                    "the loader of " + ctx.entityType() + " returned null for '" + id + "'; return Loaded.notFound()"
                            + " for an entity that does not exist",
                    null);
        }
        ctx.metrics().loaded(loaded.found(), System.nanoTime() - t0);
        return loaded;
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheLoadException("interrupted while waiting for another instance's load", e);
        }
    }
}
