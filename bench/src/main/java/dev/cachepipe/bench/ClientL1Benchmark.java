package dev.cachepipe.bench;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.cachepipe.client.CacheClient;
import dev.cachepipe.client.Codec;
import dev.cachepipe.client.EntityCache;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * L1 hits through the client ({@code EntityCache.get} on a warm Caffeine L1, with the invalidation listener running)
 * next to a bare Caffeine {@code getIfPresent} of the same entries: latency on one thread, throughput on two.
 *
 * <pre>
 * ./mvnw -B -o -q -pl client -am install -DskipTests &amp;&amp; ./mvnw -B -o -q -pl bench package -DskipTests
 * java -jar bench/target/cachepipe-bench.jar ClientL1Benchmark -f 1 -wi 2 -i 3 -w 2s -r 3s
 * </pre>
 */
@State(Scope.Benchmark)
public class ClientL1Benchmark {
    private static final int ENTRIES = 1024; // a power of two: index with a mask

    private BenchFixture fixture;
    private CacheClient client;
    private EntityCache<BenchFixture.Item> items;
    private Cache<String, BenchFixture.Item> caffeine;
    private Cache<String, BenchFixture.Item> caffeineTtl;
    private String[] ids;

    /** Each thread walks the ids from its own offset. */
    @State(Scope.Thread)
    public static class Cursor {
        int next = (int) (Thread.currentThread().getId() * 7919);

        int next() {
            return next++ & (ENTRIES - 1);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        fixture = new BenchFixture(ENTRIES);
        ids = fixture.ids;
        client = fixture.client("bench-l1", 10_000);
        items = client.entity(BenchFixture.TYPE, Codec.json(BenchFixture.Item.class));
        caffeine = Caffeine.newBuilder().maximumSize(10_000).build();
        caffeineTtl = Caffeine.newBuilder()
                .maximumSize(10_000)
                .expireAfterWrite(java.time.Duration.ofHours(1))
                .build();
        for (String id : ids) {
            BenchFixture.Item item = items.get(id).orElseThrow(); // fills L1
            caffeine.put(id, item);
            caffeineTtl.put(id, item);
        }
        if (items.stats().l1Size() != ENTRIES) {
            throw new IllegalStateException("L1 holds " + items.stats().l1Size() + " entries, not " + ENTRIES);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.println();
        System.out.println("client stats: " + items.stats());
        client.close();
        fixture.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Optional<BenchFixture.Item> l1HitLatency(Cursor cursor) {
        return items.get(ids[cursor.next()]);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public Optional<BenchFixture.Item> l1HitThroughput(Cursor cursor) {
        return items.get(ids[cursor.next()]);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public BenchFixture.Item caffeineBaselineLatency(Cursor cursor) {
        return caffeine.getIfPresent(ids[cursor.next()]);
    }

    /** Caffeine configured like L1 (size bound and expireAfterWrite: a ticker read per hit). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public BenchFixture.Item caffeineWithTtlBaselineLatency(Cursor cursor) {
        return caffeineTtl.getIfPresent(ids[cursor.next()]);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public BenchFixture.Item caffeineBaselineThroughput(Cursor cursor) {
        return caffeine.getIfPresent(ids[cursor.next()]);
    }
}
