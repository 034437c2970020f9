package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.function.BiConsumer;

/**
 * A learner fed as the job feeds it, and what a round trip of its state must keep: shared by the
 * tests of a learner's members (companions, the parameter average).
 */
final class LearnerStreams {
    private LearnerStreams() {}

    /**
     * One example at a time, scored and then learned from, as the job does; a multiclass learner
     * gets labels naming two of its classes, as the binary labels name them.
     */
    static void stream(KanLearner learner, Task task, int examples, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Task labels = task == Task.MULTICLASS ? Task.BINARY : task;
        for (int e = 0; e < examples; e++) {
            float[] row = FormatV1Fixtures.rows(random, 1);
            learner.score(row, 1);
            learner.learn(row, FormatV1Fixtures.labels(labels, row, random));
        }
    }

    /** 16 fixed rows to compare learners' outputs on. */
    static float[] probes() {
        return FormatV1Fixtures.rows(new SplittableRandom(99), 16);
    }

    /**
     * Encodes {@code learner} and decodes it on the CPU: the copy has the same configuration,
     * passes {@code same} (copy, original), scores the probes exactly as the original does, and
     * after both learn from the same {@code examples} more examples encodes to the same bytes.
     */
    static void assertRestoredGoesOnAlike(
            KanLearner learner,
            Task task,
            int examples,
            long seed,
            BiConsumer<KanLearner, KanLearner> same) {
        byte[] state = LearnerStateCodec.encode(learner);
        try (KanLearner copy = LearnerStateCodec.decode(state, "cpu")) {
            assertThat(copy.config()).isEqualTo(learner.config());
            same.accept(copy, learner);
            assertThat(copy.outputs(probes(), 16)).containsExactly(learner.outputs(probes(), 16));
            stream(learner, task, examples, seed);
            stream(copy, task, examples, seed);
            assertThat(LearnerStateCodec.encode(copy)).isEqualTo(LearnerStateCodec.encode(learner));
        }
    }
}
