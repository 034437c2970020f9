package io.kanstream.eval;

/**
 * Classification figures over one horizon. Every figure is NaN where it is undefined: before any
 * example, κ when the marginals leave no room above chance (one class only), κ_t when the no-change
 * classifier is always right, AUC without both kinds of example for any class.
 *
 * @param weight examples counted: a count, or the sum of the faded weights
 * @param accuracy fraction predicted correctly
 * @param logLoss mean −ln p(true class), p clipped to [1e-15, 1 − 1e-15]
 * @param auc area under the ROC curve of P(class 1); for more than two classes the macro average of
 *     each class's one-against-the-rest AUC; ties count one half
 * @param kappa Cohen's κ: (p0 − pc) / (1 − pc), pc the chance agreement from the marginals
 * @param kappaTemporal κ_t (Žliobaitė et al. 2015): (p0 − pn) / (1 − pn), pn the accuracy of the
 *     no-change classifier
 * @param noChangeAccuracy pn, the accuracy of predicting the previous true label
 */
public record ClassificationFigures(
        double weight,
        double accuracy,
        double logLoss,
        double auc,
        double kappa,
        double kappaTemporal,
        double noChangeAccuracy) {}
