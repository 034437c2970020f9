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

    void add(float[] row, int offset) {
        count++;
        for (int d = 0; d < mean.length; d++) {
            double x = row[offset + d];
            double delta = x - mean[d];
            mean[d] += delta / count;
            m2[d] += delta * (x - mean[d]);
        }
    }

    void add(double value) {
        count++;
        double delta = value - mean[0];
        mean[0] += delta / count;
        m2[0] += delta * (value - mean[0]);
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
