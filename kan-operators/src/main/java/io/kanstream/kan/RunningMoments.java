package io.kanstream.kan;

/**
 * Running mean and variance per dimension (Welford), the basis of input and target normalization.
 * Plain doubles, so state round-trips exactly.
 */
final class RunningMoments {
    private long count;
    private final double[] mean;
    private final double[] m2;

    RunningMoments(int dimensions) {
        this(0, new double[dimensions], new double[dimensions]);
    }

    RunningMoments(long count, double[] mean, double[] m2) {
        this.count = count;
        this.mean = mean.clone();
        this.m2 = m2.clone();
    }

    void add(float[] row, int offset, long horizon) {
        boolean saturated = count >= horizon;
        if (!saturated) {
            count++;
        }
        for (int d = 0; d < mean.length; d++) {
            update(d, row[offset + d], saturated);
        }
    }

    void add(double value, long horizon) {
        boolean saturated = count >= horizon;
        if (!saturated) {
            count++;
        }
        update(0, value, saturated);
    }

    /**
     * Welford's step with n = count: mean += δ/n, m2 += δ·(x − mean'). Once the count has reached
     * the horizon N it stays there and m2 first decays by (N − 1)/N, which makes m2/N the
     * exponentially weighted variance var' = (1 − 1/N)·(var + δ²/N).
     */
    private void update(int d, double x, boolean saturated) {
        double delta = x - mean[d];
        mean[d] += delta / count;
        if (saturated) {
            m2[d] *= (count - 1.0) / count;
        }
        m2[d] += delta * (x - mean[d]);
    }

    /** An independent copy: updating one leaves the other as it was. */
    RunningMoments copy() {
        return new RunningMoments(count, mean, m2);
    }

    void restoreFrom(RunningMoments other) {
        count = other.count;
        System.arraycopy(other.mean, 0, mean, 0, mean.length);
        System.arraycopy(other.m2, 0, m2, 0, m2.length);
    }

    long count() {
        return count;
    }

    double mean(int d) {
        return mean[d];
    }

    double std(int d) {
        return count > 1 ? Math.sqrt(m2[d] / count) : 0;
    }

    int dimensions() {
        return mean.length;
    }

    double[] means() {
        return mean.clone();
    }

    double[] m2() {
        return m2.clone();
    }
}
