package io.kanstream.kan;

import java.util.Arrays;

/**
 * A key's learner and its companions ({@link KanConfig#companionRates()}): KANs of the same shape,
 * each with its own learning rate and initialization, that score every event and learn from every
 * label beside the learner. What a caller sees is a mixture of the members' outputs, weighted by
 * exponential weights on each member's decayed recent loss: {@code w_i ∝ exp(−L_i)}, with {@code
 * L_i} the member's loss summed over the labels so far, each label's weight decaying by {@code 1 −
 * 1/mixtureHorizon} per later label. After a change of concept the member that adapts fastest takes
 * over; on a stable stretch the one that learns most precisely does.
 *
 * <p>The losses are the members' log-losses of their calibrated probabilities (classification) or
 * half their squared errors in units of the label's running standard deviation (regression), each
 * measured on a label before any member learns from it. With these losses and a learning rate of
 * one the mixture of probabilities is the Bayesian mixture of the members, whose log-loss is at
 * most the best member's plus {@code ln(members)} over any stretch the decay remembers (Vovk's
 * aggregating algorithm; log-loss is 1-mixable), so no weight needs tuning.
 *
 * <p>Binary probabilities are mixed and returned as a logit; multiclass ones are mixed and returned
 * as log-probabilities plus the first member's log-normalizer (a valid set of logits, which are the
 * first member's own where the members agree); regression outputs are averaged. Not thread-safe,
 * like the learner that owns it.
 */
final class LearnerMixture implements AutoCloseable {
    /** A bound on companions per key: each costs a learner's work and state. */
    static final int MAX_COMPANIONS = 8;

    /** Probabilities a mixed binary output is kept within, so its logit stays finite. */
    private static final double MIN_PROBABILITY = 1e-6;

    /** Apart from the owner's seed by multiples of this, so companions start elsewhere. */
    private static final long SEED_STRIDE = 1_000_003;

    final KanLearner[] companions;

    /** Each member's decayed loss: the owner's first, then each companion's. */
    final double[] losses;

    private final Task task;
    private final double decay;

    LearnerMixture(KanConfig owner, KanLearner[] companions, double[] losses) {
        if (companions.length != owner.companionRates().size()
                || losses.length != companions.length + 1) {
            throw new IllegalArgumentException(
                    "a mixture of "
                            + owner.companionRates().size()
                            + " companions got "
                            + companions.length
                            + " learners and "
                            + losses.length
                            + " losses");
        }
        this.companions = companions;
        this.losses = losses;
        this.task = owner.task();
        this.decay = 1 - 1 / owner.mixtureHorizon();
    }

    /** Fresh companions for a fresh learner of {@code owner}; null when it asks for none. */
    static LearnerMixture create(KanConfig owner) {
        int count = owner.companionRates().size();
        if (count == 0) {
            return null;
        }
        KanLearner[] companions = new KanLearner[count];
        for (int c = 0; c < count; c++) {
            companions[c] = KanLearner.create(companionConfig(owner, c));
        }
        return new LearnerMixture(owner, companions, new double[count + 1]);
    }

    /**
     * The configuration of companion {@code index}: the owner's, with the learning rate times its
     * factor, a seed of its own, and no companions or parameter average of its own.
     */
    static KanConfig companionConfig(KanConfig owner, int index) {
        return owner.toBuilder()
                .learningRate(owner.learningRate() * owner.companionRates().get(index))
                .seed(owner.seed() + SEED_STRIDE * (index + 1))
                .companionRates(java.util.List.of())
                .averageHorizon(0)
                .build();
    }

    /** The members' weights, the owner's first; they sum to 1. */
    double[] weights() {
        return weights(losses);
    }

    /** Exponential weights {@code w_i ∝ exp(−L_i)} of members with decayed losses {@code L_i}. */
    static double[] weights(double[] losses) {
        double best = Arrays.stream(losses).min().orElse(0);
        double[] w = new double[losses.length];
        double sum = 0;
        for (int i = 0; i < w.length; i++) {
            w[i] = Math.exp(best - losses[i]);
            sum += w[i];
        }
        for (int i = 0; i < w.length; i++) {
            w[i] /= sum;
        }
        return w;
    }

    /**
     * The mixture's outputs for rows the owner scored as {@code own}.
     *
     * @param record whether the companions record the rows in their input summaries, as the owner
     *     did ({@link KanLearner#score}) or not ({@link KanLearner#outputs})
     */
    float[] mix(float[] own, float[] rows, int n, boolean record) {
        float[][] members = new float[losses.length][];
        members[0] = own;
        for (int c = 0; c < companions.length; c++) {
            members[c + 1] = record ? companions[c].score(rows, n) : companions[c].outputs(rows, n);
        }
        return combine(task, members, n, weights());
    }

    /**
     * The members' outputs mixed with weights {@code w}: probabilities for classification (returned
     * as a logit or as log-probabilities), values for regression.
     */
    static float[] combine(Task task, float[][] members, int n, double[] w) {
        int out = members[0].length / n;
        float[] mixed = new float[members[0].length];
        switch (task) {
            case REGRESSION -> {
                for (int q = 0; q < mixed.length; q++) {
                    double sum = 0;
                    for (int i = 0; i < members.length; i++) {
                        sum += w[i] * members[i][q];
                    }
                    mixed[q] = (float) sum;
                }
            }
            case BINARY -> {
                for (int q = 0; q < mixed.length; q++) {
                    double p = 0;
                    for (int i = 0; i < members.length; i++) {
                        p += w[i] * Task.sigmoid(members[i][q]);
                    }
                    p = Math.min(1 - MIN_PROBABILITY, Math.max(MIN_PROBABILITY, p));
                    mixed[q] = (float) Math.log(p / (1 - p));
                }
            }
            case MULTICLASS -> {
                double[] p = new double[out];
                for (int s = 0; s < n; s++) {
                    Arrays.fill(p, 0);
                    for (int i = 0; i < members.length; i++) {
                        double[] member = Task.softmax(members[i], s * out, out);
                        for (int c = 0; c < out; c++) {
                            p[c] += w[i] * member[c];
                        }
                    }
                    // log-probabilities shifted by the first member's log-normalizer: the same
                    // softmax, and members that agree give back the first one's logits
                    double shift = Task.logSumExp(members[0], s * out, out);
                    for (int c = 0; c < out; c++) {
                        mixed[s * out + c] =
                                (float) (Math.log(Math.max(p[c], MIN_PROBABILITY)) + shift);
                    }
                }
            }
        }
        return mixed;
    }

    /**
     * Weighs every member by its loss on the labeled rows, then lets each companion learn from
     * them. Called by the owner before it learns, with its own outputs on the rows as they stand.
     *
     * @param own the owner's outputs on the rows, before its step
     * @param labelScale the labels' running standard deviation (regression), 1 otherwise
     */
    void learn(float[] own, float[] rows, double[] labels, double labelScale) {
        int n = labels.length;
        float[][] members = new float[losses.length][];
        members[0] = own;
        for (int c = 0; c < companions.length; c++) {
            members[c + 1] = companions[c].outputs(rows, n);
        }
        charge(task, losses, decay, members, labels, labelScale);
        for (KanLearner companion : companions) {
            companion.learn(rows, labels);
        }
    }

    /**
     * Charges every member its loss on a labeled batch, given its outputs on the batch before any
     * member learned from it: each decayed loss fades by {@code decay} per label and takes the new
     * loss; then the smallest is set back to 0 (only differences matter, and the sums stay small).
     */
    static void charge(
            Task task,
            double[] losses,
            double decay,
            float[][] members,
            double[] labels,
            double labelScale) {
        double fade = Math.pow(decay, labels.length);
        for (int i = 0; i < losses.length; i++) {
            losses[i] = fade * losses[i] + loss(task, members[i], labels, labelScale);
        }
        double best = Arrays.stream(losses).min().orElse(0);
        for (int i = 0; i < losses.length; i++) {
            losses[i] -= best;
        }
    }

    /** A member's summed loss on a batch; a non-finite one counts as a large finite loss. */
    private static double loss(Task task, float[] outputs, double[] labels, double labelScale) {
        int n = labels.length;
        double mean =
                task.lossAndGradient(
                        outputs, outputs.length / n, labels, new float[outputs.length]);
        if (task == Task.REGRESSION) {
            mean /= 2 * labelScale * labelScale;
        }
        return Double.isFinite(mean) ? mean * n : 50.0 * n;
    }

    /** Applies {@code action} to every companion. */
    void forEach(java.util.function.Consumer<KanLearner> action) {
        for (KanLearner companion : companions) {
            action.accept(companion);
        }
    }

    @Override
    public void close() {
        forEach(KanLearner::close);
    }
}
