package dev.cachepipe.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LocalCacheTest {
    /** A Caffeine ticker the test moves by hand. */
    static final class FakeTicker implements Ticker {
        private final AtomicLong nanos = new AtomicLong();

        @Override
        public long read() {
            return nanos.get();
        }

        void advance(Duration d) {
            nanos.addAndGet(d.toNanos());
        }
    }

    private final FakeTicker ticker = new FakeTicker();
    private Freshness freshness;
    private LocalCache l1;

    @BeforeEach
    void setUp() {
        freshness = new Freshness();
        freshness.setEnabled(true);
        l1 = cache(100, 1000);
    }

    private LocalCache cache(long size, long watermarks) {
        return new LocalCache(
                size, Duration.ofMinutes(1), watermarks, Duration.ofMinutes(5), ticker, Runnable::run, freshness);
    }

    private static L1Entry v(long version) {
        return L1Entry.value(version, "v" + version);
    }

    @Test
    void shouldCacheAReadAndServeIt() {
        LocalCache.Offer offer = l1.offerVersioned("a", v(3), freshness.epoch());

        assertThat(offer.cached()).isTrue();
        assertThat(l1.get("a")).isEqualTo(v(3));
    }

    @Test
    void shouldKeepNewerEntryAndReturnItWhenOfferedAnOlderVersion() {
        l1.offerVersioned("a", v(5), freshness.epoch());

        LocalCache.Offer offer = l1.offerVersioned("a", v(4), freshness.epoch());

        assertThat(offer.entry()).isEqualTo(v(5));
        assertThat(offer.cached()).isFalse();
        assertThat(l1.get("a")).isEqualTo(v(5));
    }

    @Test
    void shouldRefuseReadOlderThanAnInvalidationThatArrivedWhileItWasInFlight() {
        long epoch = freshness.epoch(); // the read is sent
        l1.onInvalidation("a", 6, null); // the listener applies v6 (nothing cached yet)

        LocalCache.Offer offer = l1.offerVersioned("a", v(5), epoch); // the v5 reply arrives

        assertThat(offer.stale()).isTrue();
        assertThat(l1.get("a")).isNull();
        assertThat(l1.offerVersioned("a", v(6), epoch).cached()).isTrue();
    }

    @Test
    void shouldEvictOlderEntryWhenInvalidationHasNoPayload() {
        l1.offerVersioned("a", v(1), freshness.epoch());

        assertThat(l1.onInvalidation("a", 2, null)).isEqualTo(LocalCache.InvalidationResult.EVICTED);
        assertThat(l1.get("a")).isNull();
        assertThat(l1.watermark("a")).isEqualTo(2);
    }

    @Test
    void shouldUpdateInPlaceWhenInvalidationCarriesNewerPayload() {
        l1.offerVersioned("a", v(1), freshness.epoch());

        assertThat(l1.onInvalidation("a", 2, () -> v(2))).isEqualTo(LocalCache.InvalidationResult.UPDATED);
        assertThat(l1.get("a")).isEqualTo(v(2));
    }

    @Test
    void shouldIgnoreInvalidationNotNewerThanL1() {
        l1.offerVersioned("a", v(4), freshness.epoch());

        assertThat(l1.onInvalidation("a", 4, () -> v(4))).isEqualTo(LocalCache.InvalidationResult.STALE);
        assertThat(l1.onInvalidation("a", 3, null)).isEqualTo(LocalCache.InvalidationResult.STALE);
        assertThat(l1.get("a")).isEqualTo(v(4));
    }

    @Test
    void shouldNotInsertWhenInvalidatedIdIsNotCached() {
        assertThat(l1.onInvalidation("a", 2, () -> v(2))).isEqualTo(LocalCache.InvalidationResult.NOT_CACHED);
        assertThat(l1.get("a")).isNull();
    }

    @Test
    void shouldEvictWhenInlinePayloadCannotBeDecoded() {
        l1.offerVersioned("a", v(1), freshness.epoch());

        assertThat(l1.onInvalidation("a", 2, () -> null)).isEqualTo(LocalCache.InvalidationResult.EVICTED);
        assertThat(l1.get("a")).isNull();
    }

    @Test
    void shouldReturnButNotCacheWhenAResyncHappenedDuringTheRead() {
        long epoch = freshness.epoch();
        freshness.bump();

        LocalCache.Offer offer = l1.offerVersioned("a", v(1), epoch);

        assertThat(offer.entry()).isEqualTo(v(1));
        assertThat(offer.cached()).isFalse();
        assertThat(l1.get("a")).isNull();
    }

    @Test
    void shouldNotCacheWhileL1IsOff() {
        freshness.setEnabled(false);

        LocalCache.Offer offer = l1.offerVersioned("a", v(1), freshness.epoch());

        assertThat(offer.cached()).isFalse();
        assertThat(l1.get("a")).isNull();
    }

    @Test
    void shouldRefuseUnversionedLoadWhenAnInvalidationArrivedDuringTheLoad() {
        long epoch = freshness.epoch();
        Long before = l1.watermark("a");
        l1.onInvalidation("a", 9, null);

        assertThat(l1.offerLoaded("a", L1Entry.value(L1Entry.UNVERSIONED, "x"), epoch, before)
                        .stale())
                .isTrue();
        assertThat(l1.offerLoaded("a", L1Entry.value(L1Entry.UNVERSIONED, "x"), epoch, 9L)
                        .cached())
                .isTrue();
    }

    @Test
    void shouldReplaceUnversionedEntryOnAnyInvalidation() {
        l1.offerLoaded("a", L1Entry.notFound(L1Entry.UNVERSIONED), freshness.epoch(), null);

        assertThat(l1.onInvalidation("a", 0, () -> v(0))).isEqualTo(LocalCache.InvalidationResult.UPDATED);
        assertThat(l1.get("a")).isEqualTo(v(0));
    }

    @Test
    void shouldExpireEntriesAfterTheirLifetime() {
        l1.offerVersioned("a", v(1), freshness.epoch());
        ticker.advance(Duration.ofSeconds(59));
        assertThat(l1.get("a")).isEqualTo(v(1));

        ticker.advance(Duration.ofSeconds(2));

        assertThat(l1.get("a")).isNull();
    }

    @Test
    void shouldRestartLifetimeWhenUpdatedInPlace() {
        l1.offerVersioned("a", v(1), freshness.epoch());
        ticker.advance(Duration.ofSeconds(50));
        l1.onInvalidation("a", 2, () -> v(2));

        ticker.advance(Duration.ofSeconds(50));

        assertThat(l1.get("a")).isEqualTo(v(2));
    }

    @Test
    void shouldStopCachingReadsInFlightWhenAWatermarkIsEvictedBySize() {
        LocalCache small = cache(100, 2);
        long epoch = freshness.epoch();

        for (int i = 0; i < 10; i++) {
            small.onInvalidation("id" + i, 5, null);
        }
        small.cleanUp();

        assertThat(freshness.epoch()).isGreaterThan(epoch);
        assertThat(small.offerVersioned("id0", v(1), epoch).cached()).isFalse();
    }

    @Test
    void shouldRefuseAReadOlderThanAnEntryDroppedLocallyWhileItWasInFlight() {
        long epoch = freshness.epoch();
        l1.offerVersioned("a", v(7), freshness.epoch()); // another caller cached and returned v7
        l1.invalidate("a");

        assertThat(l1.offerVersioned("a", v(6), epoch).stale()).isTrue();
        assertThat(l1.watermark("a")).isEqualTo(7);
    }

    @Test
    void shouldRememberTheVersionOfAnEntryEvictedBySizeOrExpiry() {
        LocalCache tiny = cache(1, 100);
        tiny.offerVersioned("a", v(3), freshness.epoch());
        tiny.offerVersioned("b", v(4), freshness.epoch());
        tiny.cleanUp();
        ticker.advance(Duration.ofMinutes(2));
        tiny.cleanUp();

        assertThat(tiny.get("a")).isNull();
        assertThat(tiny.get("b")).isNull();
        assertThat(tiny.watermark("a")).isEqualTo(3);
        assertThat(tiny.watermark("b")).isEqualTo(4);
    }

    @Test
    void shouldStillRefuseStaleReadsWhenL1IsOff() {
        LocalCache off = cache(0, 100);
        off.onInvalidation("a", 5, null);

        assertThat(off.enabled()).isFalse();
        assertThat(off.offerVersioned("a", v(4), freshness.epoch()).stale()).isTrue();
        assertThat(off.offerVersioned("a", v(5), freshness.epoch()).entry()).isEqualTo(v(5));
        assertThat(off.get("a")).isNull();
    }

    @Test
    void shouldNeverHoldAVersionOlderThanTheLastInvalidationWhenReadersRace() throws Exception {
        // Readers offer random (possibly stale) versions; the listener applies increasing invalidations. Whenever the
        // listener has applied version n, L1 must hold nothing older than n.
        for (int round = 0; round < 20; round++) {
            LocalCache cache = new LocalCache(
                    100,
                    Duration.ofMinutes(1),
                    1000,
                    Duration.ofMinutes(5),
                    Ticker.systemTicker(),
                    Runnable::run,
                    freshness);
            AtomicLong applied = new AtomicLong(-1);
            CountDownLatch start = new CountDownLatch(1);
            Thread[] readers = new Thread[3];
            for (int t = 0; t < readers.length; t++) {
                readers[t] = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 2000; i++) {
                        long epoch = freshness.epoch();
                        long seen = applied.get(); // what Redis held when the "read" was sent
                        long version =
                                Math.max(0, seen + ThreadLocalRandom.current().nextInt(-1, 2));
                        cache.offerVersioned("k", v(version), epoch);
                    }
                });
                readers[t].start();
            }
            start.countDown();
            for (long n = 0; n < 500; n++) {
                long version = n;
                cache.onInvalidation("k", version, n % 2 == 0 ? () -> v(version) : null);
                applied.set(n);
                L1Entry e = cache.get("k");
                assertThat(e == null || e.version() >= n)
                        .as("L1 holds %s after invalidation %d", e, n)
                        .isTrue();
            }
            for (Thread t : readers) {
                t.join();
            }
        }
    }

    @Test
    void shouldReportTheHighestVersionHeldOrRememberedAsTheFloor() {
        assertThat(l1.floor("a")).isEqualTo(L1Entry.UNVERSIONED);
        l1.offerVersioned("a", v(3), freshness.epoch());
        assertThat(l1.floor("a")).isEqualTo(3);
        l1.onInvalidation("a", 7, null);
        assertThat(l1.floor("a")).isEqualTo(7);
    }

    @Test
    void shouldRememberTheVersionOfAValueReturnedButNotCachedWhenL1IsOffOrNotInUse() {
        LocalCache off = cache(0, 100);
        off.offerVersioned("a", v(5), freshness.epoch());
        assertThat(off.floor("a")).isEqualTo(5);
        assertThat(off.offerVersioned("a", v(4), freshness.epoch()).stale()).isTrue();

        freshness.setEnabled(false); // listener not positioned yet: L1 not in use
        l1.offerVersioned("b", v(6), freshness.epoch());
        assertThat(l1.get("b")).isNull();
        assertThat(l1.floor("b")).isEqualTo(6);
    }
}
