package dev.cachepipe.app;

import dev.cachepipe.app.cli.InspectCommand;
import dev.cachepipe.app.cli.PublishCommand;
import dev.cachepipe.app.cli.PurgeCommand;
import dev.cachepipe.app.cli.RebuildCommand;
import dev.cachepipe.app.cli.RunCommand;
import dev.cachepipe.app.cli.StatsCommand;
import dev.cachepipe.app.config.ConfigException;
import dev.cachepipe.app.demo.DemoCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cachepipe} command line. */
@Command(
        name = "cachepipe",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Keeps Redis caches and in-process caches in step with domain events on Kafka.",
        subcommands = {
            RunCommand.class,
            DemoCommand.class,
            InspectCommand.class,
            RebuildCommand.class,
            PurgeCommand.class,
            PublishCommand.class,
            StatsCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code (2 for usage and configuration errors). */
    public static int execute(String... args) {
        return execute(null, null, args);
    }

    /**
     * Runs the CLI with its output going to {@code out} and {@code err} (null: standard output and error), and returns
     * its exit code (2 for usage and configuration errors).
     */
    public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        if (out != null) {
            cli.setOut(out);
        }
        if (err != null) {
            cli.setErr(err);
        }
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ConfigException) {
                cmd.getErr().println("cachepipe: invalid configuration: " + e.getMessage());
                return 2;
            }
            if (e instanceof IllegalStateException) {
                cmd.getErr().println("cachepipe: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: try 'cachepipe demo'");
    }

    /** Reads the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"cachepipe " + (v == null ? "development build" : v)};
        }
    }
}
