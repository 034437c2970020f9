package io.kanstream.jobs.bench;

import io.kanstream.jobs.bench.BenchReport.Check;
import io.kanstream.jobs.bench.BenchReport.FlopRow;
import io.kanstream.jobs.bench.BenchReport.ModelRow;
import io.kanstream.jobs.bench.BenchReport.OpsRow;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** The report as a person reads it: the tables a bench run prints on stdout. */
public final class BenchTable {
    private BenchTable() {}

    public static String render(BenchReport report) {
        StringBuilder out = new StringBuilder();
        BenchReport.Machine m = report.machine();
        line(
                out,
                "kanstream bench (%s), %s, %.0f s: %s, %d cores, %s, %d intra-op thread(s)",
                report.mode(),
                report.date(),
                report.durationS(),
                m.cpu(),
                m.availableProcessors(),
                m.djl(),
                m.torchThreads());
        line(out, "command: %s", report.command());
        line(
                out,
                "load average at start: %s; at end: %s",
                m.loadAverageStart(),
                m.loadAverageEnd());
        line(out, "KAN code: %s, commit %s", m.kanOperators(), m.gitCommit());
        line(out, "native allocator: %s", m.allocatorSettings());
        out.append('\n');
        if (report.model().isEmpty()) {
            line(out, "MODEL     not measured in this run: \"model\": [] in the JSON");
            out.append('\n');
        } else {
            model(out, report);
        }
        pipelineTable(out, report);
        out.append('\n');
        stateTable(out, report);
        out.append('\n');
        steadyTable(out, report);
        out.append('\n');
        line(
                out,
                "CHECKS (issue 6, must show: efficient-kan = reference figures; issue 12: the"
                        + " efficient-kan peer of this run)");
        for (Check check : report.checks()) {
            line(
                    out,
                    "  [%s] %s: %s vs %s %s%s",
                    check.pass() ? "pass" : "FAIL",
                    check.check(),
                    number(check.measured()),
                    number(check.target()),
                    check.unit(),
                    check.cpuFraction() != null && check.cpuFraction() < 0.9
                            ? String.format(
                                    Locale.ROOT,
                                    " (cpu %.2f: measured on contended cores, re-run)",
                                    check.cpuFraction())
                            : "");
        }
        return out.toString();
    }

    private static void model(StringBuilder out, BenchReport report) {
        modelTable(out, report, true);
        out.append('\n');
        modelTable(out, report, false);
        line(
                out,
                "  autograd = straightforward DJL GradientCollector KAN (efficient-kan math, DJL"
                        + " Adam), same run, same rounds");
        if (report.model().stream().anyMatch(r -> r.trainRatioVsPeer() != null)) {
            line(
                    out,
                    "  peer = %s; rounds interleaved with the learner's; vs peer = learner ÷ peer,"
                            + " wall rates; (cpu) = the same per thread-CPU second",
                    report.machine().peer());
        } else {
            line(out, "  peer: %s", report.machine().peer());
        }
        line(out, "  %s: in the JSON only (efficient_kan_*)", EfficientKanReference.SOURCE);
        line(
                out,
                "  cpu-rate = samples per CPU-second; faults = page faults per call (allocator"
                        + " churn); cpu = thread CPU time / wall time while timed: below ~0.9"
                        + " other processes held the cores and the row is not trustworthy");
        double worstDiff =
                report.model().stream().mapToDouble(ModelRow::baselineMaxAbsDiff).max().orElse(0);
        line(
                out,
                "  learner vs baseline, max |output difference| before training: %.2g",
                worstDiff);
        out.append('\n');
        flopTable(out, report.flops());
        out.append('\n');
        opsTable(out, report);
        out.append('\n');
        BenchReport.Memory memory = report.memory();
        line(
                out,
                "MEMORY  peak RSS (VmHWM) after the model rows %.0f MiB; RSS at the end %.0f MiB;"
                        + " heap used %.0f MiB (peak %.0f, committed %.0f)",
                memory.peakVmHwmMb(),
                memory.vmRssMb(),
                memory.heapUsedMb(),
                memory.heapPeakMb(),
                memory.heapCommittedMb());
        String rss =
                report.model().stream()
                        .map(
                                r ->
                                        String.format(
                                                Locale.ROOT,
                                                "%.0f/%.0f/%.0f",
                                                r.rssStartMb(),
                                                r.rssWarmMb(),
                                                r.rssMb()))
                        .collect(Collectors.joining(" "));
        line(out, "        RSS per model row, built/warm/timed (MiB): %s", rss);
        line(
                out,
                "        RSS includes heap pages as the heap grows; for native alone run with"
                        + " KANSTREAM_JAVA_OPTS='-Xms768m -Xmx768m -XX:+AlwaysPreTouch'");
        out.append('\n');
    }

    private static void pipelineTable(StringBuilder out, BenchReport report) {
        if (report.pipeline().isEmpty()) {
            line(out, "PIPELINE  not measured in this run: \"pipeline\": [] in the JSON");
            return;
        }
        line(
                out,
                "PIPELINE  broker → job → broker, parallelism %d: the learning job (scores and"
                        + " learns from every event) beside a pass-through job (same sources,"
                        + " keying, sinks, JSON; no model), same run",
                report.pipeline().get(0).parallelism());
        line(
                out,
                "  %7s %9s %12s %12s %7s %9s   %9s %8s %8s %8s %10s",
                "keys",
                "events",
                "events/s",
                "pass/s",
                "ratio",
                "cpu ratio",
                "at rate/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "pass p99");
        for (PipelineBench.Row r : report.pipeline()) {
            line(
                    out,
                    "  %7d %9d %12s %12s %6.2f× %8.2f×   %9.0f %8.1f %8.1f %8.1f %10.1f",
                    r.keys(),
                    r.events(),
                    number(r.eventsPerS()),
                    number(r.passthroughEventsPerS()),
                    r.ratioVsPassthrough(),
                    r.cpuRatioVsPassthrough(),
                    r.latencyRatePerS(),
                    r.p50Ms(),
                    r.p99Ms(),
                    r.maxMs(),
                    r.passthroughP99Ms());
        }
        line(
                out,
                "  events/s: sustained from a backlog, scores' broker append times, first tenth"
                        + " left out; cpu ratio: the same per second of this process's CPU time"
                        + " (robust to other load; the broker's CPU is not in it); latency: event"
                        + " timestamp → score appended (read uncommitted) at a steady rate, the"
                        + " same for both jobs");
    }

    private static void steadyTable(StringBuilder out, BenchReport report) {
        if (report.steady().isEmpty()) {
            line(out, "STEADY    not measured in this run: \"steady\": [] in the JSON");
            return;
        }
        line(
                out,
                "STEADY    many keys, each with its model: broker → job → broker, parallelism %d,"
                        + " checkpoints every %s, beside the pass-through job over as many events"
                        + " and keys, same run",
                report.steady().get(0).parallelism(),
                report.steady().get(0).checkpointInterval());
        line(
                out,
                "  %8s %-8s %6s %-9s %10s %12s %12s %7s %9s",
                "keys",
                "backend",
                "bundle",
                "phase",
                "events",
                "events/s",
                "pass/s",
                "ratio",
                "cpu ratio");
        for (PipelineBench.SteadyRow r : report.steady()) {
            line(
                    out,
                    "  %8d %-8s %6d %-9s %10d %12s %12s %6.2f× %8.2f×",
                    r.keys(),
                    backendOf(r),
                    r.bundleSize(),
                    "steady",
                    r.events() - r.keys(),
                    number(r.eventsPerS()),
                    number(r.passthroughEventsPerS()),
                    r.ratioVsPassthrough(),
                    r.cpuRatioVsPassthrough());
            line(
                    out,
                    "  %8d %-8s %6d %-9s %10d %12s %12s %6.2f× %9s",
                    r.keys(),
                    backendOf(r),
                    r.bundleSize(),
                    "new keys",
                    r.keys(),
                    number(r.newKeyEventsPerS()),
                    number(r.passthroughEventsPerS()),
                    r.newKeyRatioVsPassthrough(),
                    "");
        }
        line(
                out,
                "  steady: every key has its model (each key's first event before it, the first"
                        + " tenth of the rest left out); new keys: each key's first event, which"
                        + " builds its model; broker append times; ratios over the pass-through"
                        + " job's rate over as many events and keys");
    }

    private static void stateTable(StringBuilder out, BenchReport report) {
        if (report.state().isEmpty()) {
            line(out, "STATE     not measured in this run: \"state\": [] in the JSON");
            return;
        }
        line(out, "STATE     one labeled event per key, then Flink's next checkpoint");
        line(
                out,
                "  %8s %14s %10s %12s %14s %10s %10s %s",
                "keys",
                "checkpoint B",
                "B/key",
                "learner B",
                "checkpoint ms",
                "async ms",
                "sync ms",
                "backend");
        for (PipelineBench.StateRow r : report.state()) {
            line(
                    out,
                    "  %8d %14d %10.0f %12d %14.0f %10.0f %10.0f %s",
                    r.keys(),
                    r.checkpointBytes(),
                    r.bytesPerKey(),
                    r.learnerBytes(),
                    r.checkpointMs(),
                    r.checkpointAsyncMs(),
                    r.checkpointSyncMs(),
                    r.stateBackend());
        }
    }

    private static void modelTable(StringBuilder out, BenchReport report, boolean training) {
        line(
                out,
                training
                        ? "MODEL, training step (KanLearner.learn: regression, random data),"
                                + " samples/s and ms per call"
                        : "MODEL, scoring (KanLearner.outputs), samples/s and ms per call");
        line(
                out,
                "  %-8s %5s | %10s %8s %8s %10s %6s | %10s %8s %8s | %8s | %10s %8s %8s %7s | %4s",
                "layers",
                "batch",
                "samples/s",
                "p50",
                "p99",
                "cpu-rate",
                "faults",
                "autograd/s",
                "p50",
                "p99",
                "vs autog",
                "peer/s",
                "p50",
                "vs peer",
                "(cpu)",
                "cpu");
        for (ModelRow r : report.model()) {
            Double peer = training ? r.peerTrainSamplesPerS() : r.peerScoreSamplesPerS();
            Double peerP50 = training ? r.peerTrainP50Ms() : r.peerScoreP50Ms();
            Double ratio = training ? r.trainRatioVsPeer() : r.scoreRatioVsPeer();
            Double cpuRatio = training ? r.trainCpuRatioVsPeer() : r.scoreCpuRatioVsPeer();
            line(
                    out,
                    "  %-8s %5d | %10s %8.3f %8.3f %10s %6.0f | %10s %8.3f %8.3f | %7.2fx | %10s %8s"
                            + " %8s %7s | %4.2f",
                    r.layers(),
                    r.batch(),
                    number(training ? r.trainSamplesPerS() : r.scoreSamplesPerS()),
                    training ? r.trainP50Ms() : r.scoreP50Ms(),
                    training ? r.trainP99Ms() : r.scoreP99Ms(),
                    number(training ? r.trainCpuSamplesPerS() : r.scoreCpuSamplesPerS()),
                    training ? r.trainMinorFaultsPerCall() : r.scoreMinorFaultsPerCall(),
                    number(training ? r.autogradTrainSamplesPerS() : r.autogradScoreSamplesPerS()),
                    training ? r.autogradTrainP50Ms() : r.autogradScoreP50Ms(),
                    training ? r.autogradTrainP99Ms() : r.autogradScoreP99Ms(),
                    training ? r.trainRatioVsAutograd() : r.scoreRatioVsAutograd(),
                    peer == null ? "-" : number(peer),
                    peerP50 == null ? "-" : String.format(Locale.ROOT, "%.3f", peerP50),
                    ratio == null ? "-" : String.format(Locale.ROOT, "%.2fx", ratio),
                    cpuRatio == null ? "-" : String.format(Locale.ROOT, "%.2fx", cpuRatio),
                    r.cpuFraction());
        }
    }

    private static void flopTable(StringBuilder out, BenchReport.Flops flops) {
        line(
                out,
                "FLOP LIMIT  %d^3 matMul in this run: %.1f GFLOP/s at 1 thread (%.1f per"
                        + " CPU-second = one core's peak), %.1f at 2 threads; two cores' capacity"
                        + " %.1f",
                flops.peakMatmulSize(),
                flops.peakGflopsOneThread(),
                flops.peakCpuGflopsOneThread(),
                flops.peakGflopsTwoThreads(),
                flops.twoCoreCapacityGflops());
        line(
                out,
                "  %-8s %5s | %9s %9s | %10s %8s %8s | %10s %8s %8s | %9s %9s",
                "layers",
                "batch",
                "fwd FLOP",
                "train FL",
                "score GF/s",
                "of core",
                "of 2",
                "train GF/s",
                "of core",
                "of 2",
                "autog sc",
                "autog tr");
        for (FlopRow r : flops.rows()) {
            line(
                    out,
                    "  %-8s %5d | %9s %9s | %10.4f %7.3f%% %7.3f%% | %10.4f %7.3f%% %7.3f%% |"
                            + " %9.4f %9.4f",
                    r.layers(),
                    r.batch(),
                    number(r.forwardFlopsPerSample()),
                    number(r.trainFlopsPerSample()),
                    r.scoreCpuGflops(),
                    100 * r.scoreFractionOfCorePeak(),
                    100 * r.scoreFractionOfTwoCores(),
                    r.trainCpuGflops(),
                    100 * r.trainFractionOfCorePeak(),
                    100 * r.trainFractionOfTwoCores(),
                    r.autogradScoreCpuGflops(),
                    r.autogradTrainCpuGflops());
        }
        line(
                out,
                "  FLOP per sample from the shapes (FlopCount); GF/s = GFLOP per CPU-second"
                        + " achieved (wall-time figures in the JSON)");
    }

    private static void opsTable(StringBuilder out, BenchReport report) {
        if (report.ops().isEmpty()) {
            line(out, "WHERE THE TIME GOES  not profiled in this run");
            return;
        }
        line(
                out,
                "WHERE THE TIME GOES  PyTorch profiler, top-level ops per call; one trivial op"
                        + " costs %.1f us here",
                report.flops().trivialOpMicros());
        line(
                out,
                "  %-8s %5s %-15s %8s %8s %9s %7s %8s  %s",
                "layers",
                "batch",
                "workload",
                "ops/call",
                "backward",
                "cpu us",
                "us/op",
                "in-ops",
                "most frequent ops per call");
        for (OpsRow r : report.ops()) {
            line(
                    out,
                    "  %-8s %5d %-15s %8.0f %8.0f %9.0f %7.1f %7.0f%%  %s",
                    r.layers(),
                    r.batch(),
                    r.workload(),
                    r.opsPerCall(),
                    r.backwardNodesPerCall(),
                    r.cpuMicrosPerCall(),
                    r.microsPerOp(),
                    100 * r.profiledOpShare(),
                    top(r.opsByName(), 6));
        }
        line(
                out,
                "  backward = of the ops, autograd-engine nodes (run natively, no Java between);"
                        + " cpu us = thread CPU per call in the timed rounds; in-ops = share of the"
                        + " profiled call inside PyTorch ops, the rest is Java, JNI and DJL;"
                        + " learner score runs in Java on the CPU (0 ops, us/op 0)");
    }

    private static String top(Map<String, Double> ops, int count) {
        return ops.entrySet().stream()
                .limit(count)
                .map(
                        e ->
                                e.getKey().replace("aten::", "")
                                        + " "
                                        + String.format(Locale.ROOT, "%.0f", e.getValue()))
                .collect(Collectors.joining(", "));
    }

    /**
     * A steady row's backend, marked {@code +own} when each key scored with its own model alone and
     * {@code +companion} when the shared model learned beside a slow companion.
     */
    private static String backendOf(PipelineBench.SteadyRow r) {
        return r.ownModels()
                ? r.stateBackend() + "+own"
                : r.sharedCompanion() ? r.stateBackend() + "+companion" : r.stateBackend();
    }

    static String number(double value) {
        if (Double.isNaN(value)) {
            return "nan";
        }
        if (Math.abs(value) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        return String.format(Locale.ROOT, "%.3g", value);
    }

    private static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
