package dev.cachepipe.app.cli;

import dev.cachepipe.app.config.CachepipeConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option that run and the tools share, and how it is read. */
final class ConfigOption {
    @Option(
            names = {"-c", "--config"},
            paramLabel = "FILE",
            description = "YAML configuration (default: the bundled config/cachepipe.yaml)")
    Path file;

    /** The configuration in {@code --config}, or the bundled one; validated. */
    CachepipeConfig load() {
        return file == null ? CachepipeConfig.defaults() : CachepipeConfig.load(file);
    }
}
