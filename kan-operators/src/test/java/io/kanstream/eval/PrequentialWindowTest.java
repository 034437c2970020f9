package io.kanstream.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PrequentialWindowTest {
    @Test
    void noChangePredictsClassZeroBeforeTheFirstLabelAndKeepsTheLastLabelAcrossWindows() {
        PrequentialWindow w = new PrequentialWindow();
        Target binary = Target.binary();
        w.add(binary, Prediction.ofProbabilities(new double[] {0.2, 0.8}), 1); // hit; ref 0 misses
        w.add(binary, Prediction.ofProbabilities(new double[] {0.6, 0.4}), 1); // miss; ref 1 hits
        assertThat(w.count()).isEqualTo(2);
        assertThat(w.value(binary)).isEqualTo(0.5);
        assertThat(w.referenceValue(binary)).isEqualTo(0.5);
        assertThat(w.meanLoss()).isCloseTo((-Math.log(0.8) - Math.log(0.4)) / 2, within(1e-12));

        w.clear();
        assertThat(w.value(binary)).isNaN();
        w.add(binary, Prediction.ofProbabilities(new double[] {0.1, 0.9}), 1); // ref: previous 1
        assertThat(w.referenceValue(binary)).isEqualTo(1.0);
    }

    @Test
    void regressionFiguresAreRootMeanSquaredErrorsAndTheLossTheirSquare() {
        PrequentialWindow w = new PrequentialWindow();
        Target regression = Target.regression();
        w.add(regression, Prediction.of(1.0), 2.0); // error 1; reference 0 -> error 2
        w.add(regression, Prediction.of(2.0), 5.0); // error 3; reference 2 -> error 3
        assertThat(w.value(regression)).isCloseTo(Math.sqrt(5), within(1e-12));
        assertThat(w.referenceValue(regression)).isCloseTo(Math.sqrt(6.5), within(1e-12));
        assertThat(w.meanLoss()).isCloseTo(5, within(1e-12));
    }

    @Test
    void aConfidentMissCostsAFiniteLogLoss() {
        PrequentialWindow w = new PrequentialWindow();
        w.add(Target.binary(), Prediction.ofProbabilities(new double[] {1, 0}), 1);
        assertThat(w.meanLoss()).isCloseTo(-Math.log(1e-15), within(1e-9));
    }
}
