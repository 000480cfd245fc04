package dev.cachepipe.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cachepipe.app.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Acceptance 1: {@code cachepipe demo} needs no setup and ends with 0 inconsistent entities. */
class DemoCommandIT {
    @Test
    void shouldEndWithZeroInconsistentEntitiesWhenRunWithTheBundledConfiguration() {
        String out = runDemo();
        assertThat(out).contains("decoded      single-object");
    }

    /**
     * Acceptance 3 of issue 12: the generator writes the Confluent wire format, its schema registered in the demo's
     * in-process stub of the Schema Registry REST API, and the pipeline reads it through that registry.
     */
    @Test
    void shouldEndWithZeroInconsistentEntitiesWhenEventsAreInTheConfluentWireFormat() {
        String out = runDemo("--format", "confluent");
        assertThat(out).contains("Events in the Confluent wire format");
        Matcher decoded = Pattern.compile("decoded      confluent ([\\d,]+) \\(schema id 1\\)")
                .matcher(out);
        assertThat(decoded.find()).as(out).isTrue();
        assertThat(out).doesNotContain("decoded      single-object").doesNotContain("unknown-schema");
    }

    /** Runs the demo (6 s at 400 events/s, 60 entities per type) and checks that it ends consistent; its output. */
    private static String runDemo(String... extra) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        System.setOut(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
        try {
            List<String> args = new ArrayList<>(List.of(
                    "demo",
                    "--duration",
                    "6s",
                    "--rate",
                    "400",
                    "--entities",
                    "60",
                    "--seed",
                    "7",
                    "--catch-up-timeout",
                    "180s"));
            args.addAll(List.of(extra));
            code = Main.execute(args.toArray(String[]::new));
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);

        assertThat(code).as(out).isZero();
        Matcher m = Pattern.compile("consistent (\\d+)/(\\d+) \\((\\d+) expired by TTL\\), 0 inconsistent")
                .matcher(out);
        assertThat(m.find()).as(out).isTrue();
        assertThat(m.group(1)).isEqualTo(m.group(2));
        assertThat(Integer.parseInt(m.group(2))).isBetween(250, 300); // 5 entity types x 60 entities
        assertThat(out).contains("dead letters").contains("applied");
        return out;
    }

    /** Writes to both streams: the demo's output stays visible in the test log. */
    private static final class Tee extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        Tee(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            a.flush();
            b.flush();
        }
    }
}
