package io.kanstream.kan;

/**
 * When a learner refits its grids: on a schedule (every so many examples), and sooner when too many
 * inputs fall outside the grids, where only the SiLU branch acts and the splines learn nothing. The
 * stream and {@code fit} use the same policy, so a warm-started model was trained the way it will
 * be trained live.
 *
 * @param everyExamples refit after this many examples since the last refit; 0 for never
 * @param outsideThreshold refit once this fraction of a layer's input values (over all its
 *     features) lies outside its grids
 * @param minExamples never refit from fewer examples than this since the last refit
 */
public record RefitPolicy(long everyExamples, double outsideThreshold, long minExamples)
        implements java.io.Serializable {

    public RefitPolicy {
        if (everyExamples < 0) {
            throw new IllegalArgumentException("refit interval must be >= 0, got " + everyExamples);
        }
        if (!(outsideThreshold > 0 && outsideThreshold <= 1)) {
            throw new IllegalArgumentException(
                    "outside-grid threshold must be in (0, 1], got " + outsideThreshold);
        }
        if (minExamples < 1) {
            throw new IllegalArgumentException("minimum examples must be >= 1, got " + minExamples);
        }
    }

    public static RefitPolicy defaults() {
        return new RefitPolicy(2000, 0.3, 256);
    }

    /** Whether the learner should refit now. */
    public boolean due(KanLearner learner) {
        long since = learner.examplesSinceRefit();
        if (since < minExamples) {
            return false;
        }
        return (everyExamples > 0 && since >= everyExamples)
                || learner.outsideGridFraction() >= outsideThreshold;
    }
}
