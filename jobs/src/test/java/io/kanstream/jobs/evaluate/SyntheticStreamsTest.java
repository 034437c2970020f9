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
