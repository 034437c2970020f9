package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class EfficientKanInteropTest {
    static final List<String> CASES = ReferenceData.CASES;

    @TempDir Path temp;

    private static KanLearner importCase(String name) throws Exception {
        return EfficientKanWeights.importLearner(
                ReferenceData.file(name + ".weights.npz"),
                // the network alone: no parameter average mixed into its outputs
                KanConfig.builder(List.of(1, 1)).device("cpu").averageHorizon(0),
                null);
    }

    @ParameterizedTest
    @FieldSource("CASES")
    void importedModelReproducesEfficientKanOutputs(String name) throws Exception {
        float[][] input = ReferenceData.csv(name + ".input.csv");
        float[] expected = ReferenceData.flat(ReferenceData.csv(name + ".output.csv"));
        try (KanLearner learner = importCase(name)) {
            float[] actual = learner.outputs(ReferenceData.flat(input), input.length);
            assertThat(actual).hasSameSizeAs(expected);
            for (int q = 0; q < expected.length; q++) {
                assertThat(actual[q]).as("output %d", q).isCloseTo(expected[q], within(1e-4f));
            }
        }
    }

    @ParameterizedTest
    @FieldSource("CASES")
    void exportWritesWhatImportReadsBitForBit(String name) throws Exception {
        Path exported = temp.resolve(name + ".npz");
        try (KanLearner original = importCase(name)) {
            EfficientKanWeights.write(original, exported);
            List<LayerParameters> before = original.parameters();
            List<LayerParameters> after = EfficientKanWeights.read(exported);
            assertThat(after).hasSameSizeAs(before);
            for (int l = 0; l < before.size(); l++) {
                assertThat(after.get(l).baseWeight()).containsExactly(before.get(l).baseWeight());
                assertThat(after.get(l).splineWeight())
                        .containsExactly(before.get(l).splineWeight());
                assertThat(after.get(l).splineScaler())
                        .containsExactly(before.get(l).splineScaler());
                assertThat(after.get(l).grid().toArray())
                        .isDeepEqualTo(before.get(l).grid().toArray());
            }
        }
        // numpy's own reader needs these exact entry names (np.load → state_dict keys)
        try (var zip = new java.util.zip.ZipFile(exported.toFile())) {
            assertThat(zip.stream().map(java.util.zip.ZipEntry::getName))
                    .contains(
                            "layers.0.grid.npy",
                            "layers.0.base_weight.npy",
                            "layers.0.spline_weight.npy",
                            "layers.0.spline_scaler.npy");
        }
    }

    @ParameterizedTest
    @FieldSource("CASES")
    void refitCoversTheSampleAndChangesOutputsLessThanEfficientKan(String name) throws Exception {
        float[][] sample = ReferenceData.csv(name + ".refit-sample.csv");
        float[] rows = ReferenceData.flat(sample);
        double efficientKanFixed =
                ReferenceData.manifestFigure(
                        name, "efficient_kan_refit_scaler_fixed_rel_l2_change");
        try (KanLearner learner = importCase(name)) {
            float[] before = learner.outputs(rows, sample.length);
            RefitResult result = learner.refit(rows, sample.length, learner.config().gridSize());
            float[] after = learner.outputs(rows, sample.length);
            double change = ReferenceData.relativeL2(before, after);
            System.out.printf(
                    "%s refit: relative L2 change %.4f (efficient-kan with the scaler fixed %.4f)%n",
                    name, change, efficientKanFixed);
            assertThat(change).isLessThanOrEqualTo(efficientKanFixed);
            assertThat(coverage(learner.grid(0), sample)).isGreaterThanOrEqualTo(0.99);
            assertThat(result.insideFraction()[0]).isGreaterThanOrEqualTo(0.99);
        }
    }

    /**
     * The change on rows the refit did not see, each quarter of the sample refit from the other
     * three: a refit that memorized its sample would change its own rows little and these a lot.
     * Also prints the change on the case's in-grid inputs.
     */
    @ParameterizedTest
    @FieldSource("CASES")
    void refitChangesRowsItDidNotSeeAboutAsMuchAsItsOwn(String name) throws Exception {
        float[][] sample = ReferenceData.csv(name + ".refit-sample.csv");
        float[] rows = ReferenceData.flat(sample);
        float[] inputs = ReferenceData.flat(ReferenceData.csv(name + ".input.csv"));
        int inputRows = inputs.length / sample[0].length;
        double own;
        double inGrid;
        try (KanLearner learner = importCase(name)) {
            float[] before = learner.outputs(rows, sample.length);
            float[] beforeInputs = learner.outputs(inputs, inputRows);
            learner.refit(rows, sample.length, learner.config().gridSize());
            own = ReferenceData.relativeL2(before, learner.outputs(rows, sample.length));
            inGrid = ReferenceData.relativeL2(beforeInputs, learner.outputs(inputs, inputRows));
        }
        int folds = 4;
        float[] before = new float[0];
        float[] after = new float[0];
        for (int f = 0; f < folds; f++) {
            java.util.List<float[]> seen = new java.util.ArrayList<>();
            java.util.List<float[]> unseen = new java.util.ArrayList<>();
            for (int r = 0; r < sample.length; r++) {
                (r % folds == f ? unseen : seen).add(sample[r]);
            }
            float[] fit = ReferenceData.flat(seen.toArray(float[][]::new));
            float[] held = ReferenceData.flat(unseen.toArray(float[][]::new));
            try (KanLearner learner = importCase(name)) {
                before = concat(before, learner.outputs(held, unseen.size()));
                learner.refit(fit, seen.size(), learner.config().gridSize());
                after = concat(after, learner.outputs(held, unseen.size()));
            }
        }
        double heldOut = ReferenceData.relativeL2(before, after);
        System.out.printf(
                "%s refit: relative L2 change %.4f on the sample, %.4f held out (4-fold), %.4f on"
                        + " the in-grid inputs%n",
                name, own, heldOut, inGrid);
        assertThat(heldOut).isLessThanOrEqualTo(1.5 * own);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    @ParameterizedTest
    @FieldSource("CASES")
    void refitOntoAThreeTimesFinerGridChangesOutputsAtMostTenPercent(String name) throws Exception {
        float[][] sample = ReferenceData.csv(name + ".refit-sample.csv");
        float[] rows = ReferenceData.flat(sample);
        try (KanLearner learner = importCase(name)) {
            int finer = 3 * learner.config().gridSize();
            float[] before = learner.outputs(rows, sample.length);
            learner.refit(rows, sample.length, finer);
            float[] after = learner.outputs(rows, sample.length);
            double change = ReferenceData.relativeL2(before, after);
            System.out.printf("%s refit onto G=%d: relative L2 change %.4f%n", name, finer, change);
            assertThat(learner.config().gridSize()).isEqualTo(finer);
            assertThat(learner.grid(0).gridSize()).isEqualTo(finer);
            assertThat(change).isLessThanOrEqualTo(0.10);
            assertThat(coverage(learner.grid(0), sample)).isGreaterThanOrEqualTo(0.99);
        }
    }

    /** Worst feature's fraction of sample values inside the interior [t_k, t_(G+k)]. */
    static double coverage(KnotGrid grid, float[][] sample) {
        double worst = 1;
        for (int i = 0; i < grid.features(); i++) {
            int inside = 0;
            for (float[] row : sample) {
                if (row[i] >= grid.interiorLow(i) && row[i] <= grid.interiorHigh(i)) {
                    inside++;
                }
            }
            worst = Math.min(worst, (double) inside / sample.length);
        }
        return worst;
    }

    @org.junit.jupiter.api.Test
    void importNamesTheFileWhenItIsNotAnNpz() throws Exception {
        Path bogus = temp.resolve("bogus.npz");
        Files.writeString(bogus, "not a zip");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EfficientKanWeights.read(bogus))
                .hasMessageContaining(bogus.toString());
    }
}
