package dev.cachepipe.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.junit.jupiter.api.Test;

class PlainProgressLinesTest {
    @Test
    void shouldPrintTheFinishedBarOnceWhenTheOutputIsNotATerminal() {
        List<String> lines = new ArrayList<>();
        try (ProgressBar bar = new ProgressBarBuilder()
                .setTaskName("rebuild")
                .setInitialMax(10)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(60_000)
                .setConsumer(new DelegatingProgressBarConsumer(new PlainProgressLines(lines::add), 120))
                .build()) {
            bar.stepTo(10);
            bar.refresh();
        }

        assertThat(lines).filteredOn(l -> l.contains(" 100%")).hasSize(1);
        assertThat(lines.get(lines.size() - 1)).startsWith("rebuild 100%");
    }

    @Test
    void shouldKeepLinesWhoseExtraMessageShowsAHundredPercent() {
        List<String> lines = new ArrayList<>();
        PlainProgressLines plain = new PlainProgressLines(lines::add);

        plain.accept("events  40% [====      ] 400/1000 hit L1 100% L2 100%");
        plain.accept("events  50% [=====     ] 500/1000 hit L1 100% L2 100%");
        plain.accept("events 100% [==========] 1000/1000 hit L1 100% L2 100%");
        plain.accept("events 100% [==========] 1000/1000 hit L1 100% L2 100%");

        assertThat(lines).hasSize(3);
    }

    @Test
    void shouldDropALineRenderedBeforeTheLastStepThatArrivesAfterTheFinishedBar() {
        List<String> lines = new ArrayList<>();
        PlainProgressLines plain = new PlainProgressLines(lines::add);

        plain.accept("rebuild 100% [==========] 10/10");
        plain.accept("rebuild   0% [          ] 0/10"); // the bar's thread, rendered before stepTo(10)
        plain.accept("rebuild 100% [==========] 10/10"); // close()

        assertThat(lines).containsExactly("rebuild 100% [==========] 10/10");
    }
}
