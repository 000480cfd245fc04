package dev.cachepipe.bench;

import dev.cachepipe.embedded.EmbeddedKafka;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * An embedded KRaft broker in a process of its own, so that a benchmark can attribute CPU to the pipeline alone: prints
 * {@code bootstrap=<host:port>} once it serves, and stops when its standard input closes (the parent exited or
 * closed it).
 *
 * <pre>java -cp cachepipe-bench.jar dev.cachepipe.bench.BrokerMain DATA_DIR</pre>
 */
public final class BrokerMain {
    private BrokerMain() {}

    /** A broker started in a process of its own; {@link #close()} stops it. */
    record Broker(ChildJvm jvm, String bootstrap) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            jvm.closeInputAndStop(30);
        }
    }

    /** Starts a broker process with its data under {@code work/kafka} and its output in {@code work/broker.log}. */
    static Broker startIn(Path work) throws IOException, InterruptedException {
        ChildJvm jvm = ChildJvm.start(
                List.of("-Xmx512m"),
                BrokerMain.class.getName(),
                List.of(work.resolve("kafka").toString()),
                work.resolve("broker.log"));
        try {
            String line = jvm.awaitLine(l -> l.startsWith("bootstrap="), 120);
            return new Broker(jvm, line.substring("bootstrap=".length()));
        } catch (IOException | InterruptedException | RuntimeException e) {
            jvm.closeInputAndStop(30);
            throw e;
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: BrokerMain DATA_DIR");
            System.exit(2);
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start(Path.of(args[0]))) {
            System.out.println("bootstrap=" + kafka.bootstrapServers());
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the parent closes our standard input
            }
        }
        System.exit(0);
    }
}
