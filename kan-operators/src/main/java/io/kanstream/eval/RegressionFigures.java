package io.kanstream.eval;

/**
 * Regression figures over one horizon, NaN where undefined: before any example, and R² or skill
 * while the reference has made no error.
 *
 * <p>R² and the skill compare the model with a reference predictor on the same examples, all
 * prequentially: each reference predicts an example before seeing its label. The first example of
 * the stream has no reference prediction and is left out of R² and skill (not of RMSE and MAE).
 *
 * @param weight examples counted: a count, or the sum of the faded weights
 * @param rmse root mean squared error, in label units
 * @param mae mean absolute error, in label units
 * @param r2 1 − SSE / SSE(mean), the reference predicting the mean of the labels seen before the
 *     example over the same horizon (the whole stream so far, the window, or faded)
 * @param skillVsNoChange 1 − SSE / SSE(no change), the reference predicting the previous label: a
 *     κ-like skill score, 0 for a model no better than persistence
 * @param noChangeRmse the no-change reference's RMSE over the examples it predicted
 */
public record RegressionFigures(
        double weight,
        double rmse,
        double mae,
        double r2,
        double skillVsNoChange,
        double noChangeRmse) {}
