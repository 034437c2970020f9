package io.kanstream.jobs.evaluate;

import java.util.List;
import java.util.Map;

/**
 * What the suite measured.
 *
 * @param seeds the seeds, in run order
 * @param streams per stream, in table order
 * @param seconds wall time of the whole suite
 * @param cpuSeconds CPU time of this JVM meanwhile, all threads: what the suite costs when the
 *     machine is shared and the wall time is not its own
 */
record SuiteResult(
        List<Long> seeds, List<StreamResult> streams, double seconds, double cpuSeconds) {

    /**
     * @param perSeed figure values by model, then figure, one per seed in {@link #seeds} order
     * @param seconds wall time of this stream, every seed and model
     * @param cpuSeconds CPU time of this JVM meanwhile
     */
    record StreamResult(
            SuiteStream stream,
            Map<String, Map<String, List<Double>>> perSeed,
            double seconds,
            double cpuSeconds) {

        Spread spread(String model, String figure) {
            return Spread.of(perSeed.get(model).get(figure));
        }
    }
}
