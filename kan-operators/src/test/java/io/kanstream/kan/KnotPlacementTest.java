package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KnotPlacementTest {
    @Test
    void movesKnotsToWhereTheCurveHasDetailAndKeepsTheInteriorsEnds() {
        // inputs spread evenly over [-2, 2]; the curve is flat except for a bump near 1.2
        SplittableRandom random = new SplittableRandom(5);
        int m = 300;
        float[] x = new float[m];
        double[] y = new double[m];
        for (int s = 0; s < m; s++) {
            x[s] = (float) (4 * random.nextDouble() - 2);
            y[s] = Math.exp(-Math.pow((x[s] - 1.2) / 0.15, 2));
        }
        double[] sorted = new double[m];
        for (int s = 0; s < m; s++) {
            sorted[s] = x[s];
        }
        Arrays.sort(sorted);
        int g = 5;
        int k = 3;
        float[] quantiles = KnotGrid.fitKnots(sorted, g, k, 0.02, 0.01);
        KnotPlacement placement = new KnotPlacement(g, k, x, y, 1, 1e-4);
        float[] placed = placement.improve(quantiles);

        double before = placement.residual(quantiles);
        double after = placement.residual(placed);
        assertThat(after).isLessThan(0.75 * before);
        assertThat(placed[k]).isEqualTo(quantiles[k]);
        assertThat(placed[k + g]).isEqualTo(quantiles[k + g]);
        for (int j = 1; j < placed.length; j++) {
            assertThat(placed[j]).isGreaterThan(placed[j - 1]);
        }
        // more of the interior knots sit near the bump than the quantiles put there
        assertThat(near(placed, k, g, 1.2, 0.5)).isGreaterThan(near(quantiles, k, g, 1.2, 0.5));
    }

    private static int near(float[] knots, int k, int g, double centre, double radius) {
        int count = 0;
        for (int j = k + 1; j < k + g; j++) {
            if (Math.abs(knots[j] - centre) < radius) {
                count++;
            }
        }
        return count;
    }
}
