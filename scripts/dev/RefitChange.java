import io.kanstream.kan.EfficientKanWeights;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How much a same-size refit from a sample changes the efficient-kan reference networks' outputs
 * (docs/learning.md, "Same-size refit on the efficient-kan cases"): relative L2 over the refit
 * sample (what EfficientKanInteropTest asserts), over each quarter of the sample when the refit saw
 * only the other three (4-fold: a refit that merely memorizes its sample shows here), and over the
 * cases' in-grid inputs. Run from the checkout after a build:
 *
 *   java -cp "$(cat jobs/target/runtime-classpath.txt)" scripts/dev/RefitChange.java
 */
public class RefitChange {
    static final Path DIR = Path.of("data", "reference", "efficient-kan");

    public static void main(String[] args) throws Exception {
        for (String name : List.of("k3g5_3-5-2", "k2g8_4-8-1")) {
            float[][] sample = csv(name + ".refit-sample.csv");
            float[][] inputs = csv(name + ".input.csv");
            double[] whole = new double[2];
            double[] grid = new double[2];
            try (KanLearner learner = load(name)) {
                float[] before = learner.outputs(flat(sample), sample.length);
                float[] beforeInputs = learner.outputs(flat(inputs), inputs.length);
                learner.refit(flat(sample), sample.length, learner.config().gridSize());
                add(whole, before, learner.outputs(flat(sample), sample.length));
                add(grid, beforeInputs, learner.outputs(flat(inputs), inputs.length));
            }
            int folds = 4;
            double[] held = new double[2];
            for (int f = 0; f < folds; f++) {
                List<float[]> fit = new ArrayList<>();
                List<float[]> out = new ArrayList<>();
                for (int r = 0; r < sample.length; r++) {
                    (r % folds == f ? out : fit).add(sample[r]);
                }
                float[][] fitRows = fit.toArray(float[][]::new);
                float[][] outRows = out.toArray(float[][]::new);
                try (KanLearner learner = load(name)) {
                    float[] before = learner.outputs(flat(outRows), outRows.length);
                    learner.refit(flat(fitRows), fitRows.length, learner.config().gridSize());
                    add(held, before, learner.outputs(flat(outRows), outRows.length));
                }
            }
            System.out.printf(
                    "%s same-size refit, relative L2 change: on the sample %.4f, held out (4-fold)"
                            + " %.4f, on %s.input.csv %.4f%n",
                    name, rel(whole), rel(held), name, rel(grid));
        }
    }

    static KanLearner load(String name) throws Exception {
        return EfficientKanWeights.importLearner(
                DIR.resolve(name + ".weights.npz"),
                KanConfig.builder(List.of(1, 1)).device("cpu"),
                null);
    }

    static void add(double[] sums, float[] before, float[] after) {
        for (int q = 0; q < before.length; q++) {
            sums[0] += Math.pow(after[q] - before[q], 2);
            sums[1] += Math.pow(before[q], 2);
        }
    }

    static double rel(double[] sums) {
        return Math.sqrt(sums[0] / sums[1]);
    }

    static float[][] csv(String name) throws Exception {
        return Files.readAllLines(DIR.resolve(name)).stream()
                .filter(line -> !line.isBlank())
                .map(
                        line -> {
                            String[] cells = line.split(",");
                            float[] row = new float[cells.length];
                            for (int c = 0; c < cells.length; c++) {
                                row[c] = Float.parseFloat(cells[c].trim());
                            }
                            return row;
                        })
                .toArray(float[][]::new);
    }

    static float[] flat(float[][] rows) {
        int width = rows[0].length;
        float[] flat = new float[rows.length * width];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * width, width);
        }
        return flat;
    }
}
