package io.kanstream.jobs.replay;

import io.kanstream.eval.MajorityClass;
import io.kanstream.eval.MetricsConfig;
import io.kanstream.eval.NoChange;
import io.kanstream.eval.OnlineBaseline;
import io.kanstream.eval.OnlineLinear;
import io.kanstream.eval.Prediction;
import io.kanstream.eval.Reliability;
import io.kanstream.eval.Target;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import io.kanstream.stream.Label;
import io.kanstream.stream.Metric;
import io.kanstream.stream.Score;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.types.Either;

/**
 * Prequential evaluation of a replay: the KAN's scores (from the operator) and the baselines on the
 * very same sequence, each predicting before it sees the label and learning only when the label
 * arrives.
 *
 * <p>Baselines, per key like the KAN: no-change (the key's last label), majority class (the running
 * mean for regression), an online linear/logistic model on the same inputs, and the KAN frozen
 * after a warm-up — the same model and settings, learning from the first {@code warmup} labels
 * only: what continual adaptation is worth.
 */
public final class ReplayEvaluator {
    static final List<String> MODELS = List.of("kan", "no_change", "majority", "linear", "frozen");

    /** Models whose reliability diagram the evaluation keeps, for the report to draw. */
    static final List<String> DIAGRAMS = List.of("kan", "linear", "no_change");

    /** Settings of the evaluation. */
    /**
     * @param warmStart the model file every key's KAN started from, or null for fresh ones: the
     *     frozen baseline starts from it too
     */
    public record Settings(
            MetricsConfig metrics,
            int warmup,
            int batchSize,
            RefitPolicy refitPolicy,
            int points,
            byte[] warmStart) {}

    private ReplayEvaluator() {}

    public static ReplayEvaluation evaluate(
            HistoryTable table,
            List<Either<Event, Label>> sequence,
            ReplayRunner.Outputs outputs,
            KanConfig model,
            Settings settings) {
        Task task = table.task();
        int classes = table.outputs();
        Target target =
                task == Task.REGRESSION
                        ? Target.regression()
                        : task == Task.BINARY ? Target.binary() : Target.multiclass(classes);
        int n = table.rows().size();
        Score[] scores = new Score[n];
        for (Score s : outputs.scores()) {
            scores[ReplaySequence.index(s.id())] = s;
        }
        for (int i = 0; i < n; i++) {
            if (scores[i] == null) {
                throw new IllegalStateException("the operator emitted no score for row " + i);
            }
        }
        Prediction[] kan = new Prediction[n];
        for (int i = 0; i < n; i++) {
            kan[i] = kanPrediction(task, classes, scores[i]);
        }
        Start start = Start.of(settings.warmStart());
        Prediction[][] baseline = baselinePredictions(sequence, n, target, model, settings);

        Map<String, ModelTrack> overall = new LinkedHashMap<>();
        for (String name : MODELS) {
            overall.put(name, new ModelTrack(task, classes, settings.metrics()));
        }
        Map<String, Map<String, ModelTrack>> perKey = new TreeMap<>();
        List<ReplayEvaluation.TimelinePoint> timeline = new ArrayList<>();
        int every = Math.max(1, n / Math.max(1, settings.points()));
        long labeled = 0;
        for (int i = 0; i < n; i++) {
            HistoryRow row = table.rows().get(i);
            if (row.labeled()) {
                labeled++;
                overall.get("kan").add(row.label(), kan[i]);
                for (int b = 0; b < 4; b++) {
                    overall.get(MODELS.get(b + 1)).add(row.label(), baseline[b][i]);
                }
                Map<String, ModelTrack> own =
                        perKey.computeIfAbsent(
                                row.key(),
                                k -> {
                                    Map<String, ModelTrack> m = new LinkedHashMap<>();
                                    m.put("kan", new ModelTrack(task, classes, settings.metrics()));
                                    m.put(
                                            "no_change",
                                            new ModelTrack(task, classes, settings.metrics()));
                                    return m;
                                });
                own.get("kan").add(row.label(), kan[i]);
                own.get("no_change").add(row.label(), baseline[0][i]);
            }
            if ((i + 1) % every == 0 || i == n - 1) {
                Map<String, Double> window = new LinkedHashMap<>();
                Map<String, Double> cumulative = new LinkedHashMap<>();
                for (String name : MODELS) {
                    ModelTrack track = overall.get(name);
                    window.put(name, track.window().get(track.headline()));
                    cumulative.put(name, track.cumulative().get(track.headline()));
                }
                timeline.add(new ReplayEvaluation.TimelinePoint(i, row.ts(), window, cumulative));
            }
        }
        Map<String, Map<String, Double>> overallFigures = new LinkedHashMap<>();
        overall.forEach((name, track) -> overallFigures.put(name, track.cumulative()));
        Map<String, Reliability.Diagram> reliability = new LinkedHashMap<>();
        if (task != Task.REGRESSION) {
            for (String name : DIAGRAMS) {
                reliability.put(name, overall.get(name).reliability());
            }
        }
        Map<String, Map<String, Map<String, Double>>> perKeyFigures = new TreeMap<>();
        perKey.forEach(
                (key, tracks) -> {
                    Map<String, Map<String, Double>> m = new LinkedHashMap<>();
                    tracks.forEach((name, track) -> m.put(name, track.cumulative()));
                    perKeyFigures.put(key, m);
                });
        return new ReplayEvaluation(
                overall.get("kan").headline(),
                n,
                labeled,
                overallFigures,
                perKeyFigures,
                timeline,
                driftRows(table, outputs.metrics()),
                refitRows(table, scores, start.gridEpoch),
                lastSteps(outputs.metrics(), start.steps),
                reliability);
    }

    private static Prediction kanPrediction(Task task, int classes, Score score) {
        return switch (task) {
            case REGRESSION -> Prediction.of(score.prediction());
            case BINARY ->
                    Prediction.ofProbabilities(new double[] {1 - score.score(), score.score()});
            case MULTICLASS -> {
                double[] p = score.probabilities();
                if (p == null || p.length != classes) {
                    throw new IllegalStateException(
                            "score of "
                                    + score.id()
                                    + " carries "
                                    + (p == null ? "no" : String.valueOf(p.length))
                                    + " class probabilities for "
                                    + classes
                                    + " classes");
                }
                yield Prediction.ofProbabilities(p.clone());
            }
        };
    }

    /** [no_change, majority, linear, frozen][row]: each baseline's prediction at event time. */
    private static Prediction[][] baselinePredictions(
            List<Either<Event, Label>> sequence,
            int n,
            Target target,
            KanConfig model,
            Settings settings) {
        Prediction[][] predictions = new Prediction[4][n];
        Map<String, OnlineBaseline[]> perKey = new HashMap<>();
        Map<Integer, float[]> pendingFeatures = new HashMap<>();
        Map<String, KanLearner> frozen = new HashMap<>();
        Map<String, FrozenBuffer> frozenBuffers = new HashMap<>();
        List<Integer> afterWarmup = new ArrayList<>();
        Map<Integer, String> afterWarmupKey = new HashMap<>();
        try {
            for (Either<Event, Label> element : sequence) {
                if (element.isLeft()) {
                    Event e = element.left();
                    int i = ReplaySequence.index(e.id());
                    float[] x = e.features();
                    OnlineBaseline[] own =
                            perKey.computeIfAbsent(
                                    e.key(),
                                    k ->
                                            new OnlineBaseline[] {
                                                new NoChange(target),
                                                new MajorityClass(target),
                                                new OnlineLinear(
                                                        OnlineLinear.Config.defaults(
                                                                target, x.length))
                                            });
                    for (int b = 0; b < 3; b++) {
                        predictions[b][i] = own[b].predict(x);
                    }
                    KanLearner learner =
                            frozen.computeIfAbsent(
                                    e.key(),
                                    k ->
                                            settings.warmStart() != null
                                                    ? LearnerStateCodec.decode(
                                                            settings.warmStart(), "cpu")
                                                    : KanLearner.create(model));
                    FrozenBuffer buffer =
                            frozenBuffers.computeIfAbsent(
                                    e.key(), k -> new FrozenBuffer(settings.batchSize()));
                    if (buffer.learned < settings.warmup()) {
                        predictions[3][i] = kanPrediction(target, learner.score(x, 1));
                    } else {
                        afterWarmup.add(i);
                        afterWarmupKey.put(i, e.key());
                    }
                    pendingFeatures.put(i, x);
                    if (e.label() != null) {
                        learn(own, learner, buffer, x, e.label(), settings);
                        pendingFeatures.remove(i);
                    }
                } else {
                    Label l = element.right();
                    int i = ReplaySequence.index(l.id());
                    float[] x = pendingFeatures.remove(i);
                    if (x != null) {
                        learn(
                                perKey.get(l.key()),
                                frozen.get(l.key()),
                                frozenBuffers.get(l.key()),
                                x,
                                l.label(),
                                settings);
                    }
                }
            }
            // The frozen model no longer changes: score what came after its warm-up in one go.
            Map<String, List<Integer>> byKey = new HashMap<>();
            for (int i : afterWarmup) {
                byKey.computeIfAbsent(afterWarmupKey.get(i), k -> new ArrayList<>()).add(i);
            }
            for (Map.Entry<String, List<Integer>> entry : byKey.entrySet()) {
                KanLearner learner = frozen.get(entry.getKey());
                List<Integer> rows = entry.getValue();
                int in = learner.inputs();
                int out = learner.outputs();
                for (int start = 0; start < rows.size(); start += 4096) {
                    int count = Math.min(4096, rows.size() - start);
                    float[] batch = new float[count * in];
                    for (int r = 0; r < count; r++) {
                        float[] x = featuresOf(sequence, rows.get(start + r));
                        System.arraycopy(x, 0, batch, r * in, in);
                    }
                    float[] o = learner.outputs(batch, count);
                    for (int r = 0; r < count; r++) {
                        float[] one = java.util.Arrays.copyOfRange(o, r * out, (r + 1) * out);
                        predictions[3][rows.get(start + r)] = kanPrediction(target, one);
                    }
                }
            }
        } finally {
            frozen.values().forEach(KanLearner::close);
        }
        return predictions;
    }

    private static float[] featuresOf(List<Either<Event, Label>> sequence, int index) {
        // events appear in row order, each followed by at most one label: search near index
        for (int q = Math.min(index, sequence.size() - 1); q < sequence.size(); q++) {
            Either<Event, Label> element = sequence.get(q);
            if (element.isLeft() && ReplaySequence.index(element.left().id()) == index) {
                return element.left().features();
            }
        }
        throw new IllegalStateException("row " + index + " is not in the sequence");
    }

    /** The frozen KAN's mini-batch while it still learns. */
    private static final class FrozenBuffer {
        final List<float[]> rows = new ArrayList<>();
        final List<Double> labels = new ArrayList<>();
        final int size;
        int learned;

        FrozenBuffer(int size) {
            this.size = size;
        }
    }

    private static void learn(
            OnlineBaseline[] baselines,
            KanLearner frozen,
            FrozenBuffer buffer,
            float[] x,
            double label,
            Settings settings) {
        for (OnlineBaseline b : baselines) {
            b.learn(x, label);
        }
        if (buffer.learned >= settings.warmup()) {
            return;
        }
        buffer.rows.add(x);
        buffer.labels.add(label);
        buffer.learned++;
        if (buffer.rows.size() == buffer.size || buffer.learned == settings.warmup()) {
            int in = x.length;
            float[] rows = new float[buffer.rows.size() * in];
            double[] labels = new double[buffer.rows.size()];
            for (int r = 0; r < labels.length; r++) {
                System.arraycopy(buffer.rows.get(r), 0, rows, r * in, in);
                labels[r] = buffer.labels.get(r);
            }
            frozen.learn(rows, labels);
            frozen.refitIfDue(settings.refitPolicy());
            buffer.rows.clear();
            buffer.labels.clear();
        }
    }

    private static Prediction kanPrediction(Target target, float[] outputs) {
        Task task = target.task();
        if (task == Task.REGRESSION) {
            return Prediction.of(outputs[0]);
        }
        if (task == Task.BINARY) {
            double p = task.score(outputs, 0, 1);
            return Prediction.ofProbabilities(new double[] {1 - p, p});
        }
        return Prediction.ofProbabilities(Task.softmax(outputs, 0, outputs.length));
    }

    private static List<Integer> driftRows(HistoryTable table, List<Metric> metrics) {
        Map<String, Integer> firstRow = rowLookup(table);
        TreeSet<Integer> rows = new TreeSet<>();
        for (Metric m : metrics) {
            if (m.drift()) {
                Integer row = firstRow.get(m.key() + "@" + m.ts());
                if (row != null) {
                    rows.add(row);
                }
            }
        }
        return List.copyOf(rows);
    }

    private static Map<String, Integer> rowLookup(HistoryTable table) {
        Map<String, Integer> lookup = new HashMap<>();
        for (HistoryRow row : table.rows()) {
            lookup.putIfAbsent(row.key() + "@" + row.ts(), row.index());
        }
        return lookup;
    }

    /**
     * Where every key's model started: a fresh one at step 0 and grid epoch 0, or the warm start's
     * counters, so that the replay's steps and refits are its own.
     */
    private record Start(long steps, int gridEpoch) {
        static Start of(byte[] warmStart) {
            if (warmStart == null) {
                return new Start(0, 0);
            }
            try (KanLearner learner = LearnerStateCodec.decode(warmStart, "cpu")) {
                return new Start(learner.steps(), learner.gridEpoch());
            }
        }
    }

    private static List<Integer> refitRows(HistoryTable table, Score[] scores, int startEpoch) {
        Map<String, Integer> epoch = new HashMap<>();
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            String key = table.rows().get(i).key();
            int previous = epoch.getOrDefault(key, startEpoch);
            if (scores[i].gridEpoch() > previous) {
                rows.add(i);
            }
            epoch.put(key, scores[i].gridEpoch());
        }
        return rows;
    }

    /** The steps every key took in the replay: its last metric's count, less where it started. */
    private static long lastSteps(List<Metric> metrics, long startSteps) {
        Map<String, Long> steps = new HashMap<>();
        for (Metric m : metrics) {
            steps.merge(m.key(), m.steps(), Math::max);
        }
        return steps.values().stream().mapToLong(count -> count - startSteps).sum();
    }
}
