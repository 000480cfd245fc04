package dev.cachepipe.app.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure the local Kafka Streams state of an application id belongs to the Kafka cluster and the topic
 * incarnations it is about to run against, and wipes it when it does not.
 *
 * <p>The versions store remembers the highest version emitted per key. Kept from another cluster (a staging
 * environment reset, a new cluster behind the same address) or from a deleted and recreated topic, it would call
 * every new event stale and drop it, silently. Streams itself cannot tell: a clean shutdown leaves a checkpoint that
 * it trusts. So next to the state ({@code <stateDir>/<applicationId>.owner}) this records the cluster id and the
 * topic ids the state was built from; before Streams starts, a different cluster id, a different topic id or state
 * without such a record (an earlier release) means the state is deleted — Streams then restores the store from this
 * cluster's changelog, which is what it would hold had it run here from the start.
 */
final class LocalStateOwner {
    private static final Logger log = LoggerFactory.getLogger(LocalStateOwner.class);
    private static final String CLUSTER = "cluster.id";
    private static final String TOPIC = "topic.";

    /** The cluster and topic ids that local state belongs to. */
    record Owner(String clusterId, SortedMap<String, String> topicIds) {
        Owner {
            Objects.requireNonNull(clusterId, "clusterId");
            topicIds = new TreeMap<>(topicIds);
        }

        /**
         * What differs from {@code before}, for the log; empty if nothing: the same cluster, and every topic recorded
         * then still has the same id (topics created since do not count).
         */
        String changesSince(Owner before) {
            StringBuilder sb = new StringBuilder();
            if (!clusterId.equals(before.clusterId)) {
                sb.append("Kafka cluster ")
                        .append(before.clusterId)
                        .append(" -> ")
                        .append(clusterId);
            }
            Set<String> topics = new TreeSet<>(before.topicIds.keySet());
            for (String topic : topics) {
                String was = before.topicIds.get(topic);
                String now = topicIds.get(topic);
                // a topic created since the state was recorded (the changelog, after the first start) is no change
                if (was != null && !was.equals(now)) {
                    sb.append(sb.length() == 0 ? "" : ", ")
                            .append("topic ")
                            .append(topic)
                            .append(' ')
                            .append(was == null ? "(absent)" : was)
                            .append(" -> ")
                            .append(now == null ? "(absent)" : now);
                }
            }
            return sb.toString();
        }

        Properties toProperties() {
            Properties p = new Properties();
            p.setProperty(CLUSTER, clusterId);
            topicIds.forEach((topic, id) -> p.setProperty(TOPIC + topic, id));
            return p;
        }

        static Owner fromProperties(Properties p) {
            SortedMap<String, String> topics = new TreeMap<>();
            for (String name : p.stringPropertyNames()) {
                if (name.startsWith(TOPIC)) {
                    topics.put(name.substring(TOPIC.length()), p.getProperty(name));
                }
            }
            return new Owner(p.getProperty(CLUSTER, ""), topics);
        }
    }

    private LocalStateOwner() {}

    /**
     * Compares what the state of {@code applicationId} under {@code stateDir} belongs to with the cluster behind
     * {@code admin} and its {@code topics} (those that exist), wipes the state if they differ, and records the current
     * owner.
     *
     * @throws IllegalStateException if the state must be wiped but another process is using it
     */
    static void verify(Admin admin, Path stateDir, String applicationId, Collection<String> topics) {
        Owner current = describe(admin, topics);
        Path appDir = stateDir.resolve(applicationId);
        Path record = stateDir.resolve(applicationId + ".owner");
        Owner recorded = read(record);
        if (recorded != null && current.changesSince(recorded).isEmpty()) {
            if (!recorded.equals(current)) {
                write(record, current); // a topic created since (the changelog, after the first start)
            }
            return;
        }
        if (hasState(appDir)) {
            String why = recorded == null
                    ? "it has no record of the Kafka cluster it was built from (written by an earlier release)"
                    : "it was built from another Kafka cluster or topic incarnation: " + current.changesSince(recorded);
            wipe(appDir);
            boolean sameCluster = recorded != null && recorded.clusterId().equals(current.clusterId());
            log.warn(
                    "Wiped the local Kafka Streams state {}: {}. The versions store is restored from the changelog of"
                            + " cluster {} instead of trusting versions that would mark its events as stale.{}",
                    appDir,
                    why,
                    current.clusterId(),
                    sameCluster
                            ? " On this cluster that changelog may still hold the versions of a recreated topic: if"
                                    + " its versions start over, reset the application (kafka-streams-application-reset)"
                                    + " or use a new kafka.applicationId."
                            : "");
        }
        write(record, current);
    }

    /** The cluster id and the ids of those of {@code topics} that exist. */
    static Owner describe(Admin admin, Collection<String> topics) {
        try {
            String clusterId = admin.describeCluster().clusterId().get(60, TimeUnit.SECONDS);
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            Set<String> wanted = new LinkedHashSet<>(topics);
            wanted.retainAll(existing);
            SortedMap<String, String> ids = new TreeMap<>();
            if (!wanted.isEmpty()) {
                Map<String, TopicDescription> described =
                        admin.describeTopics(wanted).allTopicNames().get(60, TimeUnit.SECONDS);
                described.forEach((name, d) -> ids.put(name, d.topicId().toString()));
            }
            return new Owner(clusterId, ids);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "cannot describe the Kafka cluster and its topics: "
                            + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not describe its cluster and topics within 60 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing the Kafka cluster", e);
        }
    }

    private static Owner read(Path record) {
        if (!Files.isRegularFile(record)) {
            return null;
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(record)) {
            p.load(in);
        } catch (IOException e) {
            log.warn("Cannot read {} ({}); treating the local state as unknown", record, e.toString());
            return null;
        }
        return Owner.fromProperties(p);
    }

    private static void write(Path record, Owner owner) {
        try {
            Files.createDirectories(record.getParent());
            Path tmp = record.resolveSibling(record.getFileName() + ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                owner.toProperties()
                        .store(out, "what the Kafka Streams state next to this file belongs to (cachepipe)");
            }
            Files.move(tmp, record, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + record, e);
        }
    }

    private static boolean hasState(Path appDir) {
        if (!Files.isDirectory(appDir)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(appDir)) {
            return entries.anyMatch(p -> !p.getFileName().toString().equals(".lock"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + appDir, e);
        }
    }

    /** Deletes {@code appDir}, unless a running Kafka Streams instance (another process) holds its lock. */
    private static void wipe(Path appDir) {
        Path lock = appDir.resolve(".lock");
        if (Files.exists(lock)) {
            try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE)) {
                FileLock held = channel.tryLock();
                if (held == null) {
                    throw inUse(appDir);
                }
                held.release();
            } catch (OverlappingFileLockException e) {
                throw inUse(appDir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot check the lock " + lock, e);
            }
        }
        try (Stream<Path> all = Files.walk(appDir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the local Kafka Streams state " + appDir, e);
        }
    }

    private static IllegalStateException inUse(Path appDir) {
        return new IllegalStateException("the local Kafka Streams state " + appDir + " belongs to another Kafka cluster"
                + " and another process is using it; give this installation its own kafka.stateDir");
    }
}
