import io.kanstream.kan.*;
import java.util.*;
import java.util.function.*;

/**
 * The ablation of fit's training loop in docs/learning.md ("fit as an offline trainer"): six
 * regression problems x seeds x recipes, test RMSE on 10,000 noiseless held-out rows. Its loop
 * mirrors MiniBatchTraining (score, learn, refit policy per mini-batch of 32) with the recipes as
 * arguments, including ones fit does not offer (cosine, held-out keep-best). Run from the checkout
 * after a build:
 *
 *   java -cp "$(cat jobs/target/runtime-classpath.txt)" scripts/dev/FitAblation.java \
 *       50000 toy,mul "const1:1:false:const:0:0;St3:3:true:tail20:0:0" 5
 *
 * A recipe is name:epochs:shuffle:schedule:holdout:maxGrid (a name starting with S shuffles the
 * first pass too; schedules const, cos, lin, tail10, tail20, tail50, step).
 */
public class FitAblation {
    record Fn(String name, String layers, int dims, double noise, ToDoubleFunction<double[]> f, boolean sorted) {
        Fn(String name, String layers, int dims, double noise, ToDoubleFunction<double[]> f) { this(name, layers, dims, noise, f, false); }
    }

    static final List<Fn> FNS = List.of(
        new Fn("toy", "2,5,1", 2, 0, x -> Math.exp(Math.sin(Math.PI * x[0]) + x[1] * x[1])),
        new Fn("mul", "2,5,1", 2, 0, x -> x[0] * x[1]),
        new Fn("pykan4", "4,8,1", 4, 0, x -> Math.exp(0.5 * (Math.sin(Math.PI * (x[0]*x[0] + x[1]*x[1])) + Math.sin(Math.PI * (x[2]*x[2] + x[3]*x[3]))))),
        new Fn("sinexp", "3,5,1", 3, 0, x -> Math.sin(Math.PI * x[0]) + Math.exp(x[1]) + 0.5 * Math.sin(3 * x[2]) * Math.exp(-x[0])),
        new Fn("noisy", "2,5,1", 2, 0.1, x -> Math.exp(Math.sin(Math.PI * x[0]) + x[1] * x[1])),
        new Fn("sorted", "2,5,1", 2, 0, x -> Math.exp(Math.sin(Math.PI * x[0]) + x[1] * x[1]), true));

    // a training recipe
    record Recipe(String name, int epochs, boolean shuffle, String schedule, double holdout, int maxGrid) {}

    static double[][] sample(SplittableRandom r, Fn fn, int n, boolean noisy, double[] y) {
        double[][] xs = new double[n][fn.dims];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < fn.dims; d++) xs[i][d] = 2 * r.nextDouble() - 1;
            y[i] = fn.f.applyAsDouble(xs[i]);
            if (noisy && fn.noise > 0) y[i] += fn.noise * gauss(r);
        }
        return xs;
    }
    static double gauss(SplittableRandom r) {
        double u = r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
    static float[] flat(double[][] xs, int[] idx, int from, int to, int d) {
        float[] out = new float[(to - from) * d];
        for (int i = from; i < to; i++) for (int k = 0; k < d; k++) out[(i - from) * d + k] = (float) xs[idx[i]][k];
        return out;
    }
    static double rmse(KanLearner l, double[][] xs, double[] y, int[] idx, int from, int to, int d) {
        float[] out = l.outputs(flat(xs, idx, from, to, d), to - from);
        double s = 0;
        for (int i = from; i < to; i++) { double e = out[i - from] - y[idx[i]]; s += e * e; }
        return Math.sqrt(s / (to - from));
    }
    static double scale(String schedule, long t, long total) {
        double p = (t + 0.5) / total;
        switch (schedule) {
            case "const": return 1;
            case "cos": return 0.5 * (1 + Math.cos(Math.PI * p));
            case "lin": return 1 - p;
            case "tail20": return p < 0.8 ? 1 : (1 - p) / 0.2; // constant, then linear to 0 over the last 20%
            case "tail10": return p < 0.9 ? 1 : (1 - p) / 0.1;
            case "tail50": return p < 0.5 ? 1 : (1 - p) / 0.5;
            case "step": return p < 0.5 ? 1 : p < 0.75 ? 0.1 : 0.01;
            default: throw new IllegalArgumentException(schedule);
        }
    }

    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[0]);
        List<String> fnNames = Arrays.asList(a[1].split(","));
        List<Recipe> recipes = new ArrayList<>();
        for (String spec : a[2].split(";")) {
            String[] p = spec.split(":"); // name:epochs:shuffle:schedule:holdout:maxGrid
            recipes.add(new Recipe(p[0], Integer.parseInt(p[1]), Boolean.parseBoolean(p[2]), p[3], Double.parseDouble(p[4]), Integer.parseInt(p[5])));
        }
        int seeds = a.length > 3 ? Integer.parseInt(a[3]) : 5;
        double lr = a.length > 4 ? Double.parseDouble(a[4]) : 0.01;
        for (Fn fn : FNS) {
            if (!fnNames.contains(fn.name)) continue;
            for (Recipe rc : recipes) {
                double[] res = new double[seeds];
                StringBuilder per = new StringBuilder();
                long t0 = System.nanoTime();
                for (int s = 1; s <= seeds; s++) {
                    double[] y = new double[n];
                    double[][] xs = sample(new SplittableRandom(s), fn, n, true, y);
                    if (fn.sorted) {
                        Integer[] o = new Integer[n];
                        for (int i = 0; i < n; i++) o[i] = i;
                        final double[][] xs0 = xs;
                        Arrays.sort(o, Comparator.comparingDouble(i -> xs0[i][0]));
                        double[][] xs2 = new double[n][]; double[] y2 = new double[n];
                        for (int i = 0; i < n; i++) { xs2[i] = xs[o[i]]; y2[i] = y[o[i]]; }
                        xs = xs2; y = y2;
                    }
                    double[] yt = new double[10000];
                    double[][] xt = sample(new SplittableRandom(~s), fn, 10000, false, yt);
                    int[] tidx = new int[10000];
                    for (int i = 0; i < tidx.length; i++) tidx[i] = i;
                    res[s - 1] = train(fn, rc, s, xs, y, n, lr, xt, yt, tidx);
                    per.append(String.format(" %.4f", res[s - 1]));
                }
                double m = Arrays.stream(res).average().orElse(0);
                double sd = Math.sqrt(Arrays.stream(res).map(v -> (v - m) * (v - m)).sum() / (seeds - 1));
                System.out.printf("%-7s %-24s %.4f ± %.4f  [%s ] %.0fs%n", fn.name, rc.name, m, sd, per.toString().trim(), (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    static double train(Fn fn, Recipe rc, long seed, double[][] xs, double[] y, int n, double lr,
            double[][] xt, double[] yt, int[] tidx) {
        int d = fn.dims;
        KanConfig config = KanConfig.builder(KanConfig.parseLayers(fn.layers)).seed(seed).learningRate(lr).beta1(0.9).constantRate().build(); // fit's momentum and constant rate (MiniBatchTraining.offline)
        RefitPolicy policy = RefitPolicy.defaults();
        if (rc.maxGrid > 0) policy = policy.withExtension(rc.maxGrid);
        int batch = 32;
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        int nTrain = (int) Math.round(n * (1 - rc.holdout));
        SplittableRandom shuffler = new SplittableRandom(seed * 7919 + 1);
        long perEpoch = (nTrain + batch - 1) / batch;
        long total = perEpoch * rc.epochs;
        long t = 0;
        byte[] best = null;
        double bestVal = Double.POSITIVE_INFINITY;
        try (KanLearner l = KanLearner.create(config)) {
            for (int e = 0; e < rc.epochs; e++) {
                if (rc.shuffle && (e > 0 || rc.name.startsWith("S"))) {
                    for (int i = nTrain - 1; i > 0; i--) { int j = shuffler.nextInt(i + 1); int tmp = idx[i]; idx[i] = idx[j]; idx[j] = tmp; }
                }
                for (int start = 0; start < nTrain; start += batch) {
                    int end = Math.min(nTrain, start + batch);
                    float[] x = flat(xs, idx, start, end, d);
                    double[] yy = new double[end - start];
                    for (int i = start; i < end; i++) yy[i - start] = y[idx[i]];
                    l.score(x, end - start);
                    double sc = scale(rc.schedule, t++, total);
                    if (sc != 1) l.boostLearningRate(sc, 1);
                    l.learn(x, yy);
                    l.refitIfDue(policy);
                }
                if (rc.holdout > 0) {
                    double v = rmse(l, xs, y, idx, nTrain, n, d);
                    if (v < bestVal) { bestVal = v; best = LearnerStateCodec.encode(l); }
                }
            }
            if (best != null) {
                try (KanLearner b = LearnerStateCodec.decode(best)) { return rmse(b, xt, yt, tidx, 0, tidx.length, d); }
            }
            return rmse(l, xt, yt, tidx, 0, tidx.length, d);
        }
    }
}
