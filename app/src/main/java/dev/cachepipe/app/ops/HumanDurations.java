package dev.cachepipe.app.ops;

import java.time.Duration;
import java.util.Locale;

/** Durations for people: {@code 850 ms}, {@code 4.2 s}, {@code 4m 55s}, {@code 2h 05m}, {@code 3d 04h}. */
public final class HumanDurations {
    private HumanDurations() {}

    public static String human(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms < 60_000) {
            return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
        }
        if (s < 86_400) {
            return String.format(Locale.ROOT, "%dh %02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dd %02dh", s / 86_400, (s % 86_400) / 3600);
    }
}
