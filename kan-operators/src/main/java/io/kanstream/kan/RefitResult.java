package io.kanstream.kan;

/**
 * What a grid refit did.
 *
 * @param gridEpoch refits so far, this one included
 * @param gridSize G after the refit
 * @param samples how many input rows (or points per summary) the refit fitted on
 * @param insideFraction per layer, the fraction of fitting points inside the new grid's interior
 * @param change relative L2 change of the layers' outputs on the fitting points
 */
public record RefitResult(
        int gridEpoch, int gridSize, int samples, double[] insideFraction, double change) {}
