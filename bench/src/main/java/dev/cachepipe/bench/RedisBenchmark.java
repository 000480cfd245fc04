package dev.cachepipe.bench;

import dev.cachepipe.writer.RedisScripts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code redis-benchmark} running {@code EVALSHA} of cachepipe's upsert script, the yardstick the benchmarks compare
 * the pipeline with: what the same Redis takes of the same script, plain (50 clients) and pipelined (4 clients, 64
 * calls in flight each).
 */
final class RedisBenchmark {
    private RedisBenchmark() {}

    /** The two yardsticks, calls per second. */
    record Figures(double plain, double pipelined) {}

    /** Runs both variants against the node on {@code port} ({@code cluster}: all masters of its cluster). */
    static Figures both(int port, boolean cluster, int requests) throws IOException, InterruptedException {
        return new Figures(evalsha(port, cluster, requests, 50, 1), evalsha(port, cluster, requests, 4, 64));
    }

    /** Runs redis-benchmark with EVALSHA of the upsert script and returns its calls per second. */
    static double evalsha(int port, boolean cluster, int requests, int clients, int pipeline)
            throws IOException, InterruptedException {
        String sha = RedisScripts.upsertSha();
        List<String> cmd = new ArrayList<>(List.of(
                "redis-benchmark",
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(port),
                "-n",
                Integer.toString(requests),
                "-c",
                Integer.toString(clients),
                "-P",
                Integer.toString(pipeline),
                cluster ? "--cluster" : "-e",
                "-r",
                // far more keys than requests: nearly every call stores a new entry (the apply path), as the
                // pipeline's writes do, instead of answering "same version" from the second call on
                "1000000000",
                "--csv",
                "EVALSHA",
                sha,
                "1",
                // in cluster mode redis-benchmark replaces {tag} with a tag of each master in turn
                cluster ? "bench:{tag}:__rand_int__" : "bench:__rand_int__",
                "7",
                // ~120 bytes like the generator's JSON; no commas or quotes, which would confuse the CSV output.
                "payload-__rand_int__-of-a-benchmark-entity-about-as-large-as-the-json-documents-that-the-event-generator-writes",
                "application/json",
                "1700000000000",
                "3600000"));
        Path output = Files.createTempFile("redis-benchmark", ".csv");
        try {
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-benchmark did not finish within 5 minutes");
            }
            String out = Files.readString(output);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("redis-benchmark failed: " + out);
            }
            return parseRequestsPerSecond(out);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static double parseRequestsPerSecond(String out) {
        // --csv: a header line, then "EVALSHA ...","<rps>",...
        List<String> lines = out.lines().filter(l -> l.startsWith("\"EVALSHA")).toList();
        if (lines.isEmpty()) {
            throw new IllegalStateException("unexpected redis-benchmark output: " + out);
        }
        String[] cols = lines.get(lines.size() - 1).split("\",\"");
        return Double.parseDouble(cols[1].replace("\"", ""));
    }
}
