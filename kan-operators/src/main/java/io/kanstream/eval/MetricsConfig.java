package io.kanstream.eval;

/**
 * The horizons every prequential figure is reported over, besides the whole stream.
 *
 * @param window the last this many examples, exactly
 * @param fadingFactor every example's weight is multiplied by this at each later example, so the
 *     figure looks back about {@code 1 / (1 - fadingFactor)} examples (Gama, Sebastião and
 *     Rodrigues 2013); in (0, 1], 1 for no fading
 */
public record MetricsConfig(int window, double fadingFactor) {
    /** Window 1,000 examples, fading factor 0.999. */
    public static final MetricsConfig DEFAULTS = new MetricsConfig(1_000, 0.999);

    public MetricsConfig {
        if (window < 1) {
            throw new IllegalArgumentException(
                    "metrics window must be at least 1 example, got " + window);
        }
        if (!(fadingFactor > 0 && fadingFactor <= 1)) {
            throw new IllegalArgumentException(
                    "fading factor must be in (0, 1], got " + fadingFactor);
        }
    }
}
