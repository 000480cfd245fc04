package dev.cachepipe.embedded;

import io.lettuce.core.MigrateArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.codec.StringCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis Cluster of {@code redis-server} processes on free loopback ports, joined with {@code redis-cli --cluster
 * create}, for the demo and the tests: {@code masters} masters with {@code replicasPerMaster} replicas each, every
 * node a {@link RedisServer} (so a test can pause, kill or restart one).
 *
 * <p>Fault helpers wait until the cluster agrees again: {@link #failover} ({@code CLUSTER FAILOVER} on a replica),
 * {@link #flushShard} ({@code FLUSHALL} on one master), {@link #migrateSlots} (a slot range moved with its keys, the
 * way {@code redis-cli --cluster reshard} does it: {@code SETSLOT IMPORTING/MIGRATING}, {@code MIGRATE}, {@code
 * SETSLOT NODE}). Admin commands go over short-lived Lettuce connections to one node.
 */
public final class RedisCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisCluster.class);
    private static final Duration SETTLE = Duration.ofSeconds(60);

    private final List<RedisServer> nodes;
    private final TlsFiles tls; // null: plain TCP
    private final RedisClient admin = RedisClient.create();

    private RedisCluster(List<RedisServer> nodes, TlsFiles tls) {
        this.nodes = List.copyOf(nodes);
        this.tls = tls;
        if (tls != null) {
            admin.setOptions(io.lettuce.core.ClientOptions.builder()
                    .sslOptions(io.lettuce.core.SslOptions.builder()
                            .jdkSslProvider()
                            .trustManager(tls.caCert().toFile())
                            .keyManager(
                                    tls.clientCert().toFile(), tls.clientKey().toFile(), null)
                            .build())
                    .build());
        }
    }

    /** Starts {@code masters} masters (3 or more) with {@code replicasPerMaster} replicas each and joins them. */
    public static RedisCluster start(int masters, int replicasPerMaster) {
        return start(masters, replicasPerMaster, null);
    }

    /**
     * Like {@link #start(int, int)}, every node speaking TLS only ({@code --port 0 --tls-port}, the cluster bus and
     * replication over TLS too) with the certificates of {@code tls} (null: plain TCP); {@link #seeds()} are then
     * {@code rediss://} URIs.
     */
    public static RedisCluster start(int masters, int replicasPerMaster, TlsFiles tls) {
        if (masters < 3) {
            throw new IllegalArgumentException("a Redis Cluster needs at least 3 masters but was " + masters);
        }
        List<RedisServer> nodes = new ArrayList<>();
        RedisCluster cluster = null;
        try {
            for (int i = 0; i < masters * (1 + replicasPerMaster); i++) {
                List<String> args = new ArrayList<>(List.of(
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "2000",
                        // the bus port, else port + 10000, which may be taken or above 65535
                        "--cluster-port", Integer.toString(FreePorts.next()),
                        "--cluster-require-full-coverage", "no"));
                if (tls != null) {
                    args.addAll(List.of("--tls-cluster", "yes", "--tls-replication", "yes"));
                    nodes.add(RedisServer.startTls(tls, false, args));
                } else {
                    nodes.add(RedisServer.start(args));
                }
            }
            cluster = new RedisCluster(nodes, tls);
            cluster.create(replicasPerMaster);
            cluster.awaitSettled();
            log.info("Redis Cluster up: {}", cluster.describe());
            return cluster;
        } catch (RuntimeException e) {
            if (cluster != null) {
                cluster.close();
            } else {
                nodes.forEach(RedisServer::close);
            }
            throw e;
        }
    }

    private void create(int replicas) {
        List<String> cmd = new ArrayList<>(List.of(cli()));
        if (tls != null) {
            cmd.addAll(List.of(
                    "--tls",
                    "--cacert",
                    tls.caCert().toString(),
                    "--cert",
                    tls.clientCert().toString(),
                    "--key",
                    tls.clientKey().toString()));
        }
        cmd.addAll(List.of("--cluster", "create"));
        nodes.forEach(n -> cmd.add(n.host() + ":" + n.port()));
        cmd.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cli() + " (install redis-tools)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** {@code redis-cli} next to the {@code redis-server} binary in use, else from the PATH. */
    private static String cli() {
        String server = RedisServer.binary();
        if (server.contains("/")) {
            java.nio.file.Path sibling = java.nio.file.Path.of(server).resolveSibling("redis-cli");
            if (java.nio.file.Files.isExecutable(sibling)) {
                return sibling.toString();
            }
        }
        return "redis-cli";
    }

    /** Every node, masters and replicas, in start order. */
    public List<RedisServer> nodes() {
        return nodes;
    }

    /** The masters now (a failover changes them), ordered by their lowest slot. */
    public List<RedisServer> masters() {
        List<String[]> lines = clusterNodes(anyRunning());
        List<RedisServer> out = new ArrayList<>();
        List<Integer> lowest = new ArrayList<>();
        for (String[] l : lines) {
            if (l[2].contains("master") && !l[2].contains("fail") && l.length > 8) {
                RedisServer n = byAddress(l[1]);
                out.add(n);
                lowest.add(Integer.parseInt(l[8].split("-")[0].replace("[", "").split("->")[0]));
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            order.add(i);
        }
        order.sort((a, b) -> Integer.compare(lowest.get(a), lowest.get(b)));
        return order.stream().map(out::get).toList();
    }

    /** The replicas of {@code master} now. */
    public List<RedisServer> replicasOf(RedisServer master) {
        String id = nodeId(master);
        return clusterNodes(anyRunning()).stream()
                .filter(l -> l[2].contains("slave") && l[3].equals(id))
                .map(l -> byAddress(l[1]))
                .toList();
    }

    /** {@code redis://127.0.0.1:p1,redis://127.0.0.1:p2,...}: every node, as seeds. */
    public String seeds() {
        return nodes.stream().map(RedisServer::uri).collect(Collectors.joining(","));
    }

    /** The first node's URI. */
    public String uri() {
        return nodes.get(0).uri();
    }

    /** The cluster node id of {@code node}. */
    public String nodeId(RedisServer node) {
        return call(node, RedisCommands::clusterMyId);
    }

    /** The master that serves {@code slot} now. */
    public RedisServer masterOf(int slot) {
        for (String[] l : clusterNodes(anyRunning())) {
            if (!l[2].contains("master")) {
                continue;
            }
            for (int i = 8; i < l.length; i++) {
                if (l[i].startsWith("[")) {
                    continue; // a slot being migrated or imported
                }
                String[] range = l[i].split("-");
                int lo = Integer.parseInt(range[0]);
                int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
                if (slot >= lo && slot <= hi) {
                    return byAddress(l[1]);
                }
            }
        }
        throw new IllegalStateException("no master serves slot " + slot);
    }

    /** The master that holds {@code key}. */
    public RedisServer masterOf(String key) {
        return masterOf(SlotHash.getSlot(key));
    }

    /** The slot ranges {@code master} serves, as {@code [from, to]} pairs (inclusive). */
    public List<int[]> slotsOf(RedisServer master) {
        String id = nodeId(master);
        List<int[]> out = new ArrayList<>();
        for (String[] l : clusterNodes(master)) {
            if (!l[0].equals(id)) {
                continue;
            }
            for (int i = 8; i < l.length; i++) {
                if (!l[i].startsWith("[")) {
                    String[] range = l[i].split("-");
                    int lo = Integer.parseInt(range[0]);
                    out.add(new int[] {lo, range.length > 1 ? Integer.parseInt(range[1]) : lo});
                }
            }
        }
        return out;
    }

    /**
     * {@code CLUSTER FAILOVER} on a replica of {@code master} (a coordinated failover: the replica catches up first);
     * returns the new master once every node agrees and the old one replicates from it.
     */
    public RedisServer failover(RedisServer master) {
        List<RedisServer> replicas = replicasOf(master);
        if (replicas.isEmpty()) {
            throw new IllegalStateException(master.uri() + " has no replica to fail over to");
        }
        RedisServer replica = replicas.get(0);
        String replicaId = nodeId(replica);
        call(replica, c -> c.clusterFailover(false));
        await("the replica " + replica.port() + " is master everywhere", () -> {
            for (RedisServer n : running()) {
                boolean seen =
                        clusterNodes(n).stream().anyMatch(l -> l[0].equals(replicaId) && l[2].contains("master"));
                if (!seen) {
                    return false;
                }
            }
            return true;
        });
        awaitSettled();
        return replica;
    }

    /** {@code FLUSHALL} on {@code master}; returns once its replicas are empty too. */
    public void flushShard(RedisServer master) {
        List<RedisServer> replicas = replicasOf(master);
        call(master, RedisCommands::flushall);
        await("the replicas of " + master.port() + " are empty", () -> {
            for (RedisServer r : replicas) {
                if (call(r, RedisCommands::dbsize) != 0) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * Moves slots {@code fromSlot}..{@code toSlot} (inclusive; one current owner) with their keys to {@code target},
     * slot by slot, while clients keep writing (they get {@code ASK} for keys already moved, {@code MOVED} after).
     */
    public void migrateSlots(int fromSlot, int toSlot, RedisServer target) {
        RedisServer source = masterOf(fromSlot);
        if (source.equals(target)) {
            throw new IllegalArgumentException("slot " + fromSlot + " is already on " + target.uri());
        }
        String sourceId = nodeId(source);
        String targetId = nodeId(target);
        List<RedisServer> masters = masters();
        for (int slot = fromSlot; slot <= toSlot; slot++) {
            int s = slot;
            if (!masterOf(s).equals(source)) {
                throw new IllegalStateException("slot " + s + " is not on " + source.uri());
            }
            call(target, c -> c.clusterSetSlotImporting(s, sourceId));
            call(source, c -> c.clusterSetSlotMigrating(s, targetId));
            while (true) {
                List<String> keys = call(source, c -> c.clusterGetKeysInSlot(s, 200));
                if (keys.isEmpty()) {
                    break;
                }
                call(
                        source,
                        c -> c.migrate(
                                target.host(),
                                target.port(),
                                0,
                                10_000,
                                MigrateArgs.Builder.keys(keys).replace()));
            }
            for (RedisServer m : masters) {
                call(m, c -> c.clusterSetSlotNode(s, targetId));
            }
        }
        await("every node sees slots " + fromSlot + "-" + toSlot + " on " + target.port(), () -> {
            for (RedisServer n : running()) {
                String targetLine = clusterNodes(n).stream()
                        .filter(l -> l[0].equals(targetId))
                        .map(l -> String.join(" ", l))
                        .findFirst()
                        .orElse("");
                if (!servesSlot(targetLine, fromSlot) || !servesSlot(targetLine, toSlot)) {
                    return false;
                }
            }
            return true;
        });
        awaitSettled();
    }

    private static boolean servesSlot(String nodesLine, int slot) {
        String[] l = nodesLine.split(" ");
        for (int i = 8; i < l.length; i++) {
            if (l[i].startsWith("[")) {
                continue;
            }
            String[] range = l[i].split("-");
            int lo = Integer.parseInt(range[0]);
            int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
            if (slot >= lo && slot <= hi) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code args} on the master of {@code key} and returns the raw RESP reply (for tests). */
    public String commandOnOwner(String key, String... args) {
        return masterOf(key).command(args);
    }

    /** Waits until every running node says {@code cluster_state:ok} and every replica's link to its master is up. */
    public void awaitSettled() {
        await("the cluster is ok on every node", () -> {
            for (RedisServer n : running()) {
                if (!call(n, RedisCommands::clusterInfo).contains("cluster_state:ok")) {
                    return false;
                }
                String replication = call(n, c -> c.info("replication"));
                if (replication.contains("role:slave") && !replication.contains("master_link_status:up")) {
                    return false;
                }
            }
            return true;
        });
    }

    /** {@code host:port masters ... replicas ...}, for logs. */
    public String describe() {
        return clusterNodes(anyRunning()).stream()
                .map(l -> l[1].split("@")[0] + (l[2].contains("master") ? " master" : " replica"))
                .collect(Collectors.joining(", "));
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
        admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    private List<RedisServer> running() {
        return nodes.stream().filter(RedisServer::isRunning).toList();
    }

    private RedisServer anyRunning() {
        return running().stream()
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no node of the cluster runs"));
    }

    private RedisServer byAddress(String address) {
        int port = Integer.parseInt(address.split("@")[0].split(":")[1]);
        return nodes.stream()
                .filter(n -> n.port() == port)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no node on port " + port));
    }

    /** {@code CLUSTER NODES} of {@code node}, each line split on spaces. */
    private List<String[]> clusterNodes(RedisServer node) {
        String text = call(node, RedisCommands::clusterNodes);
        List<String[]> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                out.add(line.trim().split(" "));
            }
        }
        return out;
    }

    private <T> T call(RedisServer node, Function<RedisCommands<String, String>, T> command) {
        RedisURI uri = RedisURI.create(node.uri());
        uri.setTimeout(Duration.ofSeconds(10));
        try (StatefulRedisConnection<String, String> c = admin.connect(StringCodec.UTF8, uri)) {
            return command.apply(c.sync());
        }
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
                last = null;
            } catch (RuntimeException e) {
                last = e; // a node restarting, a connection refused: try again
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting until " + what, e);
            }
        }
        throw new IllegalStateException("timed out after " + SETTLE + " waiting until " + what, last);
    }
}
