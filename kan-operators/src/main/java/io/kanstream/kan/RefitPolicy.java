package io.kanstream.kan;

/**
 * When a learner refits its grids: when the running summaries of the layers' inputs say a grid no
 * longer fits them, never on a blind count. The stream, {@code fit} and replay use the same policy,
 * so a warm-started model was trained the way it will be trained live.
 *
 * <p>A grid no longer fits when too much of a layer's recent input mass lies outside its interior,
 * where every spline basis is zero and only the SiLU branch acts ({@link Reason#OUTSIDE}), or when
 * its knots have drifted from the quantiles of the inputs, so some spans hold most of the data and
 * others none ({@link Reason#MISFIT}, judged on the input layer). A refit changes only the layers
 * the reason holds for, and must keep the network's outputs on its recent inputs within {@link
 * #tolerance}. Optional grid extension ({@link Reason#EXTEND}) doubles G as a key's examples
 * accumulate, up to {@link #maxGridSize}, preserving the function as closely as the finer spline
 * can.
 *
 * @param outsideThreshold refit once this fraction of a layer's recent input mass (over all its
 *     features) lies outside its grids' interiors; 1 or more for never
 * @param misfitThreshold refit once a layer's knots are this far from its inputs' quantiles, in
 *     probability mass (see {@link KanLearner#knotMisfit}); 1 or more for never
 * @param misfitUntil knot misfits trigger refits only while the learner has learned from fewer
 *     labeled examples than this (as in pykan, where grids are updated early in training); the
 *     default 0 leaves them off: on the evaluation suite they helped no stream beyond its spread
 *     and cost the covariate-shift stream 10% in RMSE (docs/learning.md)
 * @param minExamples never refit from fewer examples than this since the last refit (or the last
 *     declined one)
 * @param declineBackoff after refits declined in a row, wait that many times twice as long before
 *     looking again, up to this many doublings (0: always {@code minExamples}). A grid that does
 *     not fit its inputs but cannot move within tolerance stays so while the stream does, and every
 *     look costs several proposals; an accepted refit or a sample refit starts over at {@code
 *     minExamples}, and a detected drift looks at once whatever the wait
 * @param tolerance largest relative change of the layers' outputs a refit may make
 * @param maxGridSize the largest G grid extension grows to; at most the initial G turns it off
 * @param examplesPerInterval grid extension doubles G once the learner has learned from this many
 *     labeled examples per current grid interval
 */
public record RefitPolicy(
        double outsideThreshold,
        double misfitThreshold,
        long misfitUntil,
        long minExamples,
        int declineBackoff,
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
        if (misfitUntil < 0) {
            throw new IllegalArgumentException(
                    "misfit refit horizon must be >= 0, got " + misfitUntil);
        }
        if (minExamples < 1) {
            throw new IllegalArgumentException("minimum examples must be >= 1, got " + minExamples);
        }
        if (declineBackoff < 0 || declineBackoff > 30) {
            throw new IllegalArgumentException(
                    "decline backoff must be 0 to 30 doublings, got " + declineBackoff);
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
        return new RefitPolicy(0.2, 0.15, 0, 500, 2, 0.05, 0, 1000);
    }

    /** No refits at all: the grids stay where they were initialized or imported. */
    public static RefitPolicy never() {
        return new RefitPolicy(1, 1, 0, Long.MAX_VALUE, 0, 0, 0, 1000);
    }

    public boolean refits() {
        return minExamples < Long.MAX_VALUE;
    }

    /** This policy with grid extension up to {@code maxGridSize}. */
    public RefitPolicy withExtension(int maxGridSize) {
        return new RefitPolicy(
                outsideThreshold,
                misfitThreshold,
                misfitUntil,
                minExamples,
                declineBackoff,
                tolerance,
                maxGridSize,
                examplesPerInterval);
    }

    /** This policy with another {@code declineBackoff} (0: no backoff). */
    public RefitPolicy withDeclineBackoff(int doublings) {
        return new RefitPolicy(
                outsideThreshold,
                misfitThreshold,
                misfitUntil,
                minExamples,
                doublings,
                tolerance,
                maxGridSize,
                examplesPerInterval);
    }

    /**
     * The examples since the last refit (or declined one) before the learner is looked at again:
     * {@code minExamples}, doubled for each refit declined in a row up to {@code declineBackoff}.
     */
    public long examplesBeforeLook(KanLearner learner) {
        int doublings = Math.min(learner.declinedInARow(), declineBackoff);
        return minExamples > (Long.MAX_VALUE >> doublings)
                ? Long.MAX_VALUE
                : minExamples << doublings;
    }

    /** Why the learner should refit now, or {@link Reason#NONE}. */
    public Reason reason(KanLearner learner) {
        if (!refits() || learner.examplesSinceRefit() < examplesBeforeLook(learner)) {
            return Reason.NONE;
        }
        if (outsideThreshold < 1 && learner.outsideGridFraction() >= outsideThreshold) {
            return Reason.OUTSIDE;
        }
        if (gridSizeFor(learner) > learner.config().gridSize()) {
            return Reason.EXTEND;
        }
        if (misfits(learner)) {
            return Reason.MISFIT;
        }
        return Reason.NONE;
    }

    /**
     * Knot misfits are judged on the input layer only: its distribution is the data's, while a
     * hidden layer's is the network's own and moves as it learns (refitting a hidden grid to the
     * activations of a half-trained network narrowed it where they were about to grow, and cost the
     * toy problem twice its error). Hidden grids follow when their inputs leave them.
     */
    private boolean misfits(KanLearner learner) {
        return misfitThreshold < 1
                && learner.examples() < misfitUntil
                && learner.knotMisfit(0) >= misfitThreshold;
    }

    /** Which layers a refit for this reason changes: the ones the reason holds for. */
    public boolean[] layers(KanLearner learner, Reason reason) {
        boolean[] layers = new boolean[learner.layerCount()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] =
                    switch (reason) {
                        case NONE -> false;
                        case EXTEND -> true;
                        case OUTSIDE -> learner.outsideGridFraction(l) >= outsideThreshold;
                        case MISFIT -> l == 0;
                    };
        }
        if (reason == Reason.OUTSIDE && misfits(learner)) {
            layers[0] = true;
        }
        return layers;
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
