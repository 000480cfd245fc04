package dev.cachepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cachepipe.embedded.EmbeddedKafka;
import dev.cachepipe.embedded.RedisCluster;
import dev.cachepipe.embedded.RedisServer;
import dev.cachepipe.schemas.RedisLayout;
import io.lettuce.core.cluster.SlotHash;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 9: the client against a real Redis Cluster of three masters with a replica each (redis-server processes
 * started here): reads and
 * a {@code getAll} over keys of every master, a lease and a fill on a key of each master (the lease key and the entry
 * usually live on different masters), a stampede across two clients, and invalidations.
 */
class ClusterClientIT {
    private static RedisCluster cluster;
    private final EmbeddedKafka kafka = TestInfra.kafka();
    private final MeterRegistry registryA = new SimpleMeterRegistry();
    private final MeterRegistry registryB = new SimpleMeterRegistry();
    private SimulatedWriter writer;
    private String prefix;
    private CacheClient clientA;
    private CacheClient clientB;
    private EntityCache<Item> a;
    private EntityCache<Item> b;

    @BeforeAll
    static void startCluster() {
        cluster = RedisCluster.start(3, 1);
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @BeforeEach
    void setUp() {
        String topic = TestInfra.topic(kafka, "cluster");
        prefix = TestInfra.unique("cluster");
        writer = SimulatedWriter.onCluster(cluster.seeds(), kafka.bootstrapServers(), topic, prefix);
        clientA = client(topic, registryA, "cluster-a");
        clientB = client(topic, registryB, "cluster-b");
        a = clientA.entity("item", Codec.json(Item.class));
        b = clientB.entity("item", Codec.json(Item.class));
    }

    private CacheClient client(String topic, MeterRegistry registry, String name) {
        return CacheClient.builder()
                .name(name)
                .redisUri(cluster.seeds())
                .redisMode("cluster")
                .bootstrapServers(kafka.bootstrapServers())
                .invalidationsTopic(topic)
                .keyPrefix(prefix)
                .redisTimeout(TestInfra.PATIENT_REDIS_TIMEOUT)
                .kafkaTimeout(Duration.ofSeconds(10))
                .leaseTime(Duration.ofSeconds(5))
                .meterRegistry(registry)
                .build();
    }

    @AfterEach
    void tearDown() {
        clientA.close();
        clientB.close();
        writer.close();
    }

    @Test
    void shouldReadAndGetAllKeysOfEveryMasterInOneCall() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String id = "i" + i;
            ids.add(id);
            writer.upsert("item", new Item(id, 1 + i % 5, "v" + i), false);
        }
        assertThat(mastersOf(ids)).as("the keys cover every master").hasSize(3);

        Map<String, Item> all = a.getAll(ids);

        assertThat(all).hasSize(300);
        for (int i = 0; i < 300; i++) {
            assertThat(all.get("i" + i)).isEqualTo(new Item("i" + i, 1 + i % 5, "v" + i));
        }
        assertThat(registryA
                        .get("cachepipe.client.l2.latency")
                        .tags("op", "read_all")
                        .timer()
                        .count())
                .as("one getAll call, pipelined per node")
                .isEqualTo(1);
        assertThat(a.stats().l2Errors()).isZero();
        assertThat(b.get("i7")).contains(new Item("i7", 3, "v7"));
    }

    @Test
    void shouldLeaseAndFillAKeyOfEachMasterAndLoadOnceAcrossTwoClients() throws Exception {
        Map<RedisServer, String> idOnMaster = new HashMap<>();
        for (int i = 0; idOnMaster.size() < 3; i++) {
            String id = "cold" + i;
            idOnMaster.putIfAbsent(masterOf(id), id);
        }
        AtomicInteger loads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            for (String id : idOnMaster.values()) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Item>> calls = new ArrayList<>();
                for (int c = 0; c < 20; c++) {
                    EntityCache<Item> cache = c % 2 == 0 ? a : b;
                    calls.add(pool.submit(() -> {
                        go.await();
                        return cache.get(id, x -> {
                            loads.incrementAndGet();
                            sleep(200); // a slow source: the others wait for the lease holder's fill
                            return Loaded.of(new Item(x, 9, "loaded"), 9);
                        });
                    }));
                }
                go.countDown();
                for (Future<Item> f : calls) {
                    assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(new Item(id, 9, "loaded"));
                }
                assertThat(writer.storedVersion("item", id))
                        .as("%s filled on its master", id)
                        .isEqualTo(9);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(loads.get())
                .as("one load per key across both clients: %s", why())
                .isEqualTo(3);
    }

    @Test
    void shouldReadFromReplicasWhenAskedAndStillReturnWhatTheMastersHold() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            ids.add("r" + i);
            writer.upsert("item", new Item("r" + i, 4, "on-master"), false);
        }
        long before = replicaReads();
        try (CacheClient replicas = CacheClient.builder()
                .name("cluster-replicas")
                .redisUri(cluster.seeds())
                .redisMode("cluster")
                .redisReadFrom("replica-preferred")
                .bootstrapServers(kafka.bootstrapServers())
                .invalidationsTopic(TestInfra.topic(kafka, "cluster-replicas"))
                .keyPrefix(prefix)
                .l1MaximumSize(0)
                .redisTimeout(TestInfra.PATIENT_REDIS_TIMEOUT)
                .build()) {
            EntityCache<Item> items = replicas.entity("item", Codec.json(Item.class));
            // replication is asynchronous: a replica may answer "absent" for a moment
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (String id : ids) {
                    assertThat(items.get(id)).contains(new Item(id, 4, "on-master"));
                }
            });
            assertThat(replicas.stats().l2Errors()).isZero();
        }
        assertThat(replicaReads() - before).as("HMGETs the replicas served").isGreaterThanOrEqualTo(60);
    }

    /** HMGET calls served by the replicas so far. */
    private static long replicaReads() {
        long n = 0;
        for (RedisServer m : cluster.masters()) {
            for (RedisServer r : cluster.replicasOf(m)) {
                java.util.regex.Matcher calls = java.util.regex.Pattern.compile("cmdstat_hmget:calls=(\\d+)")
                        .matcher(r.command("INFO", "commandstats"));
                if (calls.find()) {
                    n += Long.parseLong(calls.group(1));
                }
            }
        }
        return n;
    }

    @Test
    void shouldApplyInvalidationsOfKeysOnEveryMaster() {
        List<String> ids = List.of("x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9");
        for (String id : ids) {
            writer.upsert("item", new Item(id, 1, "old"), false);
            assertThat(a.get(id)).contains(new Item(id, 1, "old"));
        }
        for (String id : ids) {
            writer.upsert("item", new Item(id, 2, "new"), true);
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            for (String id : ids) {
                assertThat(a.get(id)).contains(new Item(id, 2, "new"));
            }
        });
        assertThat(mastersOf(ids)).hasSize(3);
    }

    private String why() {
        return "client A: l2 errors " + clientA.stats().l2Errors() + ", fills "
                + clientA.stats().fillsStored() + "; client B: l2 errors "
                + clientB.stats().l2Errors() + ", fills " + clientB.stats().fillsStored();
    }

    private RedisServer masterOf(String id) {
        return cluster.masterOf(SlotHash.getSlot(RedisLayout.key(prefix, "item", id)));
    }

    private Set<RedisServer> mastersOf(List<String> ids) {
        Set<RedisServer> masters = new HashSet<>();
        ids.forEach(id -> masters.add(masterOf(id)));
        return masters;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
