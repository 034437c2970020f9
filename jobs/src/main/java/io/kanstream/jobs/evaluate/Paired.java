package io.kanstream.jobs.evaluate;

import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * One model's figure against the reference model's, seed by seed: the suite runs every model on the
 * same seeds, so the per-seed differences cancel what a seed does to both (its stream, its initial
 * weights) and say more than two means with their spreads.
 *
 * @param difference mean over seeds of (model − reference)
 * @param sd sample standard deviation of the per-seed differences (NaN from one seed)
 * @param pValue two-sided paired t-test of a zero mean difference (NaN from one seed; 1 when every
 *     difference is 0, 0 when they are all equal and not 0)
 * @param ahead seeds where the model is better than the reference
 * @param behind seeds where it is worse
 * @param seeds seeds compared
 */
record Paired(double difference, double sd, double pValue, int ahead, int behind, int seeds) {

    /** The level below which a difference counts as more than the seeds' noise. */
    static final double SIGNIFICANCE = 0.05;

    /**
     * @param higherIsBetter whether a larger figure is better (accuracy), or a smaller (losses)
     */
    static Paired of(List<Double> reference, List<Double> model, boolean higherIsBetter) {
        if (reference.size() != model.size() || reference.isEmpty()) {
            throw new IllegalArgumentException(
                    "paired figures need one value per seed on both sides, got "
                            + reference.size()
                            + " and "
                            + model.size());
        }
        int n = reference.size();
        double[] d = new double[n];
        int ahead = 0;
        int behind = 0;
        for (int i = 0; i < n; i++) {
            d[i] = model.get(i) - reference.get(i);
            double gain = higherIsBetter ? d[i] : -d[i];
            if (gain > 0) {
                ahead++;
            } else if (gain < 0) {
                behind++;
            }
        }
        Spread spread = Spread.of(Arrays.stream(d).boxed().toList());
        return new Paired(spread.mean(), spread.sd(), pValue(spread, n), ahead, behind, n);
    }

    private static double pValue(Spread spread, int n) {
        if (n < 2 || Double.isNaN(spread.mean())) {
            return Double.NaN;
        }
        if (spread.sd() == 0) {
            return spread.mean() == 0 ? 1 : 0;
        }
        double t = spread.mean() / (spread.sd() / Math.sqrt(n));
        return 2 * new TDistribution(n - 1).cumulativeProbability(-Math.abs(t));
    }

    /**
     * "better" or "worse" than the reference when the t-test says the difference is more than noise
     * at {@link #SIGNIFICANCE}, "tie" when it does not, "same" when every seed agrees to the last
     * bit, "one seed" when there is nothing to test.
     */
    String verdict(boolean higherIsBetter) {
        if (ahead == 0 && behind == 0) {
            return "same";
        }
        if (Double.isNaN(pValue)) {
            return "one seed";
        }
        if (pValue >= SIGNIFICANCE) {
            return "tie";
        }
        return (difference > 0) == higherIsBetter ? "better" : "worse";
    }
}
