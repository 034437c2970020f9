package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OutputCalibrationTest {

    @Test
    void logitsNeverLeaveTheBound() {
        OutputCalibration c = new OutputCalibration(Task.BINARY, 8, 1, false);
        float[] z = {-1e6f, -20, 0, 3, 400};
        c.bound(z);
        for (float v : z) {
            assertThat(Math.abs(v)).isLessThanOrEqualTo(8f);
        }
        assertThat(z[2]).isZero();
        assertThat(z[3]).isCloseTo(3f, within(0.2f));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anOverconfidentScoreIsPulledBackToTheTrueFrequency(boolean learnsBias) {
        // the network says logit 6 (p 0.9975) on every example; the label is 1 only 70% of the time
        OutputCalibration c = new OutputCalibration(Task.BINARY, 8, 1, learnsBias);
        SplittableRandom random = new SplittableRandom(5);
        for (int s = 0; s < 3_000; s++) {
            float[] u = {6};
            c.bound(u);
            c.learn(u, new double[] {random.nextDouble() < 0.7 ? 1 : 0});
        }
        float[] u = {6};
        c.bound(u);
        c.apply(u);
        assertThat(Task.sigmoid(u[0])).isCloseTo(0.7, within(0.05));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aWellCalibratedScoreIsLeftAlone(boolean learnsBias) {
        OutputCalibration c = new OutputCalibration(Task.BINARY, 8, 1, learnsBias);
        SplittableRandom random = new SplittableRandom(6);
        for (int s = 0; s < 5_000; s++) {
            float z = (float) random.nextDouble(-4, 4);
            float[] u = {z};
            c.bound(u);
            double p = Task.sigmoid(u[0]);
            c.learn(u, new double[] {random.nextDouble() < p ? 1 : 0});
        }
        // a memory of ~500 examples leaves noise of about ±0.1 around the identity
        assertThat(c.scale).isCloseTo(1, within(0.3));
        assertThat(c.bias[0]).isCloseTo(0, within(0.3));
    }

    @Test
    void aKeysFirstLabelsBarelyMoveTheBiasButManyTeachIt() {
        // scores with little in them, 16 labels, 12 of them 1: what a new key often sees
        OutputCalibration early = new OutputCalibration(Task.BINARY, 8, 1, true);
        SplittableRandom random = new SplittableRandom(12);
        for (int s = 0; s < 16; s++) {
            float[] u = {(float) random.nextDouble(-0.5, 0.5)};
            early.bound(u);
            early.learn(u, new double[] {s % 4 == 0 ? 0 : 1});
        }
        // the same labels with only the weak prior would have moved it to about 0.5
        assertThat(early.bias[0]).isBetween(0.0, 0.1);

        // a true base rate of 80% over a few calibrator memories: the bias gets there all the same
        OutputCalibration late = new OutputCalibration(Task.BINARY, 8, 1, true);
        for (int s = 0; s < 3_000; s++) {
            float[] u = {0};
            late.bound(u);
            late.learn(u, new double[] {random.nextDouble() < 0.8 ? 1 : 0});
        }
        assertThat(Task.sigmoid(late.bias[0])).isCloseTo(0.8, within(0.05));
    }

    @Test
    void aBinaryTemperatureAloneNeverMovesADecision() {
        // weak scores, and a base rate of 80% that a bias would shift every weak score towards
        OutputCalibration c = new OutputCalibration(Task.BINARY, 8, 1, false);
        SplittableRandom random = new SplittableRandom(13);
        for (int s = 0; s < 3_000; s++) {
            float[] u = {(float) random.nextDouble(-0.5, 0.5)};
            c.bound(u);
            c.learn(u, new double[] {random.nextDouble() < 0.8 ? 1 : 0});
        }
        assertThat(c.bias[0]).isZero();
        assertThat(c.scale).isBetween(0.0, OutputCalibration.MAX_SCALE);
        for (float z : new float[] {-0.3f, -0.01f, 0.01f, 0.3f}) {
            float[] u = {z};
            c.bound(u);
            c.apply(u);
            assertThat(Math.signum(u[0])).as("calibrated %s", z).isIn(Math.signum(z), 0f);
        }
    }

    @Test
    void multiclassTemperatureCoolsAnOverconfidentNetwork() {
        OutputCalibration c = new OutputCalibration(Task.MULTICLASS, 8, 3, false);
        SplittableRandom random = new SplittableRandom(7);
        for (int s = 0; s < 3_000; s++) {
            int predicted = random.nextInt(3);
            float[] u = new float[3];
            u[predicted] = 7; // very sure, right half of the time
            c.bound(u);
            int label = random.nextDouble() < 0.5 ? predicted : (predicted + 1) % 3;
            c.learn(u, new double[] {label});
        }
        assertThat(c.scale).isLessThan(0.5);
    }

    @Test
    void multiclassCalibrationKeepsThePredictedClassAndFadesBiasesARestoredStateCarries() {
        OutputCalibration c = new OutputCalibration(Task.MULTICLASS, 8, 3, false);
        c.bias[0] = 1.5; // as a state from before would hold it
        SplittableRandom random = new SplittableRandom(11);
        for (int s = 0; s < 3_000; s++) {
            float[] u = new float[3];
            for (int k = 0; k < 3; k++) {
                u[k] = (float) random.nextGaussian();
            }
            c.bound(u);
            // class 0 is the most frequent: a learned bias would lean towards it
            int label = random.nextDouble() < 0.6 ? 0 : 1 + random.nextInt(2);
            c.learn(u, new double[] {label});
        }
        assertThat(c.bias[0]).isCloseTo(0, within(0.01));
        assertThat(c.bias[1]).isZero();
        assertThat(c.bias[2]).isZero();
        float[] z = {0.3f, 0.9f, -0.2f};
        c.bound(z);
        c.apply(z);
        assertThat(z[1]).isGreaterThan(z[0]).isGreaterThan(z[2]);
    }

    @Test
    void regressionOutputsPassThrough() {
        OutputCalibration c = new OutputCalibration(Task.REGRESSION, 8, 1, false);
        float[] y = {123.5f};
        c.bound(y);
        c.apply(y);
        assertThat(y[0]).isEqualTo(123.5f);
    }
}
