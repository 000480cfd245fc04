package dev.cachepipe.app.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** The progress bars of long commands: drawn on a terminal, plain lines once a second otherwise. */
final class ProgressBars {
    private ProgressBars() {}

    /** A bar named {@code task} up to {@code total} ({@code -1}: unknown, counts and rate only). */
    static ProgressBar create(String task, long total, String unit, PrintWriter err) {
        ProgressBarBuilder b = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setUnit(unit, 1)
                .showSpeed()
                .setUpdateIntervalMillis(250);
        if (System.console() != null) {
            b.setConsumer(new ConsoleProgressBarConsumer(System.err)).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK);
        } else {
            // not a terminal (a log, a pipe): plain lines
            b.setConsumer(new DelegatingProgressBarConsumer(
                            new PlainProgressLines(line -> {
                                err.println(line);
                                err.flush();
                            }),
                            120))
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(1000);
        }
        return b.build();
    }
}
