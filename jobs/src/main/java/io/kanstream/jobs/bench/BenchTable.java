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
        modelTable(out, report, true);
        out.append('\n');
        modelTable(out, report, false);
        line(
                out,
                "  autograd = straightforward DJL GradientCollector KAN (efficient-kan math, DJL"
                        + " Adam), same run, same rounds");
        line(
                out,
                "  eff-kan* = %s; its ratio uses wall rates, (cpu) uses thread-CPU rates",
                EfficientKanReference.SOURCE);
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
        line(out, "PIPELINE  not measured yet (issue 6, part 2): \"pipeline\": [] in the JSON");
        line(out, "STATE     not measured yet (issue 6, part 3): \"state\": [] in the JSON");
        out.append('\n');
        line(out, "CHECKS (issue 6, must show, model part; efficient-kan = reference figures)");
        for (Check check : report.checks()) {
            line(
                    out,
                    "  [%s] %s: %s vs %s %s%s",
                    check.pass() ? "pass" : "FAIL",
                    check.check(),
                    number(check.measured()),
                    number(check.target()),
                    check.unit(),
                    check.cpuFraction() < 0.9
                            ? String.format(
                                    Locale.ROOT,
                                    " (cpu %.2f: measured on contended cores, re-run)",
                                    check.cpuFraction())
                            : "");
        }
        return out.toString();
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
                "  %-8s %5s | %10s %8s %8s %10s %6s | %10s %8s %8s | %8s | %9s %7s %7s | %4s",
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
                "eff-kan*",
                "ratio",
                "(cpu)",
                "cpu");
        for (ModelRow r : report.model()) {
            Double reference =
                    training ? r.efficientKanTrainSamplesPerS() : r.efficientKanScoreSamplesPerS();
            Double ratio = training ? r.trainRatioVsEfficientKan() : r.scoreRatioVsEfficientKan();
            Double cpuRatio =
                    training ? r.trainCpuRatioVsEfficientKan() : r.scoreCpuRatioVsEfficientKan();
            line(
                    out,
                    "  %-8s %5d | %10s %8.3f %8.3f %10s %6.0f | %10s %8.3f %8.3f | %7.2fx | %9s %7s"
                            + " %7s | %4.2f",
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
                    reference == null ? "-" : number(reference),
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
                        + " profiled call inside PyTorch ops, the rest is Java, JNI and DJL");
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
