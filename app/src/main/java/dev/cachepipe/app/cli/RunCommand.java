package dev.cachepipe.app.cli;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.ops.JmxConnector;
import dev.cachepipe.app.ops.Metrics;
import dev.cachepipe.app.ops.OperatorEndpoints;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code cachepipe run}: the topology and the cache writer in one process until SIGTERM. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Run the topology and the cache writer until stopped (SIGTERM or Ctrl-C stop it cleanly).",
            "Metrics are MBeans in the JMX domain 'cachepipe' (see the README); --jmx-port opens them to JConsole,"
                    + " VisualVM and 'cachepipe stats', --http-port serves /health and /metrics."
        })
public final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    ConfigOption config;

    @Mixin
    OperatorEndpoints endpoints;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        endpoints.validate(spec.commandLine());
        CachepipeConfig cfg = config.load();
        CountDownLatch stopped = new CountDownLatch(1);
        JmxConnector jmx = endpoints.openJmx();
        Metrics metrics = Metrics.start(endpoints.wantsPrometheus());
        Infrastructure infra;
        Pipeline pipeline;
        OperatorEndpoints.Opened opened;
        try {
            infra = Infrastructure.start(cfg);
            try {
                pipeline = Pipeline.start(cfg, infra, metrics.registry());
            } catch (RuntimeException e) {
                infra.close();
                throw e;
            }
            try {
                opened = endpoints.open(pipeline, metrics, jmx);
            } catch (RuntimeException e) {
                pipeline.close();
                infra.close();
                throw e;
            }
        } catch (RuntimeException e) {
            metrics.close();
            if (jmx != null) {
                jmx.close();
            }
            throw e;
        }
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                opened.close();
                                pipeline.close();
                                infra.close();
                                metrics.close();
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "cachepipe-shutdown"));
        if (cfg.kafka().embedded() || cfg.redis().embedded()) {
            log.info(
                    "Tools against this process: KAFKA_BOOTSTRAP_SERVERS={} REDIS_URI={} cachepipe inspect|rebuild|publish"
                            + " ...",
                    infra.bootstrapServers(),
                    infra.redisDescription());
        }
        log.info("Press Ctrl-C (or send SIGTERM) to stop");
        // Stop on a signal, or exit non-zero when the pipeline died by itself, so an orchestrator restarts it.
        // (on a thread of its own: System.exit waits for the shutdown hook, which waits for the pipeline's threads)
        pipeline.failure()
                .thenAcceptAsync(
                        reason -> {
                            log.error("cachepipe failed: {}; exiting", reason);
                            System.exit(1);
                        },
                        task -> new Thread(task, "cachepipe-exit").start());
        stopped.await();
        return 0;
    }
}
