package dev.cachepipe.app.cli;

import dev.cachepipe.app.config.CachepipeConfig;
import dev.cachepipe.app.ops.HumanDurations;
import dev.cachepipe.app.runtime.Infrastructure;
import dev.cachepipe.app.runtime.Pipeline;
import dev.cachepipe.topology.EntityPolicy;
import dev.cachepipe.writer.CachePurge;
import dev.cachepipe.writer.WriterConfig;
import io.lettuce.core.RedisException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cachepipe purge <entityType> [--id-prefix P] [--dry-run]}: drops an entity type from Redis and every L1. */
@Command(
        name = "purge",
        mixinStandardHelpOptions = true,
        description = {
            "Drop every entry of an entity type (or the ids that start with a prefix) from Redis and from the L1 of every"
                    + " client: after a backfill that published no events, a producer bug, or a payload format change.",
            "It first waits until the pipeline has applied every event published before it (--wait), then scans Redis"
                    + " (SCAN MATCH, every master of a cluster) and turns each value into a fence at its own version, in"
                    + " one script per batch of keys, so readers miss and load, writes of that version or lower are"
                    + " refused, and newer events are applied as usual. Then it announces the purge on the invalidations topic: clients"
                    + " drop the entries from L1. Safe to run twice; --dry-run only counts.",
            "Exit code 0 when the purge completed, 1 otherwise."
        })
public final class PurgeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ENTITY_TYPE", description = "The entity type to purge (a configured one)")
    String entityType;

    @Option(
            names = {"-p", "--id-prefix"},
            paramLabel = "PREFIX",
            description = "Only ids that start with PREFIX (default: every id)")
    String idPrefix = "";

    @Option(names = "--dry-run", description = "Count what would be purged; change nothing")
    boolean dryRun;

    @Option(
            names = "--wait",
            paramLabel = "SECONDS",
            defaultValue = "60",
            description = "How long to wait for the pipeline to apply the events published before the purge; 0: do"
                    + " not wait, purge what Redis holds now (default: ${DEFAULT-VALUE})")
    long waitSeconds;

    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CachepipeConfig cfg = config.load();
        EntityPolicy policy = cfg.entities().get(entityType);
        if (policy == null) {
            throw new ParameterException(
                    spec.commandLine(),
                    "entity type '" + entityType + "' is not configured; configured: "
                            + String.join(", ", new TreeSet<>(cfg.entities().keySet())));
        }
        if (waitSeconds < 0) {
            throw new ParameterException(spec.commandLine(), "--wait must be 0 or more seconds, got " + waitSeconds);
        }
        Infrastructure infra = Infrastructure.external(cfg, "purge", true, true);
        WriterConfig writerConfig = Pipeline.writerConfig(cfg, infra.bootstrapServers());
        CachePurge.Request request = new CachePurge.Request(
                entityType,
                idPrefix,
                policy.tombstoneTtl(),
                dryRun,
                cfg.kafka().applicationId(),
                policy.topics(),
                Duration.ofSeconds(waitSeconds));
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String scope = entityType + (idPrefix.isEmpty() ? "" : " ids starting with '" + idPrefix + "'");
        out.println((dryRun ? "Counting (dry run) " : "Purging ") + scope + " in Redis " + infra.redisDescription()
                + " (key prefix '" + cfg.redis().keyPrefix() + "')"
                + (waitSeconds == 0 ? "" : ", once the pipeline has applied what was published before now"));
        out.flush();

        StopOnSignal stop =
                new StopOnSignal("cachepipe-purge-stop"); // Ctrl-C: stop between pages, announce what was fenced
        ProgressBar[] bar = {null};
        CachePurge.Result result = null;
        RuntimeException failure = null;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try {
            result = CachePurge.run(
                    writerConfig,
                    infra.redisTarget(),
                    request,
                    registry,
                    p -> {
                        if (bar[0] == null) {
                            bar[0] = ProgressBars.create(dryRun ? "purge (dry run)" : "purge", -1, " entries", err);
                        }
                        bar[0].stepTo(p.matched());
                        bar[0].setExtraMessage(
                                String.format(Locale.ROOT, " %s %,d", dryRun ? "to fence" : "fenced", p.fenced()));
                    },
                    stop);
        } catch (KafkaException | RedisException e) {
            failure = e;
        } finally {
            if (bar[0] != null) {
                bar[0].close();
            }
            registry.close();
            stop.close();
        }
        if (failure != null) {
            // the message says what was done and what to do (e.g. Redis purged but not announced: run it again)
            err.println("cachepipe: the purge of " + scope + " failed: " + failure.getMessage());
            err.flush();
            return 1;
        }
        CachePurge.Progress p = result.progress();
        if (result.outcome() == CachePurge.Outcome.PIPELINE_BEHIND) {
            err.println("cachepipe: nothing purged: " + result.detail() + " (--wait 0)");
            err.flush();
            return 1;
        }
        out.printf(
                Locale.ROOT,
                "%s %,d entries of %s in %s (%,.0f entries/s): %,d %s, %,d fences or tombstones"
                        + " already, %,d gone%s%n",
                result.outcome() == CachePurge.Outcome.CANCELLED ? "Stopped after" : "Examined",
                p.matched(),
                scope,
                HumanDurations.human(p.elapsed()),
                p.ratePerSecond(),
                p.fenced(),
                dryRun ? "would be fenced" : "fenced",
                p.unchanged(),
                p.gone(),
                result.announcedPartitions() == 0
                        ? ""
                        : "; announced to clients on " + result.announcedPartitions() + " partitions of "
                                + cfg.topics().invalidations());
        out.flush();
        return result.outcome() == CachePurge.Outcome.CANCELLED ? 1 : 0;
    }
}
