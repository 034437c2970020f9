/**
 * Prequential (test-then-train) evaluation of stream learners: every example is first predicted,
 * then scored, then learned from.
 *
 * <ul>
 *   <li>{@link io.kanstream.eval.ClassificationMetrics} and {@link
 *       io.kanstream.eval.RegressionMetrics}: every figure cumulative, over an exact sliding window
 *       and faded, per {@link io.kanstream.eval.MetricsConfig}; {@link
 *       io.kanstream.eval.Reliability}: how well predicted probabilities match observed frequencies
 *       (reliability diagram, ECE).
 *   <li>Baselines behind {@link io.kanstream.eval.OnlineBaseline}: {@link
 *       io.kanstream.eval.NoChange}, {@link io.kanstream.eval.MajorityClass} and {@link
 *       io.kanstream.eval.OnlineLinear}.
 *   <li>Drift detectors on an error stream: {@link io.kanstream.eval.PageHinkley} and {@link
 *       io.kanstream.eval.Adwin}.
 * </ul>
 *
 * <p>Everything here is plain Java, so a replay job, the live operator and tests share it. Every
 * stateful class writes itself with {@code write(DataOutput)} and reads with a static {@code
 * read(DataInput)}; the state starts with a format version byte, and reading what was written
 * continues the stream bit for bit.
 */
package io.kanstream.eval;
