package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Scoring and training in Java compute what the device's ops compute, and follow every parameter
 * change, whichever side made it.
 */
class HostKanTest {

    private static float[] rows(SplittableRandom random, int n, int width, double spread) {
        float[] x = new float[n * width];
        for (int q = 0; q < x.length; q++) {
            x[q] = (float) ((2 * random.nextDouble() - 1) * spread);
        }
        return x;
    }

    /** Largest |host − device| over a batch, relative to the outputs' scale. */
    private static double gap(KanLearner learner, float[] x, int n) {
        float[] z = learner.normalizer.apply(x, n);
        float[] host = learner.host().outputs(z, n);
        DeviceKan mirror = learner.onDevice();
        float[] device = mirror.network.outputs(mirror.manager, z, n);
        return gap(host, device, 1e-3);
    }

    @Test
    void forwardSumsAreThoseOfPerOutputDotProducts() {
        SplittableRandom random = new SplittableRandom(5);
        KanConfig config =
                KanConfig.builder(List.of(5, 7, 3))
                        .task(Task.MULTICLASS)
                        .device("cpu")
                        .seed(4)
                        .build();
        HostKan host = HostKan.initialize(config);
        HostKan.Layer layer = host.layer(0);
        int n = 40;
        float[] x = rows(random, n, layer.in, 1.5);
        float[] y = layer.outputs(x, n);
        float[] bases = layer.bases(x, n);
        int c = layer.coefficients;
        float[] scaled = layer.scaledSpline();
        for (int s = 0; s < n; s++) {
            for (int o = 0; o < layer.out; o++) {
                // the textbook order: SiLU terms by input, then spline terms by input and
                // coefficient (the zero bases add exact zeros)
                float sum = 0;
                for (int i = 0; i < layer.in; i++) {
                    float xi = x[s * layer.in + i];
                    float silu = xi * (float) (1 / (1 + Math.exp(-xi)));
                    sum += silu * layer.baseWeight[o * layer.in + i];
                }
                for (int i = 0; i < layer.in; i++) {
                    for (int b = 0; b < c; b++) {
                        sum +=
                                bases[(s * layer.in + i) * c + b]
                                        * scaled[(o * layer.in + i) * c + b];
                    }
                }
                assertThat(y[s * layer.out + o]).isEqualTo(sum);
            }
        }
    }

    @Test
    void hostOutputsMatchTheDeviceBeforeAndAfterStepsAndRefits() {
        SplittableRandom random = new SplittableRandom(3);
        for (List<Integer> layers : List.of(List.of(8, 16, 1), List.of(3, 5, 4, 2))) {
            int outputs = layers.get(layers.size() - 1);
            KanConfig config =
                    KanConfig.builder(layers)
                            .task(outputs == 1 ? Task.REGRESSION : Task.MULTICLASS)
                            .device("cpu")
                            .seed(11)
                            .learningRate(0.05)
                            .build();
            try (KanLearner learner = KanLearner.create(config)) {
                int in = layers.get(0);
                int n = 64;
                // inside and far outside the grid (the bases vanish there; only SiLU is left)
                assertThat(gap(learner, rows(random, n, in, 1), n)).isLessThan(1e-5);
                assertThat(gap(learner, rows(random, n, in, 40), n)).isLessThan(1e-5);
                for (int step = 0; step < 30; step++) {
                    float[] x = rows(random, 32, in, 2);
                    double[] y = new double[32];
                    for (int s = 0; s < 32; s++) {
                        y[s] = outputs == 1 ? Math.sin(3 * x[s * in]) : s % outputs;
                    }
                    learner.learn(x, y);
                }
                assertThat(gap(learner, rows(random, n, in, 2), n)).isLessThan(1e-5);
                float[] sample = rows(random, 256, in, 3);
                learner.refit(sample, 256, 8); // another grid size: new bases, new C
                assertThat(gap(learner, rows(random, n, in, 3), n)).isLessThan(1e-5);
                // one row at a time, as a stream scores
                float[] one = rows(random, 1, in, 1);
                assertThat(gap(learner, one, 1)).isLessThan(1e-5);
            }
        }
    }

    @Test
    void aStepChangesTheHostOutputsAsItChangesTheDevices() {
        KanConfig config = KanConfig.builder(List.of(2, 3, 1)).device("cpu").seed(5).build();
        try (KanLearner learner = KanLearner.create(config)) {
            float[] x = {0.3f, -0.2f};
            float before = learner.outputs(x, 1)[0];
            learner.learn(new float[] {0.3f, -0.2f, 0.1f, 0.5f}, new double[] {5, 5});
            float after = learner.outputs(x, 1)[0];
            assertThat(after).isNotEqualTo(before);
            float[] z = learner.normalizer.apply(x, 1);
            DeviceKan mirror = learner.onDevice();
            assertThat((double) learner.host().outputs(z, 1)[0])
                    .isCloseTo(
                            mirror.network.outputs(mirror.manager, z, 1)[0],
                            org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    /** Largest |a − b| over every parameter and moment, relative to the parameter's scale. */
    private static double parameterGap(KanLearner a, KanLearner b) {
        double worst = 0;
        List<LayerParameters> pa = a.parameters();
        List<LayerParameters> pb = b.parameters();
        for (int l = 0; l < pa.size(); l++) {
            worst = Math.max(worst, gap(pa.get(l).baseWeight(), pb.get(l).baseWeight(), 1e-6));
            worst = Math.max(worst, gap(pa.get(l).splineWeight(), pb.get(l).splineWeight(), 1e-6));
            worst = Math.max(worst, gap(pa.get(l).splineScaler(), pb.get(l).splineScaler(), 1e-6));
        }
        // first moments are state only where β₁ > 0: with β₁ = 0 each step overwrites them
        boolean firstMoments = a.config().beta1() > 0;
        for (int q = 0; q < 3 * pa.size(); q++) {
            if (firstMoments) {
                worst = Math.max(worst, gap(a.moment(q, true), b.moment(q, true), 1e-6));
            }
            worst = Math.max(worst, gap(a.moment(q, false), b.moment(q, false), 1e-6));
        }
        return worst;
    }

    /** Largest |a − b|, relative to the largest |b| (or to {@code floor} when that is smaller). */
    private static double gap(float[] a, float[] b, double floor) {
        assertThat(a).hasSameSizeAs(b);
        double worst = 0;
        double scale = floor;
        for (int q = 0; q < a.length; q++) {
            worst = Math.max(worst, Math.abs(a[q] - b[q]));
            scale = Math.max(scale, Math.abs(b[q]));
        }
        return worst / scale;
    }

    @Test
    void stepsInJavaFollowTheDevicesStepsThroughClippingDecayBoostsAndRefits() {
        for (List<Integer> layers : List.of(List.of(4, 8, 1), List.of(3, 5, 4, 3))) {
            int outputs = layers.get(layers.size() - 1);
            int in = layers.get(0);
            KanConfig config =
                    KanConfig.builder(layers)
                            .task(outputs == 1 ? Task.REGRESSION : Task.MULTICLASS)
                            .device("cpu")
                            .seed(21)
                            .learningRate(0.02)
                            // the bounds below are rounding's drift over 40 steps at this rate;
                            // KanPoolTest checks a young model's initial rate on the device
                            .constantRate()
                            .weightDecay(outputs == 1 ? 1e-3 : 0)
                            .clipNorm(0.5)
                            .build();
            try (KanLearner host = KanLearner.create(config);
                    KanLearner device = KanLearner.create(config)) {
                device.workLimits(0, 0); // every call through DJL's ops
                SplittableRandom random = new SplittableRandom(8);
                for (int step = 0; step < 40; step++) {
                    int n = step % 3 == 0 ? 7 : 32; // partial batches too
                    float[] x = rows(random, n, in, 2.5);
                    double[] y = new double[n];
                    for (int s = 0; s < n; s++) {
                        y[s] =
                                outputs == 1
                                        ? 10 * Math.sin(2 * x[s * in]) + x[s * in + 1]
                                        : (x[s * in] > 0 ? 1 : 0) + (x[s * in + 1] > 0.5 ? 1 : 0);
                    }
                    host.score(x, n);
                    device.score(x, n);
                    StepResult a = host.learn(x, y);
                    StepResult b = device.learn(x, y);
                    assertThat(a.applied()).isEqualTo(b.applied());
                    assertThat(a.loss()).isCloseTo(b.loss(), within(1e-4 * (1 + b.loss())));
                    if (step == 10) {
                        host.boostLearningRate(3, 5);
                        device.boostLearningRate(3, 5);
                    }
                    if (step == 20) {
                        // a refit runs on the device: the host's steps are written back first
                        host.refitFromStatistics();
                        device.refitFromStatistics();
                    }
                }
                assertThat(host.steps()).isEqualTo(40);
                assertThat(parameterGap(host, device))
                        .as("parameters and moments")
                        .isLessThan(1e-3);
                float[] probe = rows(random, 16, in, 2);
                float[] a = host.outputs(probe, 16);
                float[] b = device.outputs(probe, 16);
                for (int q = 0; q < a.length; q++) {
                    assertThat((double) a[q]).isCloseTo(b[q], within(1e-3 * (1 + Math.abs(b[q]))));
                }
                // what is checkpointed after host steps is what the device would have written
                KanLearner restored = LearnerStateCodec.decode(LearnerStateCodec.encode(host));
                try (restored) {
                    assertThat(restored.outputs(probe, 16))
                            .containsExactly(host.outputs(probe, 16));
                    assertThat(parameterGap(restored, host)).isZero();
                }
            }
        }
    }

    @Test
    void basesOverTheActiveWindowEqualTheDevicesFullRecursionExactly() {
        SplittableRandom random = new SplittableRandom(12);
        float[][] tied = { // nearly coincident knots: the guarded reciprocals drop those terms
            {-3, -2, -1, 0, Math.nextUp(0f), 0.5f, 2, 3, 4},
            {-1, -0.5f, 0, 0.1f, 0.2f, 1, 2, Math.nextUp(2f), 5}
        };
        for (KnotGrid grid :
                List.of(
                        KnotGrid.uniform(3, 5, 3, -1, 1),
                        KnotGrid.uniform(2, 4, 1, -2, 2),
                        new KnotGrid(tied, 2, 3))) {
            int in = grid.features();
            int c = grid.gridSize() + grid.splineOrder();
            int n = 500;
            float[] x = rows(random, n, in, 4); // inside, at and far beyond the knots
            for (int q = 0; q < 20; q++) {
                x[q] = grid.knot(q % in, q % (grid.gridSize() + 2 * grid.splineOrder() + 1));
            }
            float[] host =
                    new HostKan.Layer(grid, 1, new float[in], new float[in * c], new float[in])
                            .bases(x, n);
            try (ai.djl.ndarray.NDManager manager =
                            ai.djl.ndarray.NDManager.newBaseManager(
                                    ai.djl.Device.cpu(), "PyTorch");
                    BSplineBasis basis = new BSplineBasis(grid, manager)) {
                float[] device =
                        basis.evaluate(manager.create(x, new ai.djl.ndarray.types.Shape(n, in)))
                                .value()
                                .toFloatArray();
                assertThat(host).hasSameSizeAs(device);
                for (int q = 0; q < host.length; q++) {
                    // == : the same value, a zero of either sign included
                    assertThat(host[q] == device[q])
                            .as("basis %d: host %s, device %s", q, host[q], device[q])
                            .isTrue();
                }
            }
        }
    }

    @Test
    void newLearnersShareTheirInitialGridsAndTheGridsTables() {
        KanConfig config = KanConfig.builder(List.of(4, 8, 1)).device("cpu").seed(3).build();
        HostKan a = HostKan.initialize(config);
        HostKan b = HostKan.initialize(config.toBuilder().seed(9).build());
        for (int l = 0; l < 2; l++) {
            assertThat(b.layer(l).grid).isSameAs(a.layer(l).grid);
            assertThat(b.layer(l).leftInv).isSameAs(a.layer(l).leftInv);
            assertThat(b.layer(l).baseWeight).isNotSameAs(a.layer(l).baseWeight);
        }
        HostKan wider = HostKan.initialize(config.toBuilder().gridRange(-2, 2).build());
        assertThat(wider.layer(0).grid).isNotSameAs(a.layer(0).grid);
        assertThat(wider.layer(0).grid.knots()).isNotEqualTo(a.layer(0).grid.knots());
    }

    @Test
    void aStepsUpdateMustFollowItsOwnBackwardPass() {
        SplittableRandom random = new SplittableRandom(11);
        KanConfig config = KanConfig.builder(List.of(3, 4, 1)).device("cpu").build();
        HostKan one = HostKan.initialize(config);
        HostKan other = HostKan.initialize(config.toBuilder().seed(5).build());
        AdamOptimizer.Rates rates = new AdamOptimizer(config).advance(1);
        try (KanKernel.Step first = one.forward(rows(random, 5, 3, 1), 5);
                KanKernel.Step second = other.forward(rows(random, 5, 3, 1), 5)) {
            assertThat(first.backward(rows(random, 5, 1, 1))).isPositive();
            assertThat(second.backward(rows(random, 5, 1, 1))).isPositive();
            // the thread's gradient buffer now holds the second pass's gradients
            assertThatThrownBy(() -> first.update(rates, 1f))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("its own backward pass");
            second.update(rates, 1f);
            // and each backward pass is good for one update
            assertThatThrownBy(() -> second.update(rates, 1f))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void restoredLearnersShareTheInitialGridsAndRefittedOnesKeepTheirOwn() {
        KanConfig config = KanConfig.builder(List.of(4, 8, 1)).device("cpu").seed(3).build();
        SplittableRandom random = new SplittableRandom(2);
        try (KanLearner fresh = KanLearner.create(config);
                KanLearner refitted = KanLearner.create(config)) {
            refitted.observe(rows(random, 200, 4, 3), 200); // far beyond the initial grid
            assertThat(refitted.refitFromStatistics()).isNotNull();
            byte[] encoded = LearnerStateCodec.encode(refitted);
            try (KanLearner restored = LearnerStateCodec.decode(LearnerStateCodec.encode(fresh));
                    KanLearner restoredRefit = LearnerStateCodec.decode(encoded)) {
                for (int l = 0; l < 2; l++) {
                    assertThat(restored.host().layer(l).grid).isSameAs(fresh.host().layer(l).grid);
                }
                assertThat(restoredRefit.host().layer(0).grid)
                        .isNotSameAs(fresh.host().layer(0).grid);
                assertThat(LearnerStateCodec.encode(restoredRefit)).isEqualTo(encoded);
            }
        }
    }
}
