package io.kanstream.jobs.evaluate;

import io.kanstream.eval.OnlineLinear;
import io.kanstream.eval.Target;
import io.kanstream.jobs.fit.MiniBatchTraining;
import io.kanstream.jobs.replay.ReplaySettings;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.Task;
import io.kanstream.stream.OnlineKanConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The KAN paper's toy problem {@code y = exp(sin(π x0) + x1²)}, x uniform in [-1, 1]², trained the
 * way {@code fit} trains by default ({@link MiniBatchTraining.Plan#defaults()}, mini-batches of 32,
 * layers 2,5,1, fit's momentum {@link MiniBatchTraining#BETA1}) and measured on held-out rows; the
 * prequential RMSE scores each mini-batch of the first pass before the model learns from it. No
 * drift detector acts here, as in {@code fit}: only variants that change the model or the refit
 * policy differ from the defaults. The baselines are the reference KAN trained in one pass in order
 * at a constant rate ({@code kan-one-pass}, what {@code fit} did by default before, and how the
 * stream learns) and the online linear model, learning row by row.
 */
record ToyStream(int rows, int testRows) implements SuiteStream {
    static final int BATCH = 32;
    static final List<String> FIGURES = List.of("test_rmse", "rmse");
    static final String ONE_PASS = "kan-one-pass";

    @Override
    public String name() {
        return "toy";
    }

    @Override
    public String description() {
        return "y = exp(sin(pi x0) + x1^2), x ~ U(-1,1)^2: "
                + rows
                + " training rows, layers 2,5,1, batch "
                + BATCH
                + ", fit's default passes ("
                + MiniBatchTraining.Plan.DEFAULT_EPOCHS
                + ", shuffled, the rate annealed over the last "
                + Math.round(100 * MiniBatchTraining.Plan.DEFAULT_COOLDOWN)
                + "% of steps; "
                + ONE_PASS
                + ": one pass in order at a constant rate)"
                + ", test RMSE on "
                + testRows
                + " held-out rows";
    }

    @Override
    public String task() {
        return "regression";
    }

    @Override
    public List<String> figures() {
        return FIGURES;
    }

    @Override
    public Map<String, Map<String, Double>> run(long seed, List<KanVariant> variants) {
        Sample train = sample(new SplittableRandom(seed), rows);
        Sample test = sample(new SplittableRandom(~seed), testRows);
        ReplaySettings base =
                ReplaySettings.builder()
                        .hidden(List.of(5))
                        .batchSize(BATCH)
                        .model(m -> MiniBatchTraining.offline(m.seed(seed)))
                        .build();
        Map<String, Map<String, Double>> figures = new LinkedHashMap<>();
        for (KanVariant variant : variants) {
            figures.put(
                    variant.name(),
                    kan(variant, base, MiniBatchTraining.Plan.defaults(), train, test));
        }
        figures.put(
                ONE_PASS,
                kan(variants.get(0), base, MiniBatchTraining.Plan.onePassInOrder(), train, test));
        figures.put("linear", linear(train, test));
        return figures;
    }

    private static Map<String, Double> kan(
            KanVariant variant,
            ReplaySettings base,
            MiniBatchTraining.Plan plan,
            Sample train,
            Sample test) {
        ReplaySettings settings = variant.settings().apply(base);
        KanConfig model = variant.model().apply(settings.model(2, 1, Task.REGRESSION)).build();
        OnlineKanConfig online = variant.online().apply(settings.online(model)).build();
        try (KanLearner learner = KanLearner.create(model)) {
            double[] prequential = new double[1];
            MiniBatchTraining.train(
                    learner,
                    train.x,
                    train.y,
                    train.n(),
                    online.batchSize(),
                    plan,
                    online.refitPolicy(),
                    "toy",
                    (x, y, n) -> {
                        float[] out = learner.outputs(x, n);
                        for (int r = 0; r < n; r++) {
                            prequential[0] += square(out[r] - y[r]);
                        }
                    },
                    (epoch, pass) -> {});
            float[] out = learner.outputs(test.x, test.n());
            double sum = 0;
            for (int r = 0; r < test.n(); r++) {
                sum += square(out[r] - test.y[r]);
            }
            Map<String, Double> figures =
                    figures(Math.sqrt(sum / test.n()), Math.sqrt(prequential[0] / train.n()));
            figures.put("refits", (double) learner.gridEpoch());
            return figures;
        }
    }

    private static Map<String, Double> linear(Sample train, Sample test) {
        OnlineLinear linear =
                new OnlineLinear(OnlineLinear.Config.defaults(Target.regression(), 2));
        double prequential = 0;
        for (int r = 0; r < train.n(); r++) {
            float[] x = train.row(r);
            prequential += square(linear.predict(x).value() - train.y[r]);
            linear.learn(x, train.y[r]);
        }
        double sum = 0;
        for (int r = 0; r < test.n(); r++) {
            sum += square(linear.predict(test.row(r)).value() - test.y[r]);
        }
        return figures(Math.sqrt(sum / test.n()), Math.sqrt(prequential / train.n()));
    }

    private static Map<String, Double> figures(double testRmse, double prequentialRmse) {
        Map<String, Double> figures = new LinkedHashMap<>();
        figures.put("test_rmse", testRmse);
        figures.put("rmse", prequentialRmse);
        return figures;
    }

    private static double square(double v) {
        return v * v;
    }

    private static Sample sample(SplittableRandom random, int n) {
        float[] x = new float[n * 2]; // (n, 2)
        double[] y = new double[n];
        for (int r = 0; r < n; r++) {
            float x0 = (float) (2 * random.nextDouble() - 1);
            float x1 = (float) (2 * random.nextDouble() - 1);
            x[2 * r] = x0;
            x[2 * r + 1] = x1;
            y[r] = Math.exp(Math.sin(Math.PI * x0) + x1 * x1);
        }
        return new Sample(x, y);
    }

    /** Rows of the toy problem: x (n, 2) row-major, y (n). */
    private record Sample(float[] x, double[] y) {
        int n() {
            return y.length;
        }

        float[] row(int r) {
            return new float[] {x[2 * r], x[2 * r + 1]};
        }
    }
}
