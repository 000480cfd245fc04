package dev.cachepipe.app;

import dev.cachepipe.app.config.CachepipeConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cachepipe run}: the topology and the cache writer in one process until SIGTERM. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Run the topology and the cache writer until stopped (SIGTERM or Ctrl-C stop it cleanly).")
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Option(
            names = {"-c", "--config"},
            paramLabel = "FILE",
            description = "YAML configuration (default: the bundled config/cachepipe.yaml)")
    Path config;

    @Override
    public Integer call() throws InterruptedException {
        CachepipeConfig cfg = config == null ? CachepipeConfig.defaults() : CachepipeConfig.load(config);
        CountDownLatch stopped = new CountDownLatch(1);
        MeterRegistry registry = Metrics.create();
        Infrastructure infra = Infrastructure.start(cfg);
        Pipeline pipeline;
        try {
            pipeline = Pipeline.start(cfg, infra, registry);
        } catch (RuntimeException e) {
            infra.close();
            throw e;
        }
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                pipeline.close();
                                infra.close();
                                registry.close();
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "cachepipe-shutdown"));
        log.info("Press Ctrl-C (or send SIGTERM) to stop");
        stopped.await();
        return 0;
    }
}
