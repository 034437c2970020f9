package io.kanstream.kan;

/**
 * A key's own model beside a model its keys share (the population of an operator subtask): the
 * key's score is the two members' mixture, weighted by exponential weights on their decayed losses
 * on that key's labels, as {@link LearnerMixture} weighs a learner's companions. A key with few
 * labels of its own leans on what every key's labels taught the shared model; a key whose own model
 * has learned its concept better leans on that. The two losses are the key's, kept by its caller;
 * the shared model is the caller's too.
 */
public final class SharedModelMixture {
    private SharedModelMixture() {}

    /** Decayed losses of a key that has seen no label: both members weigh the same. */
    public static double[] freshLosses() {
        return new double[2];
    }

    /** The weights of the key's own model and of the shared one in its score, summing to 1. */
    public static double[] weights(double[] losses) {
        return LearnerMixture.weights(losses);
    }

    /**
     * The key's outputs mixed with the shared model's, as the key's finished outputs are: a logit
     * (binary), log-probabilities (multiclass) or values (regression).
     *
     * @param losses the key's decayed losses: its own model's, then the shared model's
     */
    public static float[] mix(Task task, float[] own, float[] shared, int n, double[] losses) {
        return LearnerMixture.combine(
                task, new float[][] {own, shared}, n, LearnerMixture.weights(losses));
    }

    /**
     * Charges both members their loss on labeled rows, given their finished outputs on the rows
     * before either learns from them, with the key's model's memory ({@link
     * KanConfig#mixtureHorizon()}).
     */
    public static void charge(
            KanLearner key, double[] losses, float[] own, float[] shared, double[] labels) {
        LearnerMixture.charge(
                key.config().task(),
                losses,
                1 - 1 / key.config().mixtureHorizon(),
                new float[][] {own, shared},
                labels,
                key.labelScale());
    }
}
