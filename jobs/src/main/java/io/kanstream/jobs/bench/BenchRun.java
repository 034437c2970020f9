package io.kanstream.jobs.bench;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import io.kanstream.jobs.bench.BenchReport.Check;
import io.kanstream.jobs.bench.BenchReport.FlopRow;
import io.kanstream.jobs.bench.BenchReport.ModelRow;
import io.kanstream.jobs.bench.CallTimer.Timing;
import io.kanstream.jobs.cli.Checkout;
import io.kanstream.jobs.kafka.LocalBroker;
import io.kanstream.kan.EfficientKanWeights;
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

/**
 * One bench run, model part of issue 6: every shape and batch, the FLOP ceiling, memory, and the
 * issue's targets, collected into a {@link BenchReport}. The pipeline and state parts are added by
 * {@link PipelineBench}.
 */
public final class BenchRun {
    /**
     * The Python that runs the efficient-kan peer unless told otherwise: {@code python3} on the
     * PATH, or else the system's, where Debian's {@code python3-torch} installs torch.
     */
    public static final String DEFAULT_PYTHON = "python3";

    private static final List<String> DEFAULT_PYTHONS = List.of(DEFAULT_PYTHON, "/usr/bin/python3");

    private final BenchSettings settings;
    private final PrintStream progress;
    private final String peerPython;

    public BenchRun(BenchSettings settings, PrintStream progress) {
        this(settings, progress, DEFAULT_PYTHON);
    }

    /**
     * @param peerPython the interpreter that runs the efficient-kan peer, null to run none
     */
    public BenchRun(BenchSettings settings, PrintStream progress, String peerPython) {
        this.settings = settings;
        this.progress = progress;
        this.peerPython = peerPython;
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

        if (!model) {
            MemoryProbe.Reading end = MemoryProbe.read("end");
            phases.add(end);
            return new BenchReport(
                    List.of(),
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
                    machine(
                            engine,
                            threads,
                            loadStart,
                            "efficient-kan peer not run: no model part"),
                    date,
                    command,
                    settings.mode(),
                    (System.nanoTime() - started) / 1e9,
                    List.of("model part not measured in this run (--parts)"));
        }
        EfficientKanPeer.Start start =
                peerPython == null
                        ? new EfficientKanPeer.Start(
                                null, "efficient-kan peer not run: turned off (--peer-python none)")
                        : EfficientKanPeer.start(
                                peerPython.equals(DEFAULT_PYTHON)
                                        ? DEFAULT_PYTHONS
                                        : List.of(peerPython),
                                threads);
        progress.println(start.description());
        try (PeerHolder peer = new PeerHolder(start)) {
            return measure(command, started, date, loadStart, phases, engine, threads, peer);
        }
    }

    /** The peer while it works; after a failure, none, and the failure in its description. */
    private static final class PeerHolder implements AutoCloseable {
        EfficientKanPeer peer;
        String description;

        PeerHolder(EfficientKanPeer.Start start) {
            peer = start.peer();
            description = start.description();
        }

        void failed(String why) {
            close();
            description += "; stopped: " + why;
        }

        @Override
        public void close() {
            if (peer != null) {
                peer.close();
                peer = null;
            }
        }
    }

    private BenchReport measure(
            String command,
            long started,
            String date,
            String loadStart,
            List<MemoryProbe.Reading> phases,
            Engine engine,
            int threads,
            PeerHolder peer) {
        List<ModelBench.Result> results = new ArrayList<>();
        List<ModelRow> rows = new ArrayList<>();
        List<Check> peerChecks = new ArrayList<>();
        if (peer.peer != null) {
            progress.println("checking the peer on efficient-kan's reference cases...");
            peerChecks.addAll(referenceChecks(peer));
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
                        new ModelBench(shape, batch, settings, peer.peer)
                                .run(batch == profiledBatch());
                if (result.peerFailure() != null) {
                    progress.println("efficient-kan peer stopped: " + result.peerFailure());
                    peer.failed(result.peerFailure());
                }
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
        BenchReport.Machine machine = machine(engine, threads, loadStart, peer.description);
        List<Check> checks = new ArrayList<>(checks(rows));
        checks.addAll(peerChecks);
        checks.addAll(peerChecks(rows));
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
                checks,
                machine,
                date,
                command,
                settings.mode(),
                (System.nanoTime() - started) / 1e9,
                List.of(
                        "peer_* figures: "
                                + peer.description
                                + "; efficient-kan's algorithm (EfficientKanPeer,"
                                + " efficient_kan_peer.py) from the learner's parameters on the"
                                + " same batches, its rounds taking turns with the learner's;"
                                + " training is forward, MSE, autograd backward and"
                                + " torch.optim.Adam, scoring runs under torch.inference_mode()",
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

    private static BenchReport.Machine machine(
            Engine engine, int threads, String loadStart, String peer) {
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
                Checkout.commit(BenchRun.class),
                peer);
    }

    /** How close the peer's outputs must be to kanstream's and to efficient-kan's own. */
    static final double PEER_TOLERANCE = 1e-4;

    /**
     * The peer scores efficient-kan's reference cases (data/reference/efficient-kan: weights,
     * inputs and the outputs efficient-kan computed) as efficient-kan did, and as kanstream does
     * with the same weights imported: it is the function the ratios compare.
     */
    private List<Check> referenceChecks(PeerHolder holder) {
        Path dir = LocalBroker.repoDir().resolve(Path.of("data", "reference", "efficient-kan"));
        List<Path> cases;
        try (var files = Files.list(dir)) {
            cases = files.filter(f -> f.toString().endsWith(".weights.npz")).sorted().toList();
        } catch (IOException e) {
            progress.println("no efficient-kan reference cases at " + dir + ": peer check skipped");
            return List.of();
        }
        List<Check> checks = new ArrayList<>();
        for (Path weights : cases) {
            String name = weights.getFileName().toString().replace(".weights.npz", "");
            try (KanLearner learner =
                    EfficientKanWeights.importLearner(
                            weights, KanConfig.builder(List.of(1, 1)).device("cpu"), null)) {
                EfficientKanPeer.Scored scored =
                        holder.peer.reference(
                                weights,
                                dir.resolve(name + ".input.csv"),
                                dir.resolve(name + ".output.csv"));
                float[] mine = learner.outputs(scored.rows(), scored.n());
                checks.add(
                        atMost(
                                "efficient-kan peer = kanstream on reference case "
                                        + name
                                        + " (same weights), max |output difference|",
                                ModelBench.maxAbsDiff(scored.outputs(), mine)));
                checks.add(
                        atMost(
                                "efficient-kan peer = efficient-kan's stored outputs, case "
                                        + name
                                        + ", max |output difference|",
                                ModelBench.maxAbsDiff(scored.outputs(), scored.expected())));
            } catch (IOException | IllegalArgumentException e) {
                progress.println("reference case " + name + " not checked: " + e.getMessage());
            } catch (EfficientKanPeer.PeerFailure e) {
                progress.println("efficient-kan peer stopped: " + e.getMessage());
                holder.failed(e.getMessage());
                break;
            }
        }
        return checks;
    }

    private static Check atLeastPeer(String work, ModelRow row, double ratio) {
        return new Check(
                work
                        + " "
                        + row.layers()
                        + " batch "
                        + row.batch()
                        + " >= efficient-kan peer (same run), learner ÷ peer",
                ratio,
                1,
                "×",
                ratio >= 1,
                row.cpuFraction());
    }

    private static Check atMost(String what, double difference) {
        return new Check(what, difference, PEER_TOLERANCE, "", difference <= PEER_TOLERANCE, null);
    }

    /**
     * Issue 12, "must show": every shape and batch at least as fast as efficient-kan measured in
     * the same run, training and scoring; and the peer computing the learner's function.
     */
    static List<Check> peerChecks(List<ModelRow> rows) {
        List<Check> checks = new ArrayList<>();
        double worst = 0;
        boolean any = false;
        for (ModelRow row : rows) {
            if (row.trainRatioVsPeer() == null) {
                continue;
            }
            any = true;
            worst = Math.max(worst, row.peerMaxAbsDiff());
            checks.add(atLeastPeer("training", row, row.trainRatioVsPeer()));
            checks.add(atLeastPeer("scoring", row, row.scoreRatioVsPeer()));
        }
        if (any) {
            checks.add(
                    atMost(
                            "efficient-kan peer = learner on every row's first batch (same"
                                    + " parameters), max |output difference|",
                            worst));
        }
        return checks;
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
        Timing peerTrain = r.timing(ModelBench.PEER_TRAIN);
        Timing peerScore = r.timing(ModelBench.PEER_SCORE);
        boolean peer = peerTrain != null && peerScore != null;
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
                r.rssMb(),
                peer ? peerTrain.samplesPerSecond() : null,
                peer ? peerScore.samplesPerSecond() : null,
                peer ? peerTrain.p50Ms() : null,
                peer ? peerScore.p50Ms() : null,
                peer ? peerTrain.cpuSamplesPerSecond() : null,
                peer ? peerScore.cpuSamplesPerSecond() : null,
                peer ? train.samplesPerSecond() / peerTrain.samplesPerSecond() : null,
                peer ? score.samplesPerSecond() / peerScore.samplesPerSecond() : null,
                peer ? train.cpuSamplesPerSecond() / peerTrain.cpuSamplesPerSecond() : null,
                peer ? score.cpuSamplesPerSecond() / peerScore.cpuSamplesPerSecond() : null,
                peer ? r.peerMaxAbsDiff() : null);
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
}
