package io.kanstream.jobs.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The process's memory as Linux and the JVM see it: resident set now and at its peak ({@code VmRSS}
 * and {@code VmHWM} of /proc/self/status, which include PyTorch's native allocations that the GC
 * does not see) and the Java heap.
 */
final class MemoryProbe {
    private static final Path STATUS = Path.of("/proc/self/status");

    private MemoryProbe() {}

    /**
     * One reading, in MiB.
     *
     * @param phase what had run when it was taken
     * @param vmRssMb resident set now; NaN where /proc is not available
     * @param vmHwmMb peak resident set since the process started
     * @param heapUsedMb Java heap in use (live and not yet collected)
     * @param heapCommittedMb Java heap reserved from the OS, part of the resident set
     * @param heapPeakMb sum of the heap pools' peak usage since the start
     */
    record Reading(
            String phase,
            double vmRssMb,
            double vmHwmMb,
            double heapUsedMb,
            double heapCommittedMb,
            double heapPeakMb) {}

    static Reading read(String phase) {
        double rss = Double.NaN;
        double hwm = Double.NaN;
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    rss = kilobytes(line) / 1024.0;
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kilobytes(line) / 1024.0;
                }
            }
        } catch (IOException e) {
            // not Linux: the native figures stay NaN, the heap figures still mean something
        }
        var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        double peak = 0;
        List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans();
        for (MemoryPoolMXBean pool : pools) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return new Reading(
                phase,
                rss,
                hwm,
                heap.getUsed() / 1048576.0,
                heap.getCommitted() / 1048576.0,
                peak / 1048576.0);
    }

    private static long kilobytes(String line) {
        // "VmRSS:	  123456 kB"
        String[] fields = line.trim().split("\\s+");
        return Long.parseLong(fields[1]);
    }
}
