package io.kanstream.jobs.bench;

import java.time.Duration;
import java.util.List;

/**
 * What a bench run measures and for how long. Quick and full runs measure the same things; only the
 * durations differ, so their figures are comparable (the full run's are steadier).
 *
 * @param mode {@code quick} or {@code full}, written into the report
 * @param shapes layer widths, input first, as issue 6 names them
 * @param batches rows per call
 * @param gridSize G of every layer
 * @param splineOrder k of every layer
 * @param warmup per workload, before anything is recorded
 * @param round per workload and round; the four workloads of a shape and batch take turns, so a
 *     burst of load from other processes hits the learner and its baseline alike
 * @param rounds rounds per shape and batch
 * @param profileCalls calls recorded by the PyTorch profiler per workload, 0 to skip profiling
 * @param peakTime how long the matMul peak is timed, per thread count
 * @param seed initialization and data seed
 */
public record BenchSettings(
        String mode,
        List<List<Integer>> shapes,
        List<Integer> batches,
        int gridSize,
        int splineOrder,
        Duration warmup,
        Duration round,
        int rounds,
        int profileCalls,
        Duration peakTime,
        long seed) {

    public BenchSettings {
        shapes = shapes.stream().map(List::copyOf).toList();
        batches = List.copyOf(batches);
        if (shapes.isEmpty() || batches.isEmpty()) {
            throw new IllegalArgumentException("a bench needs at least one shape and one batch");
        }
        for (int batch : batches) {
            if (batch < 1) {
                throw new IllegalArgumentException("every batch must be at least 1, got " + batch);
            }
        }
        if (rounds < 1 || round.isNegative() || round.isZero()) {
            throw new IllegalArgumentException(
                    "rounds must be at least 1 and a round longer than 0, got "
                            + rounds
                            + " of "
                            + round);
        }
        if (profileCalls < 0) {
            throw new IllegalArgumentException("profileCalls must be >= 0, got " + profileCalls);
        }
    }

    private static final List<List<Integer>> ISSUE_SHAPES =
            List.of(List.of(8, 16, 1), List.of(32, 64, 1));
    private static final List<Integer> ISSUE_BATCHES = List.of(1, 32, 256);

    /** About two minutes on two idle cores: the issue's shapes and batches, short rounds. */
    public static BenchSettings quick() {
        return new BenchSettings(
                "quick",
                ISSUE_SHAPES,
                ISSUE_BATCHES,
                5,
                3,
                Duration.ofMillis(600),
                Duration.ofMillis(500),
                4,
                20,
                Duration.ofMillis(1500),
                42);
    }

    /** About ten minutes: the same measurements with longer warm-up and more rounds. */
    public static BenchSettings full() {
        return new BenchSettings(
                "full",
                ISSUE_SHAPES,
                ISSUE_BATCHES,
                5,
                3,
                Duration.ofSeconds(2),
                Duration.ofSeconds(2),
                8,
                50,
                Duration.ofSeconds(4),
                42);
    }
}
