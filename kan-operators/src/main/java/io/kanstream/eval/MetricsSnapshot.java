package io.kanstream.eval;

/**
 * Every figure of a prequential evaluation at one moment, over the three horizons of {@link
 * MetricsConfig}.
 *
 * @param examples examples evaluated since the start
 * @param cumulative over the whole stream
 * @param window over the last {@link MetricsConfig#window()} examples
 * @param fading with weights decayed by {@link MetricsConfig#fadingFactor()} per example
 * @param <F> {@link ClassificationFigures} or {@link RegressionFigures}
 */
public record MetricsSnapshot<F>(long examples, F cumulative, F window, F fading) {}
