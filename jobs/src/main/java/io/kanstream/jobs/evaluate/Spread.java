package io.kanstream.jobs.evaluate;

import java.util.List;

/**
 * A figure over seeds: the mean, and the sample standard deviation (n − 1; NaN from a single seed,
 * where there is no spread to estimate).
 */
record Spread(double mean, double sd) {
    static Spread of(List<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("a spread needs at least one value");
        }
        int n = values.size();
        double mean = values.stream().mapToDouble(Double::doubleValue).sum() / n;
        if (n == 1) {
            return new Spread(mean, Double.NaN);
        }
        double squares = 0;
        for (double v : values) {
            squares += (v - mean) * (v - mean);
        }
        return new Spread(mean, Math.sqrt(squares / (n - 1)));
    }
}
