package io.kanstream.kan;

/**
 * What one mini-batch step did.
 *
 * @param loss the batch-mean loss before the update, in the network's units (standardized targets
 *     for regression); NaN when the outputs were not finite
 * @param gradientNorm the global gradient norm before clipping; NaN or Inf when skipped for it
 * @param applied false when the step was skipped because the loss or a gradient was not finite
 * @param steps applied steps so far
 * @param skippedSteps skipped steps so far
 */
public record StepResult(
        double loss, double gradientNorm, boolean applied, long steps, long skippedSteps) {}
