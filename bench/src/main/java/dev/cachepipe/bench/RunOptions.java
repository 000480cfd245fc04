package dev.cachepipe.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options of the `cachepipe run` process that the end-to-end benchmarks start, and its `kafka:` section. */
final class RunOptions {
    @Option(
            names = "--jvm-options",
            defaultValue = "-Xmx256m",
            paramLabel = "OPTIONS",
            description = "JVM options of the `cachepipe run` process, space-separated, e.g. \"-Xmx256m"
                    + " -XX:StartFlightRecording=filename=run.jfr\" (default: ${DEFAULT-VALUE}, what the launcher"
                    + " gives `run`)")
    String jvmOptions = "-Xmx256m";

    @Option(
            names = "--kafka-property",
            paramLabel = "KEY=VALUE",
            description = "A kafka.properties entry for `cachepipe run` (repeatable), e.g. producer.linger.ms=20")
    Map<String, String> kafkaProperties = new LinkedHashMap<>();

    List<String> jvmOptions() {
        return jvmOptions.isBlank() ? List.of() : List.of(jvmOptions.trim().split("\\s+"));
    }

    /** The {@code kafka:} line of the configuration, with the {@code --kafka-property} entries. */
    String kafkaYaml(String bootstrap, String applicationId, Path stateDir) {
        StringBuilder props = new StringBuilder();
        kafkaProperties.forEach(
                (k, v) -> props.append(", '").append(k).append("': '").append(v).append("'"));
        return "kafka: {bootstrapServers: '" + bootstrap + "', applicationId: " + applicationId + ", stateDir: '"
                + stateDir + "'" + (props.length() == 0 ? "" : ", properties: {" + props.substring(2) + "}") + "}\n";
    }
}
