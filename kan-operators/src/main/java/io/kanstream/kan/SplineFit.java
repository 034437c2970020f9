package io.kanstream.kan;

import org.apache.commons.math3.exception.MathArithmeticException;
import org.apache.commons.math3.exception.MathIllegalArgumentException;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * Least-squares fit of spline coefficients to target curves, for one feature at a time: the step
 * that turns "these edges should output Y at these inputs" into coefficients under a new grid. Used
 * by initialization (efficient-kan's curve-to-coefficients) and by grid refits.
 *
 * <p>Solved on the host in double precision. The normal equations carry a small second-difference
 * (P-spline) penalty and a tiny ridge, both relative to the data's scale, so spans with few or no
 * samples get smooth, bounded coefficients instead of an error, and the pseudo-inverse of the SVD
 * takes whatever rank is left. It never throws on rank-deficient systems.
 */
final class SplineFit {
    private static final double RIDGE = 1e-4;

    private SplineFit() {}

    /**
     * Ridge regression toward a prior: minimizes ‖Aθ − y‖² + λ·‖θ − θ₀‖² per output, with λ
     * relative to mean(diag(AᵀA)). Cholesky on the (positive definite) normal equations, the SVD's
     * pseudo-inverse should rounding make them indefinite.
     *
     * @param design (n, p) row-major
     * @param targets (n, out) row-major
     * @param prior (out, p) row-major θ₀
     * @return (out, p) row-major
     */
    static double[] solveTowards(
            double[] design,
            int n,
            int p,
            double[] targets,
            int out,
            double[] prior,
            double ridge) {
        double[][] normal = new double[p][p];
        double[][] rhs = new double[p][out];
        for (int s = 0; s < n; s++) {
            int row = s * p;
            for (int a = 0; a < p; a++) {
                double value = design[row + a];
                if (value == 0) {
                    continue;
                }
                for (int b = a; b < p; b++) {
                    normal[a][b] += value * design[row + b];
                }
                for (int o = 0; o < out; o++) {
                    rhs[a][o] += value * targets[s * out + o];
                }
            }
        }
        double trace = 0;
        for (int a = 0; a < p; a++) {
            trace += normal[a][a];
            for (int b = 0; b < a; b++) {
                normal[a][b] = normal[b][a];
            }
        }
        double lambda = ridge * (trace > 0 ? trace / p : 1);
        for (int a = 0; a < p; a++) {
            normal[a][a] += lambda;
            for (int o = 0; o < out; o++) {
                rhs[a][o] += lambda * prior[o * p + a];
            }
        }
        RealMatrix matrix = new Array2DRowRealMatrix(normal, false);
        RealMatrix right = new Array2DRowRealMatrix(rhs, false);
        RealMatrix solution;
        try {
            solution = new CholeskyDecomposition(matrix).getSolver().solve(right);
        } catch (MathIllegalArgumentException | MathArithmeticException e) {
            solution = new SingularValueDecomposition(matrix).getSolver().solve(right);
        }
        double[] theta = new double[out * p];
        for (int o = 0; o < out; o++) {
            for (int a = 0; a < p; a++) {
                theta[o * p + a] = solution.getEntry(a, o);
            }
        }
        return theta;
    }

    /**
     * @param bases (n, c) row-major bases of the n samples under the new grid
     * @param targets (n, out) row-major values the fitted curves should take
     * @param smoothing weight of the second-difference penalty, relative to mean(diag(AᵀA))
     * @return (out, c) row-major coefficients
     */
    static double[] solve(
            double[] bases, int n, int c, double[] targets, int out, double smoothing) {
        double[][] normal = new double[c][c];
        double[][] rhs = new double[c][out];
        for (int s = 0; s < n; s++) {
            int rowA = s * c;
            int rowY = s * out;
            for (int a = 0; a < c; a++) {
                double value = bases[rowA + a];
                if (value == 0) {
                    continue;
                }
                for (int b = 0; b < c; b++) {
                    normal[a][b] += value * bases[rowA + b];
                }
                for (int o = 0; o < out; o++) {
                    rhs[a][o] += value * targets[rowY + o];
                }
            }
        }
        double trace = 0;
        for (int a = 0; a < c; a++) {
            trace += normal[a][a];
        }
        double scale = trace > 0 ? trace / c : 1;
        // P-spline penalty λ·DᵀD with D the second-difference operator on coefficients.
        double penalty = smoothing * scale;
        for (int j = 0; j + 2 < c; j++) {
            int[] index = {j, j + 1, j + 2};
            double[] weight = {1, -2, 1};
            for (int a = 0; a < 3; a++) {
                for (int b = 0; b < 3; b++) {
                    normal[index[a]][index[b]] += penalty * weight[a] * weight[b];
                }
            }
        }
        for (int a = 0; a < c; a++) {
            normal[a][a] += RIDGE * scale;
        }
        RealMatrix solution =
                new SingularValueDecomposition(new Array2DRowRealMatrix(normal, false))
                        .getSolver()
                        .solve(new Array2DRowRealMatrix(rhs, false)); // (c, out)
        double[] coefficients = new double[out * c];
        for (int o = 0; o < out; o++) {
            for (int a = 0; a < c; a++) {
                coefficients[o * c + a] = solution.getEntry(a, o);
            }
        }
        return coefficients;
    }
}
