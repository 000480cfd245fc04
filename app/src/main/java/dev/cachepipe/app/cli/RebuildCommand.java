package dev.cachepipe.app.cli;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.ops.HumanDurations;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.writer.CacheRebuild;
import dev.cachepipe.writer.WriterConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cachepipe rebuild [--entity T]}: replays the mutations topic into Redis. */
@Command(
        name = "rebuild",
        mixinStandardHelpOptions = true,
        description = {
            "Replay the compacted mutations topic into Redis, from its beginning to its end when the rebuild starts.",
            "Safe while the pipeline runs: every write is version-gated, so Redis never goes back. A full rebuild"
                    + " writes the marker <keyPrefix>:@cachepipe when done; --entity rebuilds one entity type and leaves"
                    + " the marker alone. The writers do this by themselves when Redis loses its data; this command is"
                    + " for doing it by hand.",
            "Exit code 0 when the rebuild completed, 1 otherwise."
        })
public final class RebuildCommand implements Callable<Integer> {
    @Option(
            names = {"-e", "--entity"},
            paramLabel = "TYPE",
            description = "Only this entity type (default: all)")
    String entityType;

    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CachepipeConfig cfg = config.load();
        if (entityType != null && !cfg.entities().containsKey(entityType)) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(),
                    "--entity '" + entityType + "' is not configured; configured: "
                            + String.join(", ", new TreeSet<>(cfg.entities().keySet())));
        }
        Infrastructure infra = Infrastructure.external(cfg, "rebuild", true, true);
        WriterConfig writerConfig = Pipeline.writerConfig(cfg, infra.bootstrapServers());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("Rebuilding Redis " + infra.redisDescription() + " (key prefix '"
                + cfg.redis().keyPrefix() + "')"
                + (entityType == null ? "" : ", entity type " + entityType + " only") + ", from "
                + cfg.topics().mutations() + " at " + infra.bootstrapServers());
        out.flush();

        StopOnSignal stop =
                new StopOnSignal("cachepipe-rebuild-stop"); // Ctrl-C: stop between batches and give the lease up
        ProgressBar[] bar = {null};
        CacheRebuild.Result result;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try {
            result = CacheRebuild.run(
                    writerConfig,
                    infra.redisTarget(),
                    entityType,
                    registry,
                    p -> {
                        if (bar[0] == null) {
                            bar[0] = ProgressBars.create("rebuild", p.total(), " records", err);
                        }
                        bar[0].stepTo(p.read());
                        bar[0].setExtraMessage(String.format(Locale.ROOT, " applied %,d", p.applied()));
                    },
                    stop);
        } finally {
            if (bar[0] != null) {
                bar[0].close();
            }
            registry.close();
            stop.close();
        }
        CacheRebuild.Progress p = result.progress();
        switch (result.outcome()) {
            case COMPLETED -> {
                out.printf(
                        Locale.ROOT,
                        "Rebuilt %,d records in %s (%,.0f records/s): %,d applied (%,d expired already: written with a 1"
                                + " ms TTL), %,d already current%s, %,d invalidations published%s%n",
                        p.read(),
                        HumanDurations.human(p.elapsed()),
                        p.ratePerSecond(),
                        p.applied(),
                        p.expired(),
                        p.stale() + p.duplicate(),
                        p.filtered() == 0
                                ? ""
                                : String.format(
                                        Locale.ROOT,
                                        ", %,d %s",
                                        p.filtered(),
                                        entityType == null ? "undecodable" : "of other entity types"),
                        p.invalidations(),
                        entityType == null
                                ? "; marker "
                                        + CacheRebuild.markerKey(cfg.redis().keyPrefix()) + " written"
                                : "");
                out.flush();
                return 0;
            }
            case BUSY ->
                err.println("cachepipe: another rebuild is running (it holds the lease in "
                        + CacheRebuild.markerKey(cfg.redis().keyPrefix()) + "); nothing done");
            case LEASE_LOST ->
                err.println("cachepipe: the rebuild lost its lease (Redis lost its data again, or"
                        + " another rebuild took over); run it again");
            case CANCELLED ->
                err.printf(Locale.ROOT, "cachepipe: rebuild stopped after %,d of %,d records%n", p.read(), p.total());
        }
        err.flush();
        return 1;
    }
}
