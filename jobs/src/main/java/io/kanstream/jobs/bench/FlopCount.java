package io.kanstream.jobs.bench;

import io.kanstream.kan.KnotGrid;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Floating-point operations per sample of the KAN math, derived from the shapes: what any
 * implementation of efficient-kan's layer has to compute, not what a particular one executes.
 *
 * <p>Convention: one add, multiply, divide or exp is one FLOP; a multiply-add in a matmul is two.
 * The order-0 bases are comparisons and count zero. Work done once per call (C ⊙ S, the
 * parameter-gradient reductions over C, the optimizer) is divided by the batch. Per layer, in →
 * out, with C = G + k coefficients and the order-p recursion {@code w_p = G + 2k − p} bases wide:
 *
 * <ul>
 *   <li>forward: SiLU 5·in (σ = neg, exp, add, reciprocal; one multiply), base matmul 2·in·out,
 *       Cox–de Boor 7·in·Σ_p w_p (two three-op terms and their sum per basis), spline matmul
 *       2·in·C·out, branch sum out; per call C ⊙ S in·out·C;
 *   <li>backward, parameters: dWb 2·in·out and d(C ⊙ S) 2·in·C·out per sample, then per call dC and
 *       dS 3·in·out·C;
 *   <li>backward, input (every layer but the first): dOut·Wb 2·in·out, SiLU′ 5·in, dOut·(C ⊙ S)
 *       2·in·C·out, B-spline derivative 3·in·C, its contraction 2·in·C, sums 2·in;
 *   <li>loss: 3 per output; optimizer per call: 13 per parameter (norm 2, clip 1, Adam 10).
 * </ul>
 *
 * <p>Autograd executes more than this (it differentiates the recursion itself, op by op); the same
 * count is used for both so that GFLOP/s compares useful work.
 */
final class FlopCount {
    private FlopCount() {}

    /** FLOPs per sample by part, in a stable order. */
    record Breakdown(Map<String, Double> parts) {
        double total() {
            return parts.values().stream().mapToDouble(Double::doubleValue).sum();
        }
    }

    /** Scoring: the forward pass only. */
    static Breakdown forward(List<Integer> widths, int gridSize, int order, int batch) {
        Map<String, Double> parts = new LinkedHashMap<>();
        addForward(parts, widths, gridSize, order, batch);
        return new Breakdown(parts);
    }

    /** One training step: forward, loss, backward, optimizer. */
    static Breakdown training(List<Integer> widths, int gridSize, int order, int batch) {
        Map<String, Double> parts = new LinkedHashMap<>();
        addForward(parts, widths, gridSize, order, batch);
        int c = KnotGrid.coefficients(gridSize, order);
        double parameters = 0;
        for (int l = 0; l + 1 < widths.size(); l++) {
            int in = widths.get(l);
            int out = widths.get(l + 1);
            parameters += (double) out * in * (c + 2);
            add(
                    parts,
                    "backward_parameters",
                    2.0 * in * out + 2.0 * in * c * out + 3.0 * in * out * c / batch);
            if (l > 0) {
                add(
                        parts,
                        "backward_input",
                        2.0 * in * out + 5.0 * in + 2.0 * in * c * out + 5.0 * in * c + 2.0 * in);
            }
        }
        add(parts, "loss", 3.0 * widths.get(widths.size() - 1));
        add(parts, "optimizer", 13.0 * parameters / batch);
        return new Breakdown(parts);
    }

    private static void addForward(
            Map<String, Double> parts, List<Integer> widths, int gridSize, int order, int batch) {
        int c = KnotGrid.coefficients(gridSize, order);
        double recursionWidth = 0; // Σ_p w_p
        for (int p = 1; p <= order; p++) {
            recursionWidth += gridSize + 2 * order - p;
        }
        for (int l = 0; l + 1 < widths.size(); l++) {
            int in = widths.get(l);
            int out = widths.get(l + 1);
            add(parts, "silu", 5.0 * in);
            add(parts, "base_matmul", 2.0 * in * out);
            add(parts, "bases", 7.0 * in * recursionWidth);
            add(parts, "spline_matmul", 2.0 * in * c * out + out);
            add(parts, "scaled_weights", (double) in * out * c / batch);
        }
    }

    private static void add(Map<String, Double> parts, String part, double flops) {
        parts.merge(part, flops, Double::sum);
    }
}
