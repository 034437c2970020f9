package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KanLearnerTest {

    /** A young model's first step moves its weights {@link KanConfig#initialRate} times as far. */
    @Test
    void aYoungModelsFirstStepIsItsInitialRateTimesAConstantRatesStep() {
        KanConfig young = KanConfig.builder(List.of(2, 3, 1)).seed(7).build();
        KanConfig constant = young.toBuilder().constantRate().build();
        double ratio = firstStepMove(young) / firstStepMove(constant);
        assertThat(young.initialRate(1)).isCloseTo(3 - 2.0 / 300, within(1e-12));
        assertThat(ratio).isCloseTo(young.initialRate(1), within(1e-3));
        assertThat(young.initialRate(300)).isEqualTo(1);
    }

    /** The largest change one labeled example makes to a fresh learner's spline weights. */
    private static double firstStepMove(KanConfig config) {
        try (KanLearner learner = KanLearner.create(config)) {
            float[] before = learner.parameters().get(0).splineWeight().clone();
            learner.learn(new float[] {0.3f, -0.4f}, new double[] {1.5});
            float[] after = learner.parameters().get(0).splineWeight();
            double largest = 0;
            for (int i = 0; i < before.length; i++) {
                largest = Math.max(largest, Math.abs(after[i] - before[i]));
            }
            return largest;
        }
    }

    private static KanConfig.Builder config(Integer... layers) {
        return KanConfig.builder(List.of(layers)).device("cpu").seed(7);
    }

    @Test
    void closedFormGradientsMatchAutograd() {
        try (KanLearner learner =
                KanLearner.create(config(3, 4, 2).task(Task.MULTICLASS).normalize(false).build())) {
            DeviceKan mirror = learner.onDevice();
            KanNetwork network = mirror.network;
            SplittableRandom random = new SplittableRandom(3);
            int n = 16;
            float[] x = new float[n * 3];
            float[] dOut = new float[n * 2];
            for (int q = 0; q < x.length; q++) {
                x[q] = (float) (random.nextDouble() * 2.4 - 1.2); // partly outside the grid
            }
            for (int q = 0; q < dOut.length; q++) {
                dOut[q] = (float) random.nextGaussian();
            }
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray input = mirror.manager.create(x, new Shape(n, 3));
                NDArray upstream = mirror.manager.create(dOut, new Shape(n, 2));
                List<KanLayer.Gradients> closedForm =
                        network.backward(network.forward(input), upstream);
                for (KanLayer layer : network.layers()) {
                    for (NDArray p : layer.parameters()) {
                        p.setRequiresGradient(true);
                    }
                }
                try (GradientCollector collector =
                        Engine.getEngine("PyTorch").newGradientCollector()) {
                    List<KanLayer.Activations> activations = network.forward(input);
                    NDArray out = activations.get(activations.size() - 1).output();
                    collector.backward(out.mul(upstream).sum());
                }
                for (int l = 0; l < network.size(); l++) {
                    NDArray[] params = network.layer(l).parameters();
                    NDArray[] grads = closedForm.get(l).all();
                    for (int p = 0; p < 3; p++) {
                        float[] expected = params[p].getGradient().toFloatArray();
                        float[] actual = grads[p].toFloatArray();
                        for (int q = 0; q < expected.length; q++) {
                            assertThat(actual[q])
                                    .as("layer %d parameter %d element %d", l, p, q)
                                    .isCloseTo(
                                            expected[q],
                                            within(1e-4f + 1e-4f * Math.abs(expected[q])));
                        }
                    }
                }
            }
        }
    }

    @Test
    void regressionLossFallsOnASmoothFunctionOfRawScaleInputs() {
        // inputs in the thousands and a target in the hundreds: the normalizer must cope
        try (KanLearner learner = KanLearner.create(config(2, 5, 1).learningRate(0.02).build())) {
            SplittableRandom random = new SplittableRandom(11);
            double first = 0;
            double last = 0;
            for (int step = 0; step < 400; step++) {
                float[] rows = new float[32 * 2];
                double[] labels = new double[32];
                for (int s = 0; s < 32; s++) {
                    double a = random.nextDouble() * 2 - 1;
                    double b = random.nextDouble() * 2 - 1;
                    rows[2 * s] = (float) (1000 + 500 * a);
                    rows[2 * s + 1] = (float) (-3 * b);
                    labels[s] = 300 + 100 * Math.sin(Math.PI * a) + 50 * b * b;
                }
                StepResult result = learner.learn(rows, labels);
                assertThat(result.applied()).isTrue();
                if (step < 20) {
                    first += result.loss() / 20;
                }
                if (step >= 380) {
                    last += result.loss() / 20;
                }
            }
            assertThat(last).isLessThan(first * 0.1);
            assertThat(learner.steps()).isEqualTo(400);
        }
    }

    @Test
    void binaryAndMulticlassTasksLearnToSeparateClasses() {
        for (Task task : List.of(Task.BINARY, Task.MULTICLASS)) {
            int outputs = task == Task.BINARY ? 1 : 3;
            try (KanLearner learner =
                    KanLearner.create(
                            config(2, 6, outputs).task(task).learningRate(0.02).build())) {
                SplittableRandom random = new SplittableRandom(5);
                for (int step = 0; step < 300; step++) {
                    float[] rows = new float[64];
                    double[] labels = new double[32];
                    sample(random, rows, labels, outputs);
                    learner.learn(rows, labels);
                }
                float[] rows = new float[2000];
                double[] labels = new double[1000];
                sample(random, rows, labels, outputs);
                float[] out = learner.outputs(rows, 1000);
                int correct = 0;
                for (int s = 0; s < 1000; s++) {
                    if (task.prediction(out, s * outputs, outputs) == labels[s]) {
                        correct++;
                    }
                }
                assertThat(correct).as("%s accuracy of 1000", task).isGreaterThan(900);
            }
        }
    }

    private static void sample(
            SplittableRandom random, float[] rows, double[] labels, int outputs) {
        for (int s = 0; s < labels.length; s++) {
            double a = random.nextDouble() * 2 - 1;
            double b = random.nextDouble() * 2 - 1;
            rows[2 * s] = (float) a;
            rows[2 * s + 1] = (float) b;
            double r = Math.hypot(a, b);
            labels[s] = outputs == 1 ? (r < 0.6 ? 1 : 0) : (r < 0.45 ? 0 : r < 0.85 ? 1 : 2);
        }
    }

    @Test
    void aScaledLearningRateScalesTheStepUntilSetAgainAndEndsABoost() {
        KanConfig config = config(2, 3, 1).normalize(false).build();
        float[] rows = {0.1f, 0.2f, -0.3f, 0.4f};
        double[] labels = {0.5, -0.5};
        try (KanLearner full = KanLearner.create(config);
                KanLearner half = KanLearner.create(config)) {
            float[] start = full.parameters().get(0).splineWeight();
            half.boostLearningRate(5, 100);
            half.scaleLearningRate(0.5);
            full.learn(rows, labels);
            half.learn(rows, labels);
            // Adam's first step moves each parameter by the rate times the sign of its gradient
            float[] fullStep = full.parameters().get(0).splineWeight();
            float[] halfStep = half.parameters().get(0).splineWeight();
            for (int q = 0; q < start.length; q++) {
                assertThat((double) halfStep[q] - start[q])
                        .isCloseTo(0.5 * (fullStep[q] - start[q]), within(1e-6));
            }
            half.learn(rows, labels);
            assertThat(half.learningRateScale()).isEqualTo(0.5);
            half.scaleLearningRate(1);
            assertThat(half.learningRateScale()).isEqualTo(1);
            assertThatThrownBy(() -> half.scaleLearningRate(0))
                    .hasMessageContaining("learning-rate factor");
        }
    }

    @Test
    void aStepWithANonFiniteLossIsSkippedAndLeavesParametersUntouched() {
        try (KanLearner learner = KanLearner.create(config(2, 3, 1).normalize(false).build())) {
            float[] rows = {0.1f, 0.2f, -0.3f, 0.4f};
            learner.learn(rows, new double[] {0.5, -0.5});
            byte[] before = LearnerStateCodec.encode(learner);
            float[] outputsBefore = learner.outputs(rows, 2);
            // (output − 1e300)² overflows: the loss is infinite
            StepResult result = learner.learn(rows, new double[] {1e300, 0});
            assertThat(result.applied()).isFalse();
            assertThat(learner.skippedSteps()).isEqualTo(1);
            assertThat(learner.steps()).isEqualTo(1);
            assertThat(learner.outputs(rows, 2)).containsExactly(outputsBefore);
            try (KanLearner restored = LearnerStateCodec.decode(before)) {
                assertThat(restored.parameters().get(0).splineWeight())
                        .containsExactly(learner.parameters().get(0).splineWeight());
            }
        }
    }

    @Test
    void badInputIsRejectedWithTheRowAndFeatureNamed() {
        try (KanLearner learner = KanLearner.create(config(2, 3, 1).build())) {
            assertThatThrownBy(() -> learner.outputs(new float[] {0, Float.NaN}, 1))
                    .hasMessageContaining("row 0, feature 1 is NaN");
            assertThatThrownBy(() -> learner.outputs(new float[] {0, 1, 2}, 1))
                    .hasMessageContaining("expected 1 rows of 2 features");
            assertThatThrownBy(() -> learner.learn(new float[] {0, 1}, new double[] {Double.NaN}))
                    .hasMessageContaining("label of row 0 is NaN");
        }
        try (KanLearner learner = KanLearner.create(config(2, 3, 1).task(Task.BINARY).build())) {
            assertThatThrownBy(() -> learner.learn(new float[] {0, 1}, new double[] {2}))
                    .hasMessageContaining("binary labels are 0 or 1");
        }
    }

    /**
     * With β₁ = 0 the state holds no first moments (the live learner's hold the last gradient, the
     * restored one's zeros): the copy must still train on bit for bit.
     */
    @ParameterizedTest
    @ValueSource(doubles = {0, 0.9})
    void decodedStatePredictsBitIdenticallyAndTrainsOnExactlyAsTheOriginal(double beta1) {
        try (KanLearner original =
                KanLearner.create(
                        config(3, 4, 1).task(Task.BINARY).statsHorizon(16).beta1(beta1).build())) {
            SplittableRandom random = new SplittableRandom(9);
            for (int step = 0; step < 30; step++) {
                float[] rows = randomRows(random, 8, 3);
                double[] labels = new double[8];
                for (int s = 0; s < 8; s++) {
                    labels[s] = rows[3 * s] + rows[3 * s + 2] > 0 ? 1 : 0;
                }
                original.score(rows, 8);
                original.learn(rows, labels);
            }
            original.refitFromStatistics();
            byte[] state = LearnerStateCodec.encode(original);
            try (KanLearner copy = LearnerStateCodec.decode(state)) {
                float[] probe = randomRows(random, 50, 3);
                assertThat(copy.outputs(probe, 50)).containsExactly(original.outputs(probe, 50));
                assertThat(LearnerStateCodec.encode(copy)).isEqualTo(state);
                for (int step = 0; step < 10; step++) {
                    float[] rows = randomRows(random, 8, 3);
                    double[] labels = new double[8];
                    for (int s = 0; s < 8; s++) {
                        labels[s] = rows[3 * s + 1] > 0 ? 1 : 0;
                    }
                    assertThat(copy.score(rows, 8)).containsExactly(original.score(rows, 8));
                    StepResult a = original.learn(rows, labels);
                    StepResult b = copy.learn(rows, labels);
                    assertThat(b).isEqualTo(a);
                }
                original.refitFromStatistics();
                copy.refitFromStatistics();
                assertThat(copy.outputs(probe, 50)).containsExactly(original.outputs(probe, 50));
                assertThat(LearnerStateCodec.encode(copy))
                        .isEqualTo(LearnerStateCodec.encode(original));
                assertThat(copy.gridEpoch()).isEqualTo(2);
            }
        }
    }

    @Test
    void withoutMomentumKeepsTheModelAndDropsOnlyItsMomentumCompanionsToo() {
        KanConfig trained = config(3, 4, 1).beta1(0.9).companionRates(List.of(3.0)).build();
        try (KanLearner learner = KanLearner.create(trained)) {
            SplittableRandom random = new SplittableRandom(4);
            int n = 8;
            float[] rows = new float[n * 3];
            for (int step = 0; step < 30; step++) {
                double[] labels = new double[n];
                for (int s = 0; s < n; s++) {
                    for (int i = 0; i < 3; i++) {
                        rows[3 * s + i] = (float) random.nextGaussian();
                    }
                    labels[s] = Math.sin(rows[3 * s]) + rows[3 * s + 1] * rows[3 * s + 2];
                }
                learner.learn(rows, labels);
            }
            byte[] withMomentum = LearnerStateCodec.encode(learner);
            byte[] without = LearnerStateCodec.withoutMomentum(withMomentum);

            // each parameter's first moments, a length and its floats, in the owner and the
            // companion: all that goes
            int parameters = 0;
            for (LayerParameters layer : learner.parameters()) {
                parameters += layer.baseWeight().length;
                parameters += layer.splineWeight().length;
                parameters += layer.splineScaler().length;
            }
            int arrays = ParameterIndex.count(learner.layerCount());
            assertThat(withMomentum.length - without.length)
                    .isEqualTo(2 * (arrays * Integer.BYTES + parameters * Float.BYTES));
            try (KanLearner as = LearnerStateCodec.decode(withMomentum, "cpu");
                    KanLearner now = LearnerStateCodec.decode(without, "cpu")) {
                assertThat(now.config().beta1()).isZero();
                assertThat(now.config().toBuilder().beta1(0.9).build()).isEqualTo(as.config());
                assertThat(now.companions()).isEqualTo(1);
                assertThat(now.memberWeights()).containsExactly(as.memberWeights());
                assertThat(now.outputs(rows, n)).containsExactly(as.outputs(rows, n));
                assertThat(now.steps()).isEqualTo(as.steps());
                assertThat(now.modelVersion()).isEqualTo(as.modelVersion());
                for (int q = 0; q < arrays; q++) {
                    assertThat(now.moment(q, false)).containsExactly(as.moment(q, false));
                }
                // it learns on without them: a step leaves none behind to store
                now.learn(rows, new double[n]);
                assertThat(LearnerStateCodec.encode(now)).hasSize(without.length);
                assertThat(LearnerStateCodec.withoutMomentum(without)).isEqualTo(without);
            }
        }
    }

    @Test
    void decodingRejectsForeignBytesAndUnknownVersionsWithAClearMessage() {
        assertThatThrownBy(() -> LearnerStateCodec.decode(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
                .hasMessageContaining("not a kanstream model");
        byte[] future = {0x4B, 0x41, 0x4E, 0x53, 0, 0, 0, 99};
        assertThatThrownBy(() -> LearnerStateCodec.decode(future))
                .hasMessageContaining("Unrecognized version or corrupt state")
                .hasMessageContaining("99");
        try (KanLearner learner = KanLearner.create(config(2, 2, 1).build())) {
            byte[] state = LearnerStateCodec.encode(learner);
            byte[] truncated = java.util.Arrays.copyOf(state, state.length / 2);
            assertThatThrownBy(() -> LearnerStateCodec.decode(truncated))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void refitKeepsKnotsStrictlyIncreasingForConstantTiedAndOutlyingFeatures() {
        try (KanLearner learner = KanLearner.create(config(3, 3, 1).normalize(false).build())) {
            int n = 40;
            float[] rows = new float[n * 3];
            for (int s = 0; s < n; s++) {
                rows[3 * s] = 0.25f; // constant
                rows[3 * s + 1] = s % 2; // two tied values
                rows[3 * s + 2] = s == 0 ? 1e6f : (float) Math.sin(s); // an outlier
            }
            learner.refit(rows, n, 5);
            for (int l = 0; l < learner.layerCount(); l++) {
                float[][] knots = learner.grid(l).toArray();
                for (float[] feature : knots) {
                    for (int j = 1; j < feature.length; j++) {
                        assertThat(feature[j]).isGreaterThan(feature[j - 1]);
                    }
                }
            }
            for (float v : learner.outputs(rows, n)) {
                assertThat(v).isFinite();
            }
            // one sample: a rank-deficient least-squares system, which must not fail
            learner.refit(new float[] {0.1f, 0.2f, 0.3f}, 1, 5);
            assertThat(learner.outputs(new float[] {0.1f, 0.2f, 0.3f}, 1)[0]).isFinite();
        }
    }

    @Test
    void basesArePartitionOfUnityInsideTheGridAndZeroOutsideEvenWithCoincidentKnots() {
        float[][] knots = {{-3, -2, -1, 0, 0, 1, 2, 3, 4}}; // coincident knots at 0
        KnotGrid uniform = KnotGrid.uniform(1, 5, 3, -1, 1);
        try (KanLearner learner = KanLearner.create(config(1, 1).build())) {
            HostKan.Layer layer = learner.host().layer(0);
            float[] x = {-0.99f, -0.5f, 0f, 0.3f, 0.99f, 3f, -7f}; // 3 and -7 lie beyond every knot
            float[] bases = layer.bases(x, x.length);
            int c = 8;
            for (int s = 0; s < x.length; s++) {
                double sum = 0;
                for (int b = 0; b < c; b++) {
                    assertThat(bases[s * c + b]).isGreaterThanOrEqualTo(-1e-7f);
                    sum += bases[s * c + b];
                }
                boolean inside = x[s] >= uniform.interiorLow(0) && x[s] < uniform.interiorHigh(0);
                if (inside || Math.abs(x[s]) > 2.5) {
                    assertThat(sum).as("sum at %s", x[s]).isCloseTo(inside ? 1 : 0, within(1e-5));
                }
            }
            float[][] coincident = {{-3, -2, -1, 0, Math.nextUp(0f), 1, 2, 3, 4}};
            KnotGrid tight = new KnotGrid(coincident, 2, 3);
            float[] points = {0f, 0.5f, -0.5f};
            float[] host =
                    new HostKan.Layer(tight, 1, new float[1], new float[5], new float[1])
                            .bases(points, 3);
            try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                    BSplineBasis basis = new BSplineBasis(tight, manager)) {
                float[] device =
                        basis.evaluate(manager.create(points, new Shape(3, 1)))
                                .value()
                                .toFloatArray();
                for (int q = 0; q < host.length; q++) {
                    assertThat(host[q]).isFinite().isEqualTo(device[q]);
                }
            }
        }
        assertThatThrownBy(() -> new KnotGrid(knots, 2, 3))
                .hasMessageContaining("not strictly increasing");
    }

    @Test
    void deviceSettingAcceptsAutoCpuAndGpuAndNamesWhatIsMissing() {
        assertThat(DeviceSetting.resolve("cpu").getDeviceType()).isEqualTo("cpu");
        assertThat(DeviceSetting.resolve("auto")).isNotNull();
        assertThatThrownBy(() -> DeviceSetting.resolve("tpu"))
                .hasMessageContaining("not one of auto, cpu, gpu, gpu:N");
        if (Engine.getEngine("PyTorch").getGpuCount() == 0) {
            assertThatThrownBy(() -> DeviceSetting.resolve("gpu:0"))
                    .hasMessageContaining("sees 0 GPU(s)");
        }
    }

    private static float[] randomRows(SplittableRandom random, int n, int width) {
        float[] rows = new float[n * width];
        for (int q = 0; q < rows.length; q++) {
            rows[q] = (float) random.nextGaussian();
        }
        return rows;
    }

    /**
     * A label right after its event's score steps from the forward pass the score ran, and ends
     * exactly where a learner that runs its own pass does (two other learners scoring in between
     * make it: a thread keeps the passes of the two it scored last), with or without a normalizer.
     * (That the score standardizes the row as the step does, so the pass is taken, is {@link
     * InputNormalizerTest}'s.)
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aStepRightAfterItsScoreStartsFromTheScoredPassAndEndsWhereANewPassWould(
            boolean normalize) {
        for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
            KanConfig config =
                    KanConfig.builder(List.of(4, 8, 1))
                            .task(task)
                            .normalize(normalize)
                            .device("cpu")
                            .seed(3)
                            .build();
            try (KanLearner reusing = KanLearner.create(config);
                    KanLearner recomputing = KanLearner.create(config);
                    KanLearner bystander = KanLearner.create(config);
                    KanLearner another = KanLearner.create(config)) {
                SplittableRandom random = new SplittableRandom(11);
                for (int e = 0; e < 200; e++) {
                    float[] row = FormatV1Fixtures.rows(random, 1);
                    double[] label = FormatV1Fixtures.labels(task, row, random);
                    reusing.scoreBeforeItsStep(row);
                    assertThat(reusing.keepsScoredPass()).isTrue();
                    reusing.learn(row, label);
                    assertThat(reusing.keepsScoredPass()).as("used once").isFalse();
                    recomputing.scoreBeforeItsStep(row);
                    bystander.scoreBeforeItsStep(row);
                    assertThat(recomputing.keepsScoredPass())
                            .as("a thread keeps two learners' passes")
                            .isTrue();
                    another.scoreBeforeItsStep(row);
                    assertThat(recomputing.keepsScoredPass())
                            .as("the least recently scored gives way")
                            .isFalse();
                    assertThat(bystander.keepsScoredPass()).isTrue();
                    recomputing.learn(row, label);
                }
                assertThat(reusing.steps()).isEqualTo(200);
                assertThat(LearnerStateCodec.encode(reusing))
                        .as("%s", task)
                        .isEqualTo(LearnerStateCodec.encode(recomputing));
                reusing.score(FormatV1Fixtures.rows(random, 1), 1);
                assertThat(reusing.keepsScoredPass()).as("a plain score keeps none").isFalse();
            }
        }
    }
}
