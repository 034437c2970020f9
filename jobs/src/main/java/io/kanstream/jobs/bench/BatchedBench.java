package io.kanstream.jobs.bench;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.kanstream.jobs.bench.CallTimer.Timing;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.KanPool;
import io.kanstream.kan.StepResult;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Many keys of one shape, three ways, in the same run: the batched pool ({@link KanPool}: one DJL
 * call scores a row of every key, one call steps every key's mini-batch), one DJL call per key
 * (each learner's own device mirror), and the host path (each learner in Java). Before timing, the
 * pool's outputs are checked against the host path's for every key, before and after a step.
 *
 * <p>A call of each workload covers every key once; throughput counts events (scored rows, or
 * labeled rows learned from) per second.
 */
public final class BatchedBench {
    /** Distinct data cycled through, so no call sees the rows of the one before. */
    private static final int POOL = 8;

    /**
     * @param keys how many keys (learners of the same shape)
     * @param layers the shape
     * @param stepRows labeled rows per key in one step (each key's mini-batch)
     * @param device where the pool and the per-key DJL learners run: cpu, gpu, gpu:N
     * @param warmup per workload, before timing
     * @param round per workload and round
     * @param rounds interleaved rounds
     */
    public record Settings(
            int keys,
            List<Integer> layers,
            int stepRows,
            String device,
            @JsonIgnore Duration warmup,
            @JsonIgnore Duration round,
            int rounds,
            long seed) {

        public Settings {
            layers = List.copyOf(layers);
            if (keys < 1 || stepRows < 1 || rounds < 1 || round.isZero() || round.isNegative()) {
                throw new IllegalArgumentException(
                        "keys, rows per step and rounds must be at least 1, got "
                                + keys
                                + ", "
                                + stepRows
                                + ", "
                                + rounds
                                + " of "
                                + round);
            }
        }

        @JsonProperty("warmup_seconds")
        double warmupSeconds() {
            return warmup.toMillis() / 1e3;
        }

        @JsonProperty("round_seconds")
        double roundSeconds() {
            return round.toMillis() / 1e3;
        }
    }

    /**
     * What one workload measured.
     *
     * @param path batched, per-key DJL, or host
     * @param work score or step
     */
    public record Row(
            String path,
            String work,
            double eventsPerSecond,
            double cpuEventsPerSecond,
            double callMillisP50,
            long calls) {}

    /**
     * The run's figures.
     *
     * @param scoreGap largest |batched − host| score over every key before any step
     * @param steppedScoreGap the same after one batched step and one host step per key
     * @param ratios batched ÷ per-key DJL and batched ÷ host, for scoring and stepping
     */
    public record Report(
            Settings settings,
            String device,
            double scoreGap,
            double steppedScoreGap,
            List<Row> rows,
            Map<String, Double> ratios) {}

    static final String BATCHED = "batched DJL";
    static final String PER_KEY = "one DJL call per key";
    static final String HOST = "host (Java)";

    private final Settings settings;
    private final PrintStream log;
    private double sink;

    public BatchedBench(Settings settings, PrintStream log) {
        this.settings = settings;
        this.log = log;
    }

    private KanConfig config(int key, String device) {
        return KanConfig.builder(settings.layers())
                .device(device)
                .seed(settings.seed() * 1_000_003 + key)
                .build();
    }

    private KanLearner[] learners(String device, boolean alwaysOnDevice) {
        KanLearner[] learners = new KanLearner[settings.keys()];
        for (int k = 0; k < learners.length; k++) {
            learners[k] = KanLearner.create(config(k, device));
            if (alwaysOnDevice) {
                learners[k].alwaysOnDevice();
            }
        }
        return learners;
    }

    public Report run() {
        int keys = settings.keys();
        int in = settings.layers().get(0);
        int rows = settings.stepRows();
        SplittableRandom random = new SplittableRandom(settings.seed());
        float[][] scoreRows = new float[POOL][keys * in];
        float[][][] stepRowsOf = new float[POOL][keys][rows * in];
        double[][][] labels = new double[POOL][keys][rows];
        for (int p = 0; p < POOL; p++) {
            for (int q = 0; q < keys * in; q++) {
                scoreRows[p][q] = (float) (random.nextDouble() * 2 - 1);
            }
            for (int k = 0; k < keys; k++) {
                for (int s = 0; s < rows; s++) {
                    double target = 0;
                    for (int i = 0; i < in; i++) {
                        float x = (float) (random.nextDouble() * 2 - 1);
                        stepRowsOf[p][k][s * in + i] = x;
                        target += Math.sin(Math.PI * x) / in;
                    }
                    labels[p][k][s] = target;
                }
            }
        }
        log.printf(
                Locale.ROOT,
                "batched bench: %d keys of %s, three learner sets...%n",
                keys,
                settings.layers());
        KanLearner[] batched = learners(settings.device(), false);
        KanLearner[] perKey = learners(settings.device(), true);
        KanLearner[] host = learners("cpu", false);
        try (KanPool pool = KanPool.open(config(0, settings.device()), keys)) {
            String device =
                    pool.device().isGpu()
                            ? "gpu:" + pool.device().getDeviceId()
                            : pool.device().getDeviceType();
            // the check: every key's batched scores against its host twin's, before and after
            // one step each way (the per-key DJL learners take the same step, so all three sets
            // enter the timing equal)
            double gap = scoreGap(pool, batched, host, scoreRows[0]);
            pool.learn(batched, stepRowsOf[0], labels[0]);
            for (int k = 0; k < keys; k++) {
                host[k].learn(stepRowsOf[0][k], labels[0][k]);
                perKey[k].learn(stepRowsOf[0][k], labels[0][k]);
            }
            double steppedGap = scoreGap(pool, batched, host, scoreRows[1]);
            log.printf(
                    Locale.ROOT,
                    "batched vs host scores, every key: max |Δ| %.2e fresh, %.2e after a step%n",
                    gap,
                    steppedGap);
            Map<String, IntConsumer> workloads = new LinkedHashMap<>();
            KanLearner[] owners = batched;
            workloads.put(
                    BATCHED + "|score",
                    call -> sink += pool.score(owners, scoreRows[call % POOL])[0]);
            workloads.put(
                    PER_KEY + "|score",
                    call -> {
                        float[] x = scoreRows[call % POOL];
                        for (int k = 0; k < keys; k++) {
                            sink +=
                                    perKey[k]
                                            .score(Arrays.copyOfRange(x, k * in, (k + 1) * in), 1)[
                                            0];
                        }
                    });
            workloads.put(
                    HOST + "|score",
                    call -> {
                        float[] x = scoreRows[call % POOL];
                        for (int k = 0; k < keys; k++) {
                            sink +=
                                    host[k].score(Arrays.copyOfRange(x, k * in, (k + 1) * in), 1)[
                                            0];
                        }
                    });
            workloads.put(
                    BATCHED + "|step",
                    call -> {
                        StepResult[] results =
                                pool.learn(owners, stepRowsOf[call % POOL], labels[call % POOL]);
                        sink += results[0].loss();
                    });
            workloads.put(
                    PER_KEY + "|step",
                    call -> {
                        for (int k = 0; k < keys; k++) {
                            sink +=
                                    perKey[k]
                                            .learn(
                                                    stepRowsOf[call % POOL][k],
                                                    labels[call % POOL][k])
                                            .loss();
                        }
                    });
            workloads.put(
                    HOST + "|step",
                    call -> {
                        for (int k = 0; k < keys; k++) {
                            sink +=
                                    host[k].learn(
                                                    stepRowsOf[call % POOL][k],
                                                    labels[call % POOL][k])
                                            .loss();
                        }
                    });
            Map<String, CallTimer> timers = new LinkedHashMap<>();
            for (var entry : workloads.entrySet()) {
                boolean step = entry.getKey().endsWith("|step");
                timers.put(entry.getKey(), new CallTimer(step ? keys * rows : keys));
                log.printf(Locale.ROOT, "  warming up %s%n", entry.getKey().replace('|', ' '));
                CallTimer.warmUp(entry.getValue(), settings.warmup().toNanos());
            }
            List<String> order = new ArrayList<>(workloads.keySet());
            for (int round = 0; round < settings.rounds(); round++) {
                List<String> turn = new ArrayList<>(order);
                if (round % 2 == 1) {
                    java.util.Collections.reverse(turn);
                }
                for (String name : turn) {
                    timers.get(name).run(workloads.get(name), settings.round().toNanos());
                }
                log.printf(Locale.ROOT, "  round %d of %d done%n", round + 1, settings.rounds());
            }
            List<Row> result = new ArrayList<>();
            Map<String, Timing> timings = new LinkedHashMap<>();
            for (var entry : timers.entrySet()) {
                Timing t = entry.getValue().timing();
                timings.put(entry.getKey(), t);
                String[] parts = entry.getKey().split("\\|");
                result.add(
                        new Row(
                                parts[0],
                                parts[1],
                                t.samplesPerSecond(),
                                t.cpuSamplesPerSecond(),
                                t.p50Ms(),
                                t.calls()));
            }
            Map<String, Double> ratios = new LinkedHashMap<>();
            for (String work : List.of("score", "step")) {
                double mine = timings.get(BATCHED + "|" + work).samplesPerSecond();
                ratios.put(
                        work + ": batched ÷ one DJL call per key",
                        mine / timings.get(PER_KEY + "|" + work).samplesPerSecond());
                ratios.put(
                        work + ": batched ÷ host",
                        mine / timings.get(HOST + "|" + work).samplesPerSecond());
            }
            return new Report(settings, device, gap, steppedGap, result, ratios);
        } finally {
            for (KanLearner[] set : List.of(batched, perKey, host)) {
                for (KanLearner learner : set) {
                    learner.close();
                }
            }
        }
    }

    /** Largest |pool − host| over one row per key (the host learners must equal the pooled). */
    private static double scoreGap(
            KanPool pool, KanLearner[] pooled, KanLearner[] host, float[] x) {
        int keys = pooled.length;
        int in = x.length / keys;
        float[] batched = pool.outputs(pooled, x);
        double worst = 0;
        for (int k = 0; k < keys; k++) {
            float mine = host[k].outputs(Arrays.copyOfRange(x, k * in, (k + 1) * in), 1)[0];
            worst = Math.max(worst, Math.abs(mine - batched[k]));
        }
        return worst;
    }

    /** The report as the table the command prints. */
    public static String render(Report report) {
        StringBuilder out = new StringBuilder();
        Settings s = report.settings();
        out.append(
                String.format(
                        Locale.ROOT,
                        "Batched kernel: %d keys of layers %s, device %s (host path on the CPU);"
                                + " a score call is one row per key, a step call %d labeled rows"
                                + " per key%n",
                        s.keys(),
                        s.layers(),
                        report.device(),
                        s.stepRows()));
        out.append(
                String.format(
                        Locale.ROOT,
                        "outputs: batched vs host, every key, max |Δ| %.2e fresh, %.2e after a"
                                + " step (target ≤ 1e-5: %s)%n",
                        report.scoreGap(),
                        report.steppedScoreGap(),
                        withinTolerance(report) ? "met" : "NOT MET"));
        out.append(
                String.format(
                        Locale.ROOT,
                        "%-22s %-6s %14s %16s %12s %7s%n",
                        "path",
                        "work",
                        "events/s",
                        "events/CPU-s",
                        "call p50 ms",
                        "calls"));
        for (Row row : report.rows()) {
            out.append(
                    String.format(
                            Locale.ROOT,
                            "%-22s %-6s %14.0f %16.0f %12.3f %7d%n",
                            row.path(),
                            row.work(),
                            row.eventsPerSecond(),
                            row.cpuEventsPerSecond(),
                            row.callMillisP50(),
                            row.calls()));
        }
        for (var ratio : report.ratios().entrySet()) {
            out.append(
                    String.format(Locale.ROOT, "%-40s %8.2f×%n", ratio.getKey(), ratio.getValue()));
        }
        return out.toString();
    }

    /** Whether the batched outputs stayed within 1e-5 of the host path's for every key. */
    public static boolean withinTolerance(Report report) {
        return report.scoreGap() <= 1e-5 && report.steppedScoreGap() <= 1e-5;
    }
}
