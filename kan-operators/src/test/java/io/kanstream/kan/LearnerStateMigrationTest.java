package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** What the migration from format 1 makes of a learner, beyond restoring what it computes. */
class LearnerStateMigrationTest {

    private static byte[] resource(String name) throws IOException {
        try (InputStream in =
                LearnerStateMigrationTest.class.getResourceAsStream("/state/v1/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void theVersionOneWindowBuildsTheInputSummariesAndRefitsWorkFromThem() throws IOException {
        try (KanLearner learner =
                LearnerStateCodec.decode(resource("learner-4-8-1-binary.kans"), "cpu")) {
            assertThat(learner.statistics.isEmpty()).isFalse();
            assertThat(learner.config().logitBound()).isZero(); // the migrated model is unchanged
            assertThat(learner.config().device()).isEqualTo("cpu");
            int epoch = learner.gridEpoch();
            learner.refitFromStatistics();
            assertThat(learner.gridEpoch()).isEqualTo(epoch + 1);
        }
    }

    @Test
    void aMigratedStateIsWrittenBackInTheCurrentFormatAndReadsAgain() throws IOException {
        try (KanLearner learner =
                LearnerStateCodec.decode(resource("learner-4-8-1-regression.kans"), "cpu")) {
            byte[] current = LearnerStateCodec.encode(learner);
            assertThat(java.nio.ByteBuffer.wrap(current, 4, 4).getInt())
                    .isEqualTo(LearnerStateCodec.CURRENT_VERSION);
            assertThat(current.length).isLessThan(resource("learner-4-8-1-regression.kans").length);
            try (KanLearner again = LearnerStateCodec.decode(current, "cpu")) {
                float[] probe = {0.5f, -1f, 2f, 0.1f};
                assertThat(again.outputs(probe, 1)).containsExactly(learner.outputs(probe, 1));
            }
        }
    }
}
