package dev.cachepipe.app.cli;

import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Where a progress bar goes when the output is not a terminal (a log, a pipe): one plain line per update, and the
 * finished bar once, although the library renders it again when the bar is closed.
 */
public final class PlainProgressLines implements Consumer<String> {
    /** The bar's own percentage: the task name, then 100% (an extra message may show percentages of its own). */
    private static final Pattern FULL = Pattern.compile("^\\S+\\s+100%");

    private final Consumer<String> out;
    private boolean finished;

    public PlainProgressLines(Consumer<String> out) {
        this.out = out;
    }

    @Override
    public synchronized void accept(String line) { // the bar renders from its own thread and on close
        boolean full = FULL.matcher(line).find();
        if (full && finished) {
            return;
        }
        finished = full;
        out.accept(line);
    }
}
