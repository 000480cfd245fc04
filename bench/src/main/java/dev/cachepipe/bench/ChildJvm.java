package dev.cachepipe.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A child JVM running a class of this benchmark jar, its output copied to a log file. */
final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final Path log;

    private ChildJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code mainClass} with {@code jvmOptions} and {@code args}; its stdout and stderr go to {@code log}. */
    static ChildJvm start(List<String> jvmOptions, String mainClass, List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new ChildJvm(p, log);
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits (polling the log) for a line matching {@code ready}, and returns it. */
    String awaitLine(Predicate<String> ready, long timeoutSeconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            try (BufferedReader r = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (ready.test(line)) {
                        return line;
                    }
                }
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("the child process exited with status " + process.exitValue()
                        + " before it was ready; its output is in " + log);
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the child process was not ready within " + timeoutSeconds + " s; see " + log);
    }

    /** Resident set size of the process now, from {@code /proc/<pid>/status} (VmRSS), in MiB; -1 if unknown. */
    double rssMb() {
        return procStatusKb("VmRSS:") / 1024.0;
    }

    /** Peak resident set size (VmHWM) in MiB; -1 if unknown. */
    double peakRssMb() {
        return procStatusKb("VmHWM:") / 1024.0;
    }

    private long procStatusKb(String field) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                Files.newInputStream(Path.of("/proc", Long.toString(process.pid()), "status")),
                StandardCharsets.US_ASCII))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith(field)) {
                    return Long.parseLong(
                            line.substring(field.length()).replace("kB", "").trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1024;
        }
        return -1024;
    }

    /** SIGTERM, then SIGKILL after {@code graceSeconds}. */
    void stop(long graceSeconds) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Closes the child's standard input (a {@link BrokerMain} stops), then stops it. */
    void closeInputAndStop(long graceSeconds) throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // it is gone already
        }
        if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
            stop(5);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop(30);
        }
    }
}
