package dev.cachepipe.app;

import java.util.function.Consumer;

/**
 * Where a progress bar goes when the output is not a terminal (a log, a pipe): one plain line per update, and the
 * finished bar once, although the library renders it again when the bar is closed.
 */
final class PlainProgressLines implements Consumer<String> {
    private final Consumer<String> out;
    private boolean finished;

    PlainProgressLines(Consumer<String> out) {
        this.out = out;
    }

    @Override
    public void accept(String line) {
        boolean full = line.contains(" 100%");
        if (full && finished) {
            return;
        }
        finished = full;
        out.accept(line);
    }
}
