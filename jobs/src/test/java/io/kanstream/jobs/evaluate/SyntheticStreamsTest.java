package io.kanstream.jobs.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.kanstream.jobs.replay.HistoryRow;
import io.kanstream.jobs.replay.HistoryTable;
import io.kanstream.kan.Task;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyntheticStreamsTest {
    private static final int ROWS = 8_000;

    @Test
    void theCovariateStreamGlidesToItsShiftWhileTheJumpStreamStepsThereHalfway() {
        List<HistoryRow> glide = SyntheticStreams.covariate(3, ROWS, Task.REGRESSION).rows();
        List<HistoryRow> jump = SyntheticStreams.covariateJump(3, ROWS).rows();

        double shift = SyntheticStreams.SHIFT;
        // the glide's quarters sit at 1/8, 3/8, 5/8, 7/8 of the shift; the jump's at 0, 0, 1, 1
        for (int quarter = 0; quarter < 4; quarter++) {
            assertThat(meanInput(glide, quarter))
                    .isCloseTo(shift * (2 * quarter + 1) / 8, within(0.1));
            assertThat(meanInput(jump, quarter)).isCloseTo(quarter < 2 ? 0 : shift, within(0.1));
        }
        assertThat(meanInput(jump, 1, ROWS / 2 - 200, ROWS / 2)).isCloseTo(0, within(0.25));
        assertThat(meanInput(jump, 1, ROWS / 2, ROWS / 2 + 200)).isCloseTo(shift, within(0.25));
    }

    @Test
    void aSeedDrawsTheSameStreamEveryTime() {
        HistoryTable first = SyntheticStreams.covariateJump(11, 500);
        HistoryTable again = SyntheticStreams.covariateJump(11, 500);
        for (int i = 0; i < 500; i++) {
            assertThat(again.rows().get(i).features())
                    .containsExactly(first.rows().get(i).features());
            assertThat(again.rows().get(i).label()).isEqualTo(first.rows().get(i).label());
        }
    }

    @Test
    void seaStepsItsThresholdEachQuarterAndFlipsATenthOfItsLabels() {
        List<HistoryRow> rows = SyntheticStreams.sea(5, ROWS).rows();

        int quarter = ROWS / 4;
        for (int q = 0; q < 4; q++) {
            double threshold = SyntheticStreams.SEA_THRESHOLDS[q];
            int positive = 0;
            int disagree = 0;
            for (HistoryRow row : rows.subList(q * quarter, (q + 1) * quarter)) {
                float[] x = row.features();
                assertThat(x).hasSize(3);
                for (float v : x) {
                    assertThat(v).isBetween(0f, 10f);
                }
                boolean clean = x[0] + x[1] <= threshold;
                positive += row.label() == 1 ? 1 : 0;
                disagree += (row.label() == 1) != clean ? 1 : 0;
            }
            // P(x0 + x1 <= t) for x uniform in [0, 10]²: t²/200 up to 10; flipped at 10%
            double clean = threshold * threshold / 200;
            double expected = 0.9 * clean + 0.1 * (1 - clean);
            assertThat((double) positive / quarter).isCloseTo(expected, within(0.035));
            assertThat((double) disagree / quarter).isCloseTo(0.1, within(0.025));
        }
    }

    @Test
    void theHyperplaneKeepsItsClassesBalancedWhileItsBoundaryMoves() {
        List<HistoryRow> rows = SyntheticStreams.hyperplane(5, ROWS).rows();

        int positive = 0;
        for (HistoryRow row : rows) {
            assertThat(row.features()).hasSize(SyntheticStreams.HYPERPLANE_FEATURES);
            for (float v : row.features()) {
                assertThat(v).isBetween(0f, 1f);
            }
            positive += row.label() == 1 ? 1 : 0;
        }
        assertThat((double) positive / ROWS).isBetween(0.4, 0.6);
        // the boundary moves: the label's correlation with a feature changes along the stream
        double[] early = correlations(rows.subList(0, ROWS / 4));
        double[] late = correlations(rows.subList(3 * ROWS / 4, ROWS));
        double moved = 0;
        for (int f = 0; f < early.length; f++) {
            moved = Math.max(moved, Math.abs(early[f] - late[f]));
        }
        assertThat(moved).isGreaterThan(0.2);
        assertThat(SyntheticStreams.hyperplane(5, 300).rows().get(299).features())
                .containsExactly(rows.get(299).features());
    }

    @Test
    void theCirclingClassesTurnHalfACircleOverTheStream() {
        HistoryTable table = SyntheticStreams.circling(5, ROWS);
        List<HistoryRow> rows = table.rows();

        assertThat(table.task()).isEqualTo(Task.MULTICLASS);
        assertThat(table.classes()).containsExactly("0", "1", "2");
        int[] counts = new int[3];
        for (HistoryRow row : rows) {
            counts[(int) row.label()]++;
        }
        for (int count : counts) {
            assertThat((double) count / ROWS).isCloseTo(1 / 3.0, within(0.03));
        }
        // class c's centre sits at angle 2πc/3 plus π times how far into the stream the rows are
        int tenth = ROWS / 10;
        for (int part : new int[] {0, 9}) {
            for (int c = 0; c < 3; c++) {
                double x = 0;
                double y = 0;
                for (HistoryRow row : rows.subList(part * tenth, (part + 1) * tenth)) {
                    if (row.label() == c) {
                        x += row.features()[0];
                        y += row.features()[1];
                    }
                }
                double expected = 2 * Math.PI * c / 3 + Math.PI * (part + 0.5) / 10;
                double turn = Math.atan2(y, x) - expected;
                assertThat(Math.abs(Math.atan2(Math.sin(turn), Math.cos(turn))))
                        .as("class %d in tenth %d", c, part)
                        .isLessThan(0.25);
            }
        }
    }

    @Test
    void theFewLabelsStreamGivesEachOfItsKeysFiftyLabelsOfItsOwnPhase() {
        HistoryTable table = SyntheticStreams.fewLabels(5, ROWS);
        List<HistoryRow> rows = table.rows();

        assertThat(table.task()).isEqualTo(Task.BINARY);
        java.util.Map<String, Integer> perKey = new java.util.TreeMap<>();
        for (HistoryRow row : rows) {
            perKey.merge(row.key(), 1, Integer::sum);
            assertThat(row.labeled()).isTrue();
        }
        int keys = ROWS / SyntheticStreams.LABELS_PER_KEY;
        assertThat(perKey).hasSize(keys);
        assertThat(perKey.values()).containsOnly(SyntheticStreams.LABELS_PER_KEY);
        // keys take turns, so a key's labels spread over the whole stream
        assertThat(rows.get(0).key()).isEqualTo(rows.get(keys).key());
        // the phase differs by key: near x0 = 0 the concept's first term is sin(0.9 (key mod 7)),
        // 0.97 for keys of phase 2 and -0.98 for keys of phase 5
        assertThat(positiveShareNearZero(rows, 2))
                .isGreaterThan(positiveShareNearZero(rows, 5) + 0.3);
        assertThat(SyntheticStreams.fewLabels(5, 300).rows().get(299).features())
                .containsExactly(rows.get(299).features());
    }

    /** The share of positive labels where |x0| < 0.2, over keys whose index mod 7 is phase. */
    private static double positiveShareNearZero(List<HistoryRow> rows, int phase) {
        int positive = 0;
        int count = 0;
        for (HistoryRow row : rows) {
            int key = Integer.parseInt(row.key().substring("key-".length()));
            if (key % 7 == phase && Math.abs(row.features()[0]) < 0.2) {
                positive += row.label() > 0 ? 1 : 0;
                count++;
            }
        }
        return (double) positive / count;
    }

    /** Each feature's correlation with the label. */
    private static double[] correlations(List<HistoryRow> rows) {
        int d = rows.get(0).features().length;
        double[] result = new double[d];
        double n = rows.size();
        double meanY = rows.stream().mapToDouble(HistoryRow::label).sum() / n;
        for (int f = 0; f < d; f++) {
            double sx = 0;
            double sxx = 0;
            double sxy = 0;
            double syy = 0;
            for (HistoryRow row : rows) {
                double x = row.features()[f];
                double y = row.label() - meanY;
                sx += x;
                sxx += x * x;
                sxy += x * y;
                syy += y * y;
            }
            double varX = sxx / n - (sx / n) * (sx / n);
            result[f] = sxy / n / Math.sqrt(varX * syy / n);
        }
        return result;
    }

    private static double meanInput(List<HistoryRow> rows, int quarter) {
        return meanInput(rows, 0, quarter * ROWS / 4, (quarter + 1) * ROWS / 4);
    }

    private static double meanInput(List<HistoryRow> rows, int feature, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += rows.get(i).features()[feature];
        }
        return sum / (to - from);
    }
}
