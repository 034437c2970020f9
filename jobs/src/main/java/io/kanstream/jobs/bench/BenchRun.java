package io.kanstream.jobs.bench;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import io.kanstream.jobs.bench.BenchReport.Check;
import io.kanstream.jobs.bench.BenchReport.FlopRow;
import io.kanstream.jobs.bench.BenchReport.ModelRow;
import io.kanstream.jobs.bench.CallTimer.Timing;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One bench run, model part of issue 6: every shape and batch, the FLOP ceiling, memory, and the
 * issue's targets, collected into a {@link BenchReport}. The pipeline and state parts are added by
 * {@link PipelineBench}.
 */
public final class BenchRun {
    private final BenchSettings settings;
    private final PrintStream progress;

    public BenchRun(BenchSettings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
    }

    public BenchReport run(String command) {
        return run(command, true);
    }

    /**
     * @param model whether to measure the model part; without it the report has no model, FLOP or
     *     op rows, only the machine and its memory (for a run of the pipeline and state parts)
     */
    public BenchReport run(String command, boolean model) {
        long started = System.nanoTime();
        String date = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String loadStart = loadAverage();
        List<MemoryProbe.Reading> phases = new ArrayList<>();
        phases.add(MemoryProbe.read("start"));
        Engine engine = Engine.getEngine("PyTorch");
        phases.add(MemoryProbe.read("engine loaded"));
        int threads = JniUtils.getNumThreads();
        if (threads != 1) {
            progress.printf(
                    "warning: PyTorch uses %d intra-op threads; issue 6 asks for one"
                            + " (KANSTREAM_THREADS=1)%n",
                    threads);
        }

        List<ModelBench.Result> results = new ArrayList<>();
        List<ModelRow> rows = new ArrayList<>();
        if (!model) {
            MemoryProbe.Reading end = MemoryProbe.read("end");
            phases.add(end);
            return new BenchReport(
                    rows,
                    List.of(),
                    List.of(),
                    List.of(),
                    new BenchReport.Memory(
                            end.vmHwmMb(),
                            end.vmRssMb(),
                            end.heapUsedMb(),
                            end.heapPeakMb(),
                            end.heapCommittedMb(),
                            phases),
                    null,
                    List.of(),
                    new BenchReport.EfficientKanRows(
                            EfficientKanReference.SOURCE, EfficientKanReference.FIGURES),
                    List.of(),
                    machine(engine, threads, loadStart),
                    date,
                    command,
                    settings.mode(),
                    (System.nanoTime() - started) / 1e9,
                    List.of("model part not measured in this run (--parts)"));
        }
        progress.println("warming up the JIT on every workload...");
        for (List<Integer> shape : settings.shapes()) {
            new ModelBench(shape, 32, settings).warmUpOnly(settings.warmup().toNanos());
        }
        for (List<Integer> shape : settings.shapes()) {
            for (int batch : settings.batches()) {
                progress.printf(
                        "measuring layers %s, batch %d...%n", ModelBench.layers(shape), batch);
                ModelBench.Result result =
                        new ModelBench(shape, batch, settings).run(batch == profiledBatch());
                results.add(result);
                rows.add(modelRow(result));
            }
        }
        MemoryProbe.Reading afterModel = MemoryProbe.read("after model rows");
        phases.add(afterModel);

        progress.println("measuring the ceilings: one trivial op, a large matMul...");
        double opMicros = PeakFlops.trivialOpMicros(settings.peakTime());
        int size = 1024;
        PeakFlops.Peak one = PeakFlops.matMul(size, 1, settings.peakTime());
        PeakFlops.Peak two = PeakFlops.matMul(size, 2, settings.peakTime());
        phases.add(MemoryProbe.read("after matMul peak"));

        double twoCores = Math.max(two.gflops(), 2 * one.cpuGflops());
        List<FlopRow> flopRows = new ArrayList<>();
        for (ModelBench.Result result : results) {
            flopRows.add(flopRow(result, one.cpuGflops(), twoCores));
        }
        BenchReport.Flops flops =
                new BenchReport.Flops(
                        "FLOP per sample derived from the shapes (FlopCount): add, multiply,"
                                + " divide, exp = 1, multiply-add = 2; per-call work divided by"
                                + " the batch; the same count for the learner and the baseline",
                        size,
                        one.gflops(),
                        one.cpuGflops(),
                        two.gflops(),
                        twoCores,
                        opMicros,
                        flopRows);
        List<BenchReport.OpsRow> ops = new ArrayList<>();
        results.forEach(r -> ops.addAll(r.ops()));

        MemoryProbe.Reading end = MemoryProbe.read("end");
        phases.add(end);
        BenchReport.Memory memory =
                new BenchReport.Memory(
                        afterModel.vmHwmMb(),
                        end.vmRssMb(),
                        end.heapUsedMb(),
                        end.heapPeakMb(),
                        end.heapCommittedMb(),
                        phases);
        BenchReport.Machine machine = machine(engine, threads, loadStart);
        return new BenchReport(
                rows,
                List.of(),
                List.of(),
                List.of(),
                memory,
                flops,
                ops,
                new BenchReport.EfficientKanRows(
                        EfficientKanReference.SOURCE, EfficientKanReference.FIGURES),
                checks(rows),
                machine,
                date,
                command,
                settings.mode(),
                (System.nanoTime() - started) / 1e9,
                List.of(
                        "efficient_kan_* figures and ratios are against fixed figures measured"
                                + " earlier on this machine, not in this run",
                        "autograd_* figures are the DJL GradientCollector baseline (AutogradKan),"
                                + " timed in the same rounds as the learner",
                        "cpu_fraction below about 0.9 means other processes held the cores:"
                                + " wall rates then understate the code, and even the *_cpu_*"
                                + " rates (per second of thread CPU time) drop, since a shared"
                                + " core also shares caches; re-run such rows on quiet cores",
                        "*_minor_faults_per_call above a few means glibc's malloc is returning"
                                + " freed tensors to the OS and faulting them in again on every"
                                + " op; see machine.allocator_settings",
                        "RSS includes Java heap pages as the heap grows; to see native memory"
                                + " alone, run with KANSTREAM_JAVA_OPTS='-Xms768m -Xmx768m"
                                + " -XX:+AlwaysPreTouch': the heap is then resident from the"
                                + " start and RSS growth is native"));
    }

    private static BenchReport.Machine machine(Engine engine, int threads, String loadStart) {
        return new BenchReport.Machine(
                cpuModel(),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name") + " " + System.getProperty("os.version"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                "DJL " + Engine.getDjlVersion() + ", PyTorch " + engine.getVersion(),
                threads,
                JniUtils.getNumInteropThreads(),
                loadStart,
                loadAverage(),
                codeSource(),
                allocatorSettings(),
                gitCommit());
    }

    /** Ops are counted at one batch: they do not depend on it. */
    private int profiledBatch() {
        return settings.batches().contains(32) ? 32 : settings.batches().get(0);
    }

    static ModelRow modelRow(ModelBench.Result r) {
        Timing train = r.timing(ModelBench.LEARNER_TRAIN);
        Timing score = r.timing(ModelBench.LEARNER_SCORE);
        Timing autoTrain = r.timing(ModelBench.AUTOGRAD_TRAIN);
        Timing autoScore = r.timing(ModelBench.AUTOGRAD_SCORE);
        Optional<EfficientKanReference.Figure> reference =
                EfficientKanReference.find(r.layers(), r.batch());
        return new ModelRow(
                r.layers(),
                r.batch(),
                train.samplesPerSecond(),
                score.samplesPerSecond(),
                train.p50Ms(),
                train.p99Ms(),
                score.p50Ms(),
                score.p99Ms(),
                train.cpuSamplesPerSecond(),
                score.cpuSamplesPerSecond(),
                autoTrain.samplesPerSecond(),
                autoScore.samplesPerSecond(),
                autoTrain.p50Ms(),
                autoTrain.p99Ms(),
                autoScore.p50Ms(),
                autoScore.p99Ms(),
                autoTrain.cpuSamplesPerSecond(),
                autoScore.cpuSamplesPerSecond(),
                train.samplesPerSecond() / autoTrain.samplesPerSecond(),
                score.samplesPerSecond() / autoScore.samplesPerSecond(),
                reference.map(EfficientKanReference.Figure::trainSamplesPerS).orElse(null),
                reference.map(EfficientKanReference.Figure::scoreSamplesPerS).orElse(null),
                reference.map(f -> train.samplesPerSecond() / f.trainSamplesPerS()).orElse(null),
                reference.map(f -> score.samplesPerSecond() / f.scoreSamplesPerS()).orElse(null),
                reference.map(f -> train.cpuSamplesPerSecond() / f.trainSamplesPerS()).orElse(null),
                reference.map(f -> score.cpuSamplesPerSecond() / f.scoreSamplesPerS()).orElse(null),
                train.calls(),
                score.calls(),
                autoTrain.calls(),
                autoScore.calls(),
                r.skippedSteps(),
                train.minorFaultsPerCall(),
                score.minorFaultsPerCall(),
                r.cpuFraction(),
                r.baselineMaxAbsDiff(),
                r.rssStartMb(),
                r.rssWarmMb(),
                r.rssMb());
    }

    private FlopRow flopRow(ModelBench.Result r, double corePeak, double twoCores) {
        List<Integer> shape = KanConfig.parseLayers(r.layers());
        FlopCount.Breakdown forward =
                FlopCount.forward(shape, settings.gridSize(), settings.splineOrder(), r.batch());
        FlopCount.Breakdown training =
                FlopCount.training(shape, settings.gridSize(), settings.splineOrder(), r.batch());
        Timing score = r.timing(ModelBench.LEARNER_SCORE);
        Timing train = r.timing(ModelBench.LEARNER_TRAIN);
        double scoreCpu = forward.total() * score.cpuSamplesPerSecond() / 1e9;
        double trainCpu = training.total() * train.cpuSamplesPerSecond() / 1e9;
        return new FlopRow(
                r.layers(),
                r.batch(),
                forward.total(),
                training.total(),
                forward.parts(),
                training.parts(),
                forward.total() * score.samplesPerSecond() / 1e9,
                training.total() * train.samplesPerSecond() / 1e9,
                scoreCpu,
                trainCpu,
                forward.total() * r.timing(ModelBench.AUTOGRAD_SCORE).cpuSamplesPerSecond() / 1e9,
                training.total() * r.timing(ModelBench.AUTOGRAD_TRAIN).cpuSamplesPerSecond() / 1e9,
                scoreCpu / corePeak,
                trainCpu / corePeak,
                scoreCpu / twoCores,
                trainCpu / twoCores);
    }

    /**
     * Issue 6, "must show", model part: efficient-kan's figures at batch 32 and 256, and 0.5 ms.
     */
    static List<Check> checks(List<ModelRow> rows) {
        List<Check> checks = new ArrayList<>();
        for (ModelRow row : rows) {
            if ((row.batch() == 32 || row.batch() == 256)
                    && row.efficientKanTrainSamplesPerS() != null) {
                checks.add(
                        atLeast(
                                "training " + row.layers() + " batch " + row.batch(),
                                row.trainSamplesPerS(),
                                row.efficientKanTrainSamplesPerS(),
                                row.cpuFraction()));
                checks.add(
                        atLeast(
                                "scoring " + row.layers() + " batch " + row.batch(),
                                row.scoreSamplesPerS(),
                                row.efficientKanScoreSamplesPerS(),
                                row.cpuFraction()));
            }
            if (row.batch() == 1) {
                checks.add(
                        new Check(
                                "scoring " + row.layers() + " batch 1, p50 latency per event",
                                row.scoreP50Ms(),
                                0.5,
                                "ms",
                                row.scoreP50Ms() < 0.5,
                                row.cpuFraction()));
            }
        }
        return checks;
    }

    private static Check atLeast(String what, double measured, double target, double cpuFraction) {
        return new Check(
                what + " >= efficient-kan (reference figure)",
                measured,
                target,
                "samples/s",
                measured >= target,
                cpuFraction);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String allocatorSettings() {
        List<String> settings = new ArrayList<>();
        System.getenv().entrySet().stream()
                .filter(
                        e ->
                                e.getKey().equals("GLIBC_TUNABLES")
                                        || e.getKey().startsWith("MALLOC_")
                                        || e.getKey().equals("LD_PRELOAD"))
                .sorted(java.util.Map.Entry.comparingByKey())
                .forEach(e -> settings.add(e.getKey() + "=" + e.getValue()));
        return settings.isEmpty() ? "glibc malloc defaults" : String.join(" ", settings);
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(line -> line.startsWith("model name"))
                    .map(line -> line.substring(line.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElse("unknown");
        } catch (IOException e) {
            return System.getProperty("os.arch");
        }
    }

    private static String codeSource() {
        try {
            Path path =
                    Path.of(
                            KanLearner.class
                                    .getProtectionDomain()
                                    .getCodeSource()
                                    .getLocation()
                                    .toURI());
            return path + " (modified " + Files.getLastModifiedTime(path) + ")";
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** The commit of the checkout the bench was built from, {@code +dirty} with local changes. */
    private static String gitCommit() {
        try {
            Path classes =
                    Path.of(
                            BenchRun.class
                                    .getProtectionDomain()
                                    .getCodeSource()
                                    .getLocation()
                                    .toURI());
            String commit = git(classes, "rev-parse", "--short", "HEAD");
            String status = git(classes, "status", "--porcelain", "--untracked-files=no");
            return commit == null
                    ? "unknown"
                    : commit + (status == null || status.isEmpty() ? "" : "+dirty");
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static String git(Path where, String... args) throws IOException, InterruptedException {
        List<String> command =
                new ArrayList<>(
                        List.of(
                                "git",
                                "-C",
                                (Files.isDirectory(where) ? where : where.getParent()).toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes()).trim();
        if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
            return null;
        }
        return out;
    }
}
