package dev.cachepipe.app.cli;

import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Where a progress bar goes when the output is not a terminal (a log, a pipe): one plain line per update, and the
 * finished bar once and nothing after it, although the library renders it again when the bar is closed (and its
 * thread may hand over a line rendered before the last step).
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
        if (finished) {
            // the bar's thread may hand over a line it rendered before the last step: a finished bar stays finished
            return;
        }
        finished = FULL.matcher(line).find();
        out.accept(line);
    }
}
