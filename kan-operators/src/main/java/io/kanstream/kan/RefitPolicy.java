package io.kanstream.kan;

/**
 * When a learner refits its grids: when the running summaries of the layers' inputs say a grid no
 * longer fits them, never on a blind count. The stream, {@code fit} and replay use the same policy,
 * so a warm-started model was trained the way it will be trained live.
 *
 * <p>A grid no longer fits when too much of a layer's recent input mass lies outside its interior,
 * where every spline basis is zero and only the SiLU branch acts ({@link Reason#OUTSIDE}), or when
 * its knots have drifted from the quantiles of the inputs, so some spans hold most of the data and
 * others none ({@link Reason#MISFIT}). A misfit refit must keep the network's outputs on its recent
 * inputs within {@link #tolerance}; mass outside the grid is reason enough to change more. Optional
 * grid extension ({@link Reason#EXTEND}) doubles G as a key's examples accumulate, up to {@link
 * #maxGridSize}, preserving the function as closely as the finer spline can.
 *
 * @param outsideThreshold refit once this fraction of a layer's recent input mass (over all its
 *     features) lies outside its grids' interiors; 1 or more for never
 * @param misfitThreshold refit once a layer's knots are this far from its inputs' quantiles, in
 *     probability mass (see {@link KanLearner#knotMisfit}); 1 or more for never
 * @param minExamples never refit from fewer examples than this since the last refit (or the last
 *     declined one)
 * @param tolerance largest relative change of the layers' outputs a misfit refit may make
 * @param maxGridSize the largest G grid extension grows to; at most the initial G turns it off
 * @param examplesPerInterval grid extension doubles G once the learner has learned from this many
 *     labeled examples per current grid interval
 */
public record RefitPolicy(
        double outsideThreshold,
        double misfitThreshold,
        long minExamples,
        double tolerance,
        int maxGridSize,
        long examplesPerInterval)
        implements java.io.Serializable {

    /** Why a refit is due. */
    public enum Reason {
        NONE,
        OUTSIDE,
        MISFIT,
        EXTEND
    }

    public RefitPolicy {
        if (!(outsideThreshold > 0)) {
            throw new IllegalArgumentException(
                    "outside-grid threshold must be > 0 (1 or more for never), got "
                            + outsideThreshold);
        }
        if (!(misfitThreshold > 0)) {
            throw new IllegalArgumentException(
                    "knot misfit threshold must be > 0 (1 or more for never), got "
                            + misfitThreshold);
        }
        if (minExamples < 1) {
            throw new IllegalArgumentException("minimum examples must be >= 1, got " + minExamples);
        }
        if (!(tolerance >= 0)) {
            throw new IllegalArgumentException("refit tolerance must be >= 0, got " + tolerance);
        }
        if (examplesPerInterval < 1) {
            throw new IllegalArgumentException(
                    "examples per grid interval must be >= 1, got " + examplesPerInterval);
        }
    }

    public static RefitPolicy defaults() {
        return new RefitPolicy(0.2, 0.15, 500, 0.05, 0, 1000);
    }

    /** No refits at all: the grids stay where they were initialized or imported. */
    public static RefitPolicy never() {
        return new RefitPolicy(1, 1, Long.MAX_VALUE, 0, 0, 1000);
    }

    public boolean refits() {
        return minExamples < Long.MAX_VALUE;
    }

    /** This policy with grid extension up to {@code maxGridSize}. */
    public RefitPolicy withExtension(int maxGridSize) {
        return new RefitPolicy(
                outsideThreshold,
                misfitThreshold,
                minExamples,
                tolerance,
                maxGridSize,
                examplesPerInterval);
    }

    /** Why the learner should refit now, or {@link Reason#NONE}. */
    public Reason reason(KanLearner learner) {
        if (!refits() || learner.examplesSinceRefit() < minExamples) {
            return Reason.NONE;
        }
        if (outsideThreshold < 1 && learner.outsideGridFraction() >= outsideThreshold) {
            return Reason.OUTSIDE;
        }
        if (gridSizeFor(learner) > learner.config().gridSize()) {
            return Reason.EXTEND;
        }
        if (misfitThreshold < 1 && learner.knotMisfit() >= misfitThreshold) {
            return Reason.MISFIT;
        }
        return Reason.NONE;
    }

    /** The grid size the learner should have now: its own, or double it when extension is due. */
    public int gridSizeFor(KanLearner learner) {
        int g = learner.config().gridSize();
        if (2 * g > maxGridSize || learner.examples() < examplesPerInterval * g) {
            return g;
        }
        return 2 * g;
    }
}
