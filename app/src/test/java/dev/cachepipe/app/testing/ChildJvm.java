package dev.cachepipe.app.testing;

import dev.cachepipe.app.Main;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The {@code cachepipe} CLI in a child JVM with the test class path, its output going to a log under target/tmp/. */
public final class ChildJvm {
    private ChildJvm() {}

    /** {@code java [jvmOptions] dev.cachepipe.app.Main args...}, stdout and stderr to {@link #log(String) log(name)}. */
    public static Process start(String name, List<String> jvmOptions, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx384m");
        command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(args);
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log(name).toFile())
                .start();
    }

    /** Where the child named {@code name} writes: target/tmp/NAME.log. */
    public static Path log(String name) {
        return Path.of(System.getProperty("java.io.tmpdir"), name + ".log");
    }

    /** SIGTERM (the run command's shutdown hook closes the pipeline), then SIGKILL after 30 s. */
    public static void stop(Process p) throws InterruptedException {
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
