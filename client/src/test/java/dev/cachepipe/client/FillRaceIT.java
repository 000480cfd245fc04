package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.client.internal.DefaultEntityCache;
import dev.cachepipe.client.internal.L1Entry;
import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisServer;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Acceptance 3: a loader slower than a concurrent update never leaves its older value in Redis or in L1. */
class FillRaceIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private final RedisServer redis = TestInfra.redis();
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private SimulatedWriter writer;
    private CacheClient clientA;
    private CacheClient clientB;
    private EntityCache<Item> a;
    private EntityCache<Item> b;

    @BeforeEach
    void setUp() {
        String topic = TestInfra.topic(kafka, "fill");
        String prefix = TestInfra.unique("fill");
        writer = new SimulatedWriter(redis.uri(), kafka.bootstrapServers(), topic, prefix);
        clientA = TestInfra.client(redis, kafka, topic, prefix).build();
        clientB = TestInfra.client(redis, kafka, topic, prefix).build();
        a = clientA.entity("item", Codec.json(Item.class));
        b = clientB.entity("item", Codec.json(Item.class));
    }

    @AfterEach
    void tearDown() {
        callers.shutdownNow();
        clientA.close();
        clientB.close();
        writer.close();
    }

    /** A loader that signals when it started and returns only when released. */
    private static final class SlowLoader implements Loader<Item> {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
        final Function<String, Loaded<Item>> result;

        SlowLoader(Function<String, Loaded<Item>> result) {
            this.result = result;
        }

        @Override
        public Loaded<Item> load(String id) throws InterruptedException {
            runs.incrementAndGet();
            started.countDown();
            if (!release.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
            return result.apply(id);
        }
    }

    private Item raceUpdateWithSlowLoad(SlowLoader loader, Runnable update) throws Exception {
        CompletableFuture<Item> call = CompletableFuture.supplyAsync(() -> a.get("1", loader), callers);
        assertThat(loader.started.await(5, TimeUnit.SECONDS)).isTrue();
        update.run();
        loader.release.countDown();
        return call.get(10, TimeUnit.SECONDS);
    }

    private static L1Entry local(EntityCache<Item> cache, String id) {
        return ((DefaultEntityCache<Item>) cache).peekLocal(id);
    }

    @Test
    void shouldDropAVersionedFillThatAnUpdateOvertook() throws Exception {
        SlowLoader loader = new SlowLoader(id -> Loaded.of(new Item(id, 4, "loaded"), 4));

        Item returned = raceUpdateWithSlowLoad(loader, () -> writer.upsert("item", new Item("1", 5, "v5"), false));

        assertThat(returned).as("the newer state Redis has").isEqualTo(new Item("1", 5, "v5"));
        assertThat(writer.hash("item", "1"))
                .containsEntry("v", "5")
                .containsEntry("d", new String(SimulatedWriter.json(new Item("1", 5, "v5"))));
        assertThat(a.stats().fillsStored()).isZero();
        // Either the fill script dropped the fill, or (on a busy machine) the invalidation reached the client first
        // and the fill was never sent: both times the loader ran once and Redis's newer state was returned.
        assertThat(loader.runs.get()).isEqualTo(1);
        assertThat(a.stats().staleFillsDropped()).isLessThanOrEqualTo(1);
        assertNeverOlderThan5InL1();
    }

    @Test
    void shouldReturnRedisNewerStateWithoutLoadingAgainWhenTheInvalidationArrivesBeforeTheFill() throws Exception {
        SlowLoader loader = new SlowLoader(id -> Loaded.of(new Item(id, 4, "loaded"), 4));

        Item returned = raceUpdateWithSlowLoad(loader, () -> {
            writer.upsert("item", new Item("1", 5, "v5"), false);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> Long.valueOf(5).equals(((DefaultEntityCache<Item>) a).peekWatermark("1")));
        });

        assertThat(returned).as("the newer state Redis has").isEqualTo(new Item("1", 5, "v5"));
        assertThat(loader.runs.get())
                .as("no second run of a loader that is behind")
                .isEqualTo(1);
        assertThat(writer.storedVersion("item", "1")).isEqualTo(5);
        assertThat(a.stats().fillsStored()).isZero();
        assertNeverOlderThan5InL1();
    }

    @Test
    void shouldDropAnUnversionedFillThatAnUpdateOvertook() throws Exception {
        SlowLoader loader = new SlowLoader(id -> Loaded.of(new Item(id, 4, "loaded")));

        Item returned = raceUpdateWithSlowLoad(loader, () -> writer.upsert("item", new Item("1", 5, "v5"), true));

        assertThat(returned).isEqualTo(new Item("1", 5, "v5"));
        assertThat(writer.storedVersion("item", "1")).isEqualTo(5);
        assertThat(a.stats().staleFillsDropped()).isEqualTo(1);
        assertNeverOlderThan5InL1();
    }

    @Test
    void shouldDropAnUnversionedFillWhenANewerFenceReplacedTheOneSeenBeforeTheLoad() throws Exception {
        writer.fence("item", "1", 3); // invalidate mode: readers fill via the loader
        SlowLoader loader = new SlowLoader(id -> Loaded.of(new Item(id, 3, "loaded")));

        Item returned = raceUpdateWithSlowLoad(loader, () -> writer.fence("item", "1", 4));

        assertThat(returned)
                .as("Redis has no newer value: the caller gets what it loaded")
                .isEqualTo(new Item("1", 3, "loaded"));
        assertThat(writer.hash("item", "1")).containsEntry("v", "4").containsEntry("inv", "1");
        assertThat(local(a, "1")).as("a dropped fill is not cached").isNull();
        assertThat(a.get("1")).isEmpty();
        assertThat(b.get("1")).isEmpty();
    }

    @Test
    void shouldFillOverAnEqualFenceAndLetBothClientsReadIt() throws Exception {
        writer.fence("item", "1", 3);

        Item loaded = a.get("1", id -> Loaded.of(new Item(id, 3, "from db"), 3));

        assertThat(loaded).isEqualTo(new Item("1", 3, "from db"));
        assertThat(writer.hash("item", "1")).containsEntry("v", "3").doesNotContainKey("inv");
        assertThat(b.get("1")).contains(new Item("1", 3, "from db"));
        assertThat(a.stats().fillsStored()).isEqualTo(1);
        assertThat(local(a, "1")).isEqualTo(L1Entry.value(3, new Item("1", 3, "from db")));
    }

    @Test
    void shouldStoreAnUnversionedFillOfAnAbsentKeyAtVersionZeroSoThatEveryEventWins() {
        Item loaded = a.get("1", Loader.of(id -> new Item(id, 0, "from db")));

        assertThat(loaded).isEqualTo(new Item("1", 0, "from db"));
        assertThat(writer.storedVersion("item", "1")).isZero();
        assertThat(writer.upsert("item", new Item("1", 1, "event"), false)).isEqualTo(1);
        await().atMost(WAIT).until(() -> local(a, "1") == null);
        assertThat(a.get("1")).contains(new Item("1", 1, "event"));
    }

    @Test
    void shouldCacheALoadersNotFoundOnlyInL1AndForgetItWhenTheEntityAppears() {
        assertThat(a.get("new", id -> Loaded.notFound())).isNull();

        assertThat(writer.hash("item", "new")).isEmpty();
        assertThat(a.get("new", id -> {
                    throw new AssertionError("served from L1");
                }))
                .isNull();
        writer.upsert("item", new Item("new", 1, "created"), true);
        await().atMost(WAIT).untilAsserted(() -> assertThat(a.get("new")).contains(new Item("new", 1, "created")));
    }

    @Test
    void shouldPropagateLoaderFailuresAndReleaseTheLease() {
        assertThatThrownBy(() -> a.get("x", id -> {
                    throw new IOException("db down");
                }))
                .isInstanceOf(CacheLoadException.class)
                .hasMessageContaining("the loader of item failed for 'x'")
                .hasCauseInstanceOf(IOException.class);
        assertThatThrownBy(() -> a.get("y", id -> {
                    throw new IllegalStateException("bug");
                }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("bug");
        assertThatThrownBy(() -> a.get("z", id -> null))
                .isInstanceOf(CacheLoadException.class)
                .hasMessageContaining("return Loaded.notFound()");

        assertThat(writer.redis().exists(SimulatedWriter.bytes(leaseKey("x")))).isZero();
        assertThat(a.stats().loadFailures()).isEqualTo(3);
        assertThat(a.get("x", id -> Loaded.of(new Item(id, 1, "ok"), 1))).isEqualTo(new Item("x", 1, "ok"));
    }

    private String leaseKey(String id) {
        String entryKey = writer.key("item", id);
        String prefix = entryKey.substring(0, entryKey.length() - ":item:".length() - id.length());
        return prefix + "::lease:item:" + id;
    }

    private void assertNeverOlderThan5InL1() {
        L1Entry e = local(a, "1");
        assertThat(e == null || e.version() >= 5).as("L1 holds %s", e).isTrue();
        assertThat(a.get("1")).hasValueSatisfying(i -> assertThat(i.version()).isGreaterThanOrEqualTo(5));
        assertThat(b.get("1")).hasValueSatisfying(i -> assertThat(i.version()).isGreaterThanOrEqualTo(5));
    }
}
