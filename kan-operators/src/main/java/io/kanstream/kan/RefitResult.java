package io.kanstream.kan;

/**
 * What a grid refit did.
 *
 * @param gridEpoch refits so far, this one included
 * @param gridSize G after the refit
 * @param samples how many input rows the refit used
 * @param insideFraction per layer, the fraction of sample values inside the new grid's interior
 */
public record RefitResult(int gridEpoch, int gridSize, int samples, double[] insideFraction) {}
