package dev.cachepipe.bench;

import dev.cachepipe.embedded.FreePorts;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * {@code cachepipe run --config FILE} in a process of its own (the same main class the launcher runs), with a local
 * JMX connector through which the benchmark reads the CPU time of the process's threads ({@link
 * com.sun.management.ThreadMXBean}), and its RSS from {@code /proc}.
 */
final class PipelineProcess implements AutoCloseable {
    /** The threads that answer the benchmark's own JMX calls: not counted as the pipeline's. */
    static final String JMX_PROBES = "JMX (benchmark's probes, not counted)";

    private final ChildJvm jvm;
    private final JMXConnector jmx;
    private final com.sun.management.ThreadMXBean threads;
    private final com.sun.management.OperatingSystemMXBean os;

    private PipelineProcess(ChildJvm jvm, JMXConnector jmx) throws IOException {
        this.jvm = jvm;
        this.jmx = jmx;
        MBeanServerConnection conn = jmx.getMBeanServerConnection();
        this.threads = ManagementFactory.newPlatformMXBeanProxy(
                conn, ManagementFactory.THREAD_MXBEAN_NAME, com.sun.management.ThreadMXBean.class);
        this.os = ManagementFactory.newPlatformMXBeanProxy(
                conn, ManagementFactory.OPERATING_SYSTEM_MXBEAN_NAME, com.sun.management.OperatingSystemMXBean.class);
    }

    /** Starts {@code run} with {@code configYaml}, waits until it logs {@code cachepipe running}. */
    static PipelineProcess start(String configYaml, List<String> jvmOptions, Path workDir)
            throws IOException, InterruptedException {
        Path config = workDir.resolve("cachepipe.yaml");
        Files.writeString(config, configYaml);
        int jmxPort = FreePorts.next();
        List<String> args = List.of("run", "--config", config.toString(), "--jmx-port", Integer.toString(jmxPort));
        ChildJvm jvm = ChildJvm.start(jvmOptions, "dev.cachepipe.app.Main", args, workDir.resolve("run.log"));
        try {
            jvm.awaitLine(l -> l.contains("cachepipe running"), 180);
            JMXConnector c = JMXConnectorFactory.connect(
                    new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi"));
            return new PipelineProcess(jvm, c);
        } catch (IOException | RuntimeException | InterruptedException e) {
            jvm.close();
            throw e;
        }
    }

    /** CPU time of the process's threads so far, by thread group (see {@link #group}). */
    record Cpu(Map<String, Long> nanosByGroup, long processNanos) {
        /** CPU of the pipeline's own threads: every group but the benchmark's JMX probes. */
        long totalThreadNanos() {
            return nanosByGroup.entrySet().stream()
                    .filter(e -> !e.getKey().equals(JMX_PROBES))
                    .mapToLong(Map.Entry::getValue)
                    .sum();
        }

        /** What was spent between {@code earlier} and this sample (threads that ended meanwhile are missing). */
        Cpu minus(Cpu earlier) {
            Map<String, Long> d = new TreeMap<>();
            nanosByGroup.forEach((g, n) -> d.put(g, n - earlier.nanosByGroup.getOrDefault(g, 0L)));
            return new Cpu(d, processNanos - earlier.processNanos);
        }
    }

    Cpu cpu() {
        long[] ids = threads.getAllThreadIds();
        long[] nanos = threads.getThreadCpuTime(ids);
        var infos = threads.getThreadInfo(ids);
        Map<String, Long> byGroup = new TreeMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (infos[i] == null || nanos[i] < 0) {
                continue;
            }
            byGroup.merge(group(infos[i].getThreadName()), nanos[i], Long::sum);
        }
        return new Cpu(byGroup, os.getProcessCpuTime());
    }

    /** A thread name without its numbers, so that e.g. the stream threads add up in one group. */
    static String group(String threadName) {
        if (threadName.startsWith("kafka-producer-network-thread")) {
            return threadName.contains("StreamThread") ? "streams producer I/O" : "writer producer I/O";
        }
        if (threadName.contains("StreamThread")) {
            return "stream thread";
        }
        if (threadName.startsWith("cachepipe-writer")) {
            return "writer";
        }
        if (threadName.startsWith("lettuce-")) {
            return "lettuce I/O";
        }
        if (threadName.startsWith("kafka-coordinator-heartbeat-thread")) {
            return "consumer heartbeat";
        }
        if (threadName.startsWith("RMI") || threadName.startsWith("JMX")) {
            return JMX_PROBES;
        }
        return threadName.replaceAll("[0-9]+", "#");
    }

    double rssMb() {
        return jvm.rssMb();
    }

    double peakRssMb() {
        return jvm.peakRssMb();
    }

    Path log() {
        return jvm.log();
    }

    boolean isAlive() {
        return jvm.isAlive();
    }

    static List<String> lines(Cpu cpu, long events) {
        List<String> out = new ArrayList<>();
        cpu.nanosByGroup().entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> out.add(String.format(
                        java.util.Locale.ROOT,
                        "  %-40s %8.2f s %8.2f µs/event",
                        e.getKey(),
                        e.getValue() / 1e9,
                        e.getValue() / 1e3 / events)));
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        try {
            jmx.close();
        } catch (IOException ignored) {
            // the process is going away
        }
        jvm.stop(30);
    }
}
