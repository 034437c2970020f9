package io.kanstream.jobs.bench;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Which PyTorch ops a call executes, from PyTorch's own profiler (through DJL's JNI): the top-level
 * {@code aten::} ops per call — each one a crossing from Java into native code — and the time the
 * profiler saw inside them. The profiler slows every op down, so its times are for proportions
 * only; the op counts are exact.
 */
final class OpProfile {
    private OpProfile() {}

    /**
     * @param name PyTorch op, e.g. {@code aten::mul}
     * @param perCall times per call, as a top-level op
     * @param profiledMicrosPerCall µs inside it per call, as the (slowing) profiler saw it
     */
    record OpCount(String name, double perCall, double profiledMicrosPerCall) {}

    /**
     * @param opsPerCall top-level ops per call
     * @param backwardNodesPerCall of those, nodes run by autograd's engine ({@code autograd::})
     * @param profiledOpMicrosPerCall µs inside those ops per call, under the profiler
     * @param profiledWallMicrosPerCall wall µs per call under the profiler
     * @param ops per op name, most frequent first
     */
    record Result(
            double opsPerCall,
            double backwardNodesPerCall,
            double profiledOpMicrosPerCall,
            double profiledWallMicrosPerCall,
            List<OpCount> ops) {}

    static Result profile(IntConsumer workload, int calls) throws IOException {
        Path trace = Files.createTempFile("kanstream-bench-profile", ".json");
        try {
            JniUtils.startProfile(false, false, false);
            long start = System.nanoTime();
            try {
                for (int call = 0; call < calls; call++) {
                    workload.accept(call);
                }
            } finally {
                JniUtils.stopProfile(trace.toString());
            }
            double wallMicros = (System.nanoTime() - start) / 1e3 / calls;
            return summarize(new ObjectMapper().readTree(trace.toFile()), calls, wallMicros);
        } finally {
            Files.deleteIfExists(trace);
        }
    }

    /** Counts the top-level complete ("X") events of a Chrome trace, per thread. */
    static Result summarize(JsonNode events, int calls, double wallMicros) {
        record Event(String name, long thread, double start, double duration) {}
        List<Event> all = new ArrayList<>();
        for (JsonNode e : events) {
            if ("X".equals(e.path("ph").asText())) {
                all.add(
                        new Event(
                                e.path("name").asText(),
                                e.path("tid").asLong(),
                                e.path("ts").asDouble(),
                                e.path("dur").asDouble()));
            }
        }
        all.sort(
                Comparator.comparingLong(Event::thread)
                        .thenComparingDouble(Event::start)
                        .thenComparing(Comparator.comparingDouble(Event::duration).reversed()));
        Map<String, double[]> byName = new HashMap<>(); // name -> {count, µs}
        Map<Long, Double> openUntil = new HashMap<>();
        double total = 0;
        int count = 0;
        int backward = 0;
        for (Event e : all) {
            if (e.start() < openUntil.getOrDefault(e.thread(), Double.NEGATIVE_INFINITY)) {
                continue; // nested inside a top-level op
            }
            openUntil.put(e.thread(), e.start() + e.duration());
            double[] entry = byName.computeIfAbsent(e.name(), k -> new double[2]);
            entry[0]++;
            entry[1] += e.duration();
            total += e.duration();
            count++;
            if (e.name().startsWith("autograd::")) {
                backward++;
            }
        }
        List<OpCount> ops = new ArrayList<>();
        byName.forEach(
                (name, entry) -> ops.add(new OpCount(name, entry[0] / calls, entry[1] / calls)));
        ops.sort(
                Comparator.comparingDouble(OpCount::perCall)
                        .reversed()
                        .thenComparing(OpCount::name));
        return new Result(
                (double) count / calls,
                (double) backward / calls,
                total / calls,
                wallMicros,
                List.copyOf(ops));
    }
}
