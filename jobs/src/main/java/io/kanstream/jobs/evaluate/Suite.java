package io.kanstream.jobs.evaluate;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Runs every stream with every seed, in one JVM, and collects the figures per seed. */
final class Suite {
    private Suite() {}

    static SuiteResult run(
            List<SuiteStream> streams, List<Long> seeds, List<KanVariant> variants, PrintStream log)
            throws Exception {
        long started = System.nanoTime();
        long cpuStarted = cpuNanos();
        List<SuiteResult.StreamResult> results = new ArrayList<>();
        for (SuiteStream stream : streams) {
            long streamStarted = System.nanoTime();
            long streamCpu = cpuNanos();
            Map<String, Map<String, List<Double>>> perSeed = new LinkedHashMap<>();
            for (long seed : seeds) {
                long seedStarted = System.nanoTime();
                Map<String, Map<String, Double>> figures = stream.run(seed, variants);
                figures.forEach(
                        (model, values) ->
                                values.forEach(
                                        (figure, value) ->
                                                perSeed.computeIfAbsent(
                                                                model, m -> new LinkedHashMap<>())
                                                        .computeIfAbsent(
                                                                figure, f -> new ArrayList<>())
                                                        .add(value)));
                String headline = stream.figures().get(0);
                log.printf(
                        Locale.ROOT,
                        "%s seed %d: %s kan %.4f (%.0f s)%n",
                        stream.name(),
                        seed,
                        headline,
                        figures.get(variants.get(0).name()).get(headline),
                        seconds(seedStarted));
            }
            results.add(
                    new SuiteResult.StreamResult(
                            stream,
                            perSeed,
                            seconds(streamStarted),
                            (cpuNanos() - streamCpu) / 1e9));
        }
        return new SuiteResult(
                List.copyOf(seeds), results, seconds(started), (cpuNanos() - cpuStarted) / 1e9);
    }

    /** CPU time of this JVM, every thread (Flink's included). */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static double seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }
}
