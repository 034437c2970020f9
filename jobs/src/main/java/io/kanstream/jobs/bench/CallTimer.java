package io.kanstream.jobs.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Times one workload: per-call wall latency, and wall and thread-CPU time over whole rounds. A
 * workload may be timed in several rounds, interleaved with others; the figures accumulate.
 *
 * <p>With PyTorch at one intra-op thread every op runs on the calling thread, so the thread's CPU
 * time is the work done; wall time above it is time spent waiting for a core that other processes
 * held. Both are reported.
 */
final class CallTimer {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final Path THREAD_STAT = Path.of("/proc/thread-self/stat");

    private final int samplesPerCall;
    private long[] latencies = new long[4096]; // ns per call
    private long calls;
    private long wallNanos;
    private long cpuNanos;
    private long minorFaults;

    CallTimer(int samplesPerCall) {
        this.samplesPerCall = samplesPerCall;
    }

    /** Calls the workload, with the call index, until {@code budgetNanos} of wall time passed. */
    void run(IntConsumer workload, long budgetNanos) {
        long faultsStart = minorFaults();
        long cpuStart = THREADS.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long deadline = start + budgetNanos;
        long now = start;
        do {
            long before = now;
            workload.accept((int) calls);
            now = System.nanoTime();
            record(now - before);
        } while (now < deadline);
        wallNanos += now - start;
        cpuNanos += THREADS.getCurrentThreadCpuTime() - cpuStart;
        minorFaults += minorFaults() - faultsStart;
    }

    /**
     * Minor page faults of the calling thread so far (field 10 of /proc/thread-self/stat), 0 where
     * that is not available. A native allocator that returns freed blocks to the OS makes every op
     * fault its output's pages in again; this shows it.
     */
    static long minorFaults() {
        try {
            String stat = Files.readString(THREAD_STAT);
            // the command name (field 2) may hold spaces; fields after it are plain numbers
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[7]); // field 10 overall: minflt
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Calls the workload, without recording, until {@code budgetNanos} of wall time passed. */
    static void warmUp(IntConsumer workload, long budgetNanos) {
        long deadline = System.nanoTime() + budgetNanos;
        int call = 0;
        do {
            workload.accept(call++);
        } while (System.nanoTime() < deadline);
    }

    private void record(long nanos) {
        if (calls == latencies.length) {
            latencies = Arrays.copyOf(latencies, latencies.length * 2);
        }
        latencies[(int) calls++] = nanos;
    }

    Timing timing() {
        if (calls == 0) {
            throw new IllegalStateException("no calls were timed");
        }
        long[] sorted = Arrays.copyOf(latencies, (int) calls);
        Arrays.sort(sorted);
        long samples = calls * samplesPerCall;
        return new Timing(
                calls,
                samples,
                samples / (wallNanos / 1e9),
                samples / (cpuNanos / 1e9),
                percentile(sorted, 0.50) / 1e6,
                percentile(sorted, 0.99) / 1e6,
                wallNanos / 1e9,
                cpuNanos / 1e9,
                (double) minorFaults / calls);
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(long[] sorted, double fraction) {
        int rank = (int) Math.ceil(fraction * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /**
     * What one workload achieved.
     *
     * @param calls timed calls
     * @param samples rows processed in them
     * @param samplesPerSecond samples per wall second
     * @param cpuSamplesPerSecond samples per second of this thread's CPU time
     * @param p50Ms median wall latency of one call, ms
     * @param p99Ms 99th-percentile wall latency of one call, ms
     * @param wallSeconds wall time timed
     * @param cpuSeconds thread CPU time in it
     * @param minorFaultsPerCall page faults of this thread per call
     */
    record Timing(
            long calls,
            long samples,
            double samplesPerSecond,
            double cpuSamplesPerSecond,
            double p50Ms,
            double p99Ms,
            double wallSeconds,
            double cpuSeconds,
            double minorFaultsPerCall) {

        /** Mean wall time of one call, µs. */
        double meanMicros() {
            return wallSeconds * 1e6 / calls;
        }
    }
}
