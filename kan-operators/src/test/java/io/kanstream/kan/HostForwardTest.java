package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Scoring in Java computes what the device's ops compute, and follows every parameter change. */
class HostForwardTest {

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
        float[] host = learner.network.outputs(z, n);
        float[] device = learner.network.deviceOutputs(z, n);
        assertThat(host).hasSameSizeAs(device);
        double worst = 0;
        double scale = 1e-3;
        for (int q = 0; q < host.length; q++) {
            worst = Math.max(worst, Math.abs(host[q] - device[q]));
            scale = Math.max(scale, Math.abs(device[q]));
        }
        return worst / scale;
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
            assertThat((double) learner.network.outputs(z, 1)[0])
                    .isCloseTo(
                            learner.network.deviceOutputs(z, 1)[0],
                            org.assertj.core.data.Offset.offset(1e-5));
        }
    }
}
