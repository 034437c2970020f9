package io.kanstream.jobs.bench;

import io.kanstream.jobs.bench.CallTimer.Timing;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.stream.Collectors;

/**
 * Times one shape and batch: the learner's training step and scoring, and the autograd baseline's,
 * on the same random regression data, after warm-up, in interleaved rounds; with an {@link
 * EfficientKanPeer}, efficient-kan's too, from the learner's parameters on the same batches, its
 * rounds taking turns with the others.
 */
final class ModelBench {
    /** Distinct batches cycled through, so no call sees the same rows as the one before. */
    private static final int POOL = 64;

    private final List<Integer> shape;
    private final int batch;
    private final BenchSettings settings;
    private final EfficientKanPeer peer; // null: none in this run
    private double sink; // keeps the outputs observable

    ModelBench(List<Integer> shape, int batch, BenchSettings settings) {
        this(shape, batch, settings, null);
    }

    ModelBench(List<Integer> shape, int batch, BenchSettings settings, EfficientKanPeer peer) {
        this.shape = List.copyOf(shape);
        this.batch = batch;
        this.settings = settings;
        this.peer = peer;
    }

    static String layers(List<Integer> shape) {
        return shape.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /**
     * What one shape and batch measured.
     *
     * @param timings learner train, learner score, autograd train, autograd score, and peer train
     *     and peer score when the efficient-kan peer ran
     * @param ops per workload, empty when not profiled
     * @param peerMaxAbsDiff largest |learner − efficient-kan peer| output on the first batch before
     *     training (the same parameters), null when the peer did not run
     * @param peerFailure why the peer stopped during this row, or null
     */
    record Result(
            String layers,
            int batch,
            Map<String, Timing> timings,
            long skippedSteps,
            double cpuFraction,
            double baselineMaxAbsDiff,
            double rssStartMb,
            double rssWarmMb,
            double rssMb,
            List<BenchReport.OpsRow> ops,
            Double peerMaxAbsDiff,
            String peerFailure) {

        Timing timing(String workload) {
            return timings.get(workload);
        }
    }

    static final String LEARNER_TRAIN = "learner train";
    static final String LEARNER_SCORE = "learner score";
    static final String AUTOGRAD_TRAIN = "autograd train";
    static final String AUTOGRAD_SCORE = "autograd score";
    static final String PEER_TRAIN = "peer train";
    static final String PEER_SCORE = "peer score";

    /** Runs every workload for a while and records nothing: lets the JIT compile the hot paths. */
    void warmUpOnly(long nanosPerWorkload) {
        try (Setup setup = new Setup()) {
            for (IntConsumer workload : setup.workloads.values()) {
                CallTimer.warmUp(workload, nanosPerWorkload);
            }
        }
    }

    Result run(boolean profile) {
        double rssStart = MemoryProbe.read("row start").vmRssMb();
        try (Setup setup = new Setup()) {
            double difference = setup.baselineDifference();
            Map<String, IntConsumer> workloads = setup.workloads;
            PeerRun peerRun = new PeerRun(setup);
            for (IntConsumer workload : workloads.values()) {
                CallTimer.warmUp(workload, settings.warmup().toNanos());
            }
            peerRun.warmUp();
            double rssWarm = MemoryProbe.read("row warm").vmRssMb();
            Map<String, CallTimer> timers = new LinkedHashMap<>();
            workloads.keySet().forEach(name -> timers.put(name, new CallTimer(batch)));
            List<String> order = new ArrayList<>(workloads.keySet());
            order.addAll(peerRun.workloads());
            for (int round = 0; round < settings.rounds(); round++) {
                // alternate the order so no workload always runs first after a pause
                List<String> turn = new ArrayList<>(order);
                if (round % 2 == 1) {
                    java.util.Collections.reverse(turn);
                }
                for (String name : turn) {
                    if (timers.containsKey(name)) {
                        timers.get(name).run(workloads.get(name), settings.round().toNanos());
                    } else {
                        peerRun.round(name);
                    }
                }
            }
            Map<String, Timing> timings = new LinkedHashMap<>();
            double wall = 0;
            double cpu = 0;
            for (var entry : timers.entrySet()) {
                Timing timing = entry.getValue().timing();
                timings.put(entry.getKey(), timing);
                wall += timing.wallSeconds();
                cpu += timing.cpuSeconds();
            }
            timings.putAll(peerRun.timings());
            double rss = MemoryProbe.read("row end").vmRssMb();
            List<BenchReport.OpsRow> ops = new ArrayList<>();
            if (profile && settings.profileCalls() > 0) {
                for (var entry : workloads.entrySet()) {
                    ops.add(profile(entry.getKey(), entry.getValue(), timings.get(entry.getKey())));
                }
            }
            return new Result(
                    layers(shape),
                    batch,
                    timings,
                    setup.learner.skippedSteps(),
                    cpu / wall,
                    difference,
                    rssStart,
                    rssWarm,
                    rss,
                    ops,
                    peerRun.difference,
                    peerRun.failure);
        }
    }

    /**
     * The peer's part of one row. A peer that fails is left out of the rest of the row, and the
     * failure is reported with it; the learner's figures stand.
     */
    private final class PeerRun {
        private boolean running;
        Double difference;
        String failure;

        PeerRun(Setup setup) {
            if (peer == null) {
                return;
            }
            attempt(
                    () -> {
                        KanConfig config = setup.learner.config();
                        float[] theirs =
                                peer.model(
                                        shape,
                                        config.splineOrder(),
                                        config.learningRate(),
                                        batch,
                                        setup.learner.parameters(),
                                        setup.rows,
                                        setup.floatLabels);
                        difference =
                                maxAbsDiff(setup.learner.outputs(setup.rows[0], batch), theirs);
                        running = true;
                    });
        }

        List<String> workloads() {
            return running ? List.of(PEER_TRAIN, PEER_SCORE) : List.of();
        }

        void warmUp() {
            if (running) {
                attempt(() -> peer.warmUp(settings.warmup()));
            }
        }

        void round(String name) {
            if (running) {
                String workload =
                        name.equals(PEER_TRAIN) ? EfficientKanPeer.TRAIN : EfficientKanPeer.SCORE;
                attempt(() -> peer.round(workload, settings.round()));
            }
        }

        Map<String, Timing> timings() {
            Map<String, Timing> result = new LinkedHashMap<>();
            if (running) {
                attempt(
                        () -> {
                            Map<String, Timing> theirs = peer.timings();
                            result.put(PEER_TRAIN, theirs.get(EfficientKanPeer.TRAIN));
                            result.put(PEER_SCORE, theirs.get(EfficientKanPeer.SCORE));
                        });
            }
            return running ? result : Map.of();
        }

        private void attempt(Runnable step) {
            try {
                step.run();
            } catch (EfficientKanPeer.PeerFailure e) {
                running = false;
                failure = e.getMessage();
            }
        }
    }

    /** Largest |a − b| over two outputs of the same rows; infinite when their sizes differ. */
    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double worst = 0;
        for (int q = 0; q < a.length; q++) {
            worst = Math.max(worst, Math.abs((double) a[q] - b[q]));
        }
        return worst;
    }

    private BenchReport.OpsRow profile(String name, IntConsumer workload, Timing timing) {
        try {
            OpProfile.Result result = OpProfile.profile(workload, settings.profileCalls());
            Map<String, Double> byName = new LinkedHashMap<>();
            result.ops().forEach(op -> byName.put(op.name(), op.perCall()));
            return new BenchReport.OpsRow(
                    layers(shape),
                    batch,
                    name,
                    result.opsPerCall(),
                    result.backwardNodesPerCall(),
                    timing.cpuSeconds() * 1e6 / timing.calls(),
                    timing.meanMicros(),
                    // scoring on the CPU runs in Java (HostKan): no PyTorch op to divide by
                    result.opsPerCall() < 1
                            ? 0
                            : timing.cpuSeconds() * 1e6 / timing.calls() / result.opsPerCall(),
                    result.profiledOpMicrosPerCall() / result.profiledWallMicrosPerCall(),
                    byName);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read PyTorch's profiler trace", e);
        }
    }

    /** A fresh learner, a baseline with its parameters, and a pool of random batches. */
    private final class Setup implements AutoCloseable {
        final KanLearner learner;
        final AutogradKan baseline;
        final float[][] rows = new float[POOL][]; // [call % POOL] (batch, inputs)
        final double[][] labels = new double[POOL][]; // [call % POOL] (batch)
        final float[][] floatLabels = new float[POOL][];
        final Map<String, IntConsumer> workloads = new LinkedHashMap<>();

        Setup() {
            KanConfig config =
                    KanConfig.builder(shape)
                            .gridSize(settings.gridSize())
                            .splineOrder(settings.splineOrder())
                            .device("cpu")
                            .seed(settings.seed())
                            // the network alone, as efficient-kan's: no parameter average
                            .averageHorizon(0)
                            .build();
            learner = KanLearner.create(config);
            try {
                baseline = AutogradKan.from(learner.parameters(), config.learningRate());
            } catch (RuntimeException e) {
                learner.close();
                throw e;
            }
            int inputs = shape.get(0);
            SplittableRandom random = new SplittableRandom(settings.seed() * 31 + batch);
            for (int q = 0; q < POOL; q++) {
                rows[q] = new float[batch * inputs];
                labels[q] = new double[batch];
                floatLabels[q] = new float[batch];
                for (int s = 0; s < batch; s++) {
                    double target = 0;
                    for (int i = 0; i < inputs; i++) {
                        double x = gaussian(random) * 0.5;
                        rows[q][s * inputs + i] = (float) x;
                        target += Math.sin(Math.PI * x) / inputs;
                    }
                    labels[q][s] = target + 0.05 * gaussian(random);
                    floatLabels[q][s] = (float) labels[q][s];
                }
            }
            workloads.put(LEARNER_TRAIN, call -> learner.learn(rows(call), labels[call % POOL]));
            workloads.put(LEARNER_SCORE, call -> sink += learner.outputs(rows(call), batch)[0]);
            workloads.put(
                    AUTOGRAD_TRAIN,
                    call -> sink += baseline.learn(rows(call), floatLabels[call % POOL], batch));
            workloads.put(AUTOGRAD_SCORE, call -> sink += baseline.outputs(rows(call), batch)[0]);
        }

        private float[] rows(int call) {
            return rows[call % POOL];
        }

        /**
         * Both start from the same parameters, and a fresh learner's normalizer is the identity.
         */
        double baselineDifference() {
            return maxAbsDiff(learner.outputs(rows[0], batch), baseline.outputs(rows[0], batch));
        }

        private static double gaussian(SplittableRandom random) {
            // Box–Muller; SplittableRandom has no nextGaussian on Java 17
            double u = 1 - random.nextDouble();
            return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
        }

        @Override
        public void close() {
            baseline.close();
            learner.close();
        }
    }
}
