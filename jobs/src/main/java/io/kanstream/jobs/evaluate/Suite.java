package io.kanstream.jobs.evaluate;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs every stream with every seed, in one JVM, and collects the figures per seed. A stream's
 * seeds replay up to {@code jobs} at a time, each its own local Flink job; every replay is
 * deterministic on its own, so how many run at once changes the time and not a figure.
 */
final class Suite {
    private Suite() {}

    /** One seed's figures, and the wall time its replays took. */
    private record SeedRun(Map<String, Map<String, Double>> figures, double seconds) {}

    static SuiteResult run(
            List<SuiteStream> streams,
            List<Long> seeds,
            List<KanVariant> variants,
            int jobs,
            PrintStream log)
            throws Exception {
        long started = System.nanoTime();
        long cpuStarted = cpuNanos();
        List<SuiteResult.StreamResult> results = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(jobs);
        try {
            for (SuiteStream stream : streams) {
                results.add(run(stream, seeds, variants, pool, log));
            }
        } finally {
            pool.shutdownNow();
        }
        return new SuiteResult(
                List.copyOf(seeds), results, seconds(started), (cpuNanos() - cpuStarted) / 1e9);
    }

    private static SuiteResult.StreamResult run(
            SuiteStream stream,
            List<Long> seeds,
            List<KanVariant> variants,
            ExecutorService pool,
            PrintStream log)
            throws Exception {
        long streamStarted = System.nanoTime();
        long streamCpu = cpuNanos();
        List<Future<SeedRun>> runs = new ArrayList<>();
        for (long seed : seeds) {
            runs.add(
                    pool.submit(
                            () -> {
                                long seedStarted = System.nanoTime();
                                return new SeedRun(
                                        stream.run(seed, variants), seconds(seedStarted));
                            }));
        }
        Map<String, Map<String, List<Double>>> perSeed = new LinkedHashMap<>();
        for (int i = 0; i < seeds.size(); i++) {
            SeedRun run;
            try {
                run = runs.get(i).get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
            Map<String, Map<String, Double>> figures = run.figures();
            figures.forEach(
                    (model, values) ->
                            values.forEach(
                                    (figure, value) ->
                                            perSeed.computeIfAbsent(
                                                            model, m -> new LinkedHashMap<>())
                                                    .computeIfAbsent(figure, f -> new ArrayList<>())
                                                    .add(value)));
            String headline = stream.figures().get(0);
            log.printf(
                    Locale.ROOT,
                    "%s seed %d: %s kan %.4f (%.0f s)%n",
                    stream.name(),
                    seeds.get(i),
                    headline,
                    figures.get(variants.get(0).name()).get(headline),
                    run.seconds());
        }
        return new SuiteResult.StreamResult(
                stream, perSeed, seconds(streamStarted), (cpuNanos() - streamCpu) / 1e9);
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
