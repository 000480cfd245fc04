package dev.cachepipe.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU figures from Linux's {@code /proc}: a process's CPU time, and how busy the whole machine was. */
final class ProcStat {
    /** Clock ticks per second of {@code /proc} times ({@code USER_HZ}: 100 on Linux). */
    private static final double HZ = 100.0;

    private ProcStat() {}

    /** User + system CPU seconds of process {@code pid} so far (its exited threads included); -1 if unknown. */
    static double processCpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / HZ;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The pid of the process whose command line contains every one of {@code parts}, or -1. */
    static long pidOf(String... parts) {
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    boolean all = !cmd.isEmpty();
                    for (String part : parts) {
                        all &= cmd.contains(part);
                    }
                    if (all) {
                        return Long.parseLong(name);
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** {busy, total} CPU ticks of the whole machine so far (all cores); {0, 0} if unknown. */
    static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]); // idle + iowait
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }
}
