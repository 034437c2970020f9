package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Page–Hinkley test for an increase of the mean of a stream, meant for a model's error stream (0/1
 * mistakes, absolute or squared errors): a rising error is a change worth adapting to, a falling
 * one is not.
 *
 * <p>With x̄_t the running mean of the values since the last reset, the test accumulates {@code m_t
 * = α m_{t−1} + (x_t − x̄_t − δ)} and signals a change when {@code m_t − min_{s≤t} m_s > λ}, after
 * at least {@code minInstances} values. It then starts afresh. The statistic is in the units of the
 * values, so λ depends on their scale: the defaults (MOA's) suit 0/1 errors.
 *
 * <p>State format version 1: configuration, then the statistic and counters.
 */
public final class PageHinkley implements DriftDetector {
    private static final int VERSION = 1;

    /**
     * Settings of a {@link PageHinkley} test; defaults in {@link #DEFAULTS}.
     *
     * @param delta magnitude of change tolerated, in value units
     * @param lambda detection threshold, in value units
     * @param alpha fading factor of the cumulative sum, in (0, 1]; 1 for the classic test
     * @param minInstances values needed since the last reset before a change can be signalled
     */
    public record Config(double delta, double lambda, double alpha, int minInstances) {
        /** MOA's defaults: δ 0.005, λ 50, α 0.9999, 30 values. */
        public static final Config DEFAULTS = new Config(0.005, 50, 0.9999, 30);

        public Config {
            if (!(delta >= 0) || !Double.isFinite(delta)) {
                throw new IllegalArgumentException(
                        "Page-Hinkley delta must be a non-negative number, got " + delta);
            }
            if (!(lambda > 0) || !Double.isFinite(lambda)) {
                throw new IllegalArgumentException(
                        "Page-Hinkley lambda must be a positive number, got " + lambda);
            }
            if (!(alpha > 0 && alpha <= 1)) {
                throw new IllegalArgumentException(
                        "Page-Hinkley alpha must be in (0, 1], got " + alpha);
            }
            if (minInstances < 1) {
                throw new IllegalArgumentException(
                        "Page-Hinkley min instances must be at least 1, got " + minInstances);
            }
        }
    }

    private final Config config;
    private long count; // values since the last reset
    private double mean;
    private double sum;
    private double minimum;
    private long seen;
    private long detections;

    public PageHinkley(Config config) {
        if (config == null) {
            throw new IllegalArgumentException("Page-Hinkley test needs a config");
        }
        this.config = config;
    }

    public PageHinkley() {
        this(Config.DEFAULTS);
    }

    public Config config() {
        return config;
    }

    /**
     * Adds the next value; a non-finite one is ignored.
     *
     * @return true if the mean has increased, after which the test starts afresh
     */
    @Override
    public boolean add(double value) {
        if (!Double.isFinite(value)) {
            return false;
        }
        seen++;
        count++;
        mean += (value - mean) / count;
        sum = config.alpha() * sum + (value - mean - config.delta());
        minimum = Math.min(minimum, sum);
        if (count >= config.minInstances() && statistic() > config.lambda()) {
            detections++;
            reset();
            return true;
        }
        return false;
    }

    private void reset() {
        count = 0;
        mean = 0;
        sum = 0;
        minimum = 0;
    }

    /** m_t − min m_s, compared with λ. */
    public double statistic() {
        return sum - minimum;
    }

    /** Running mean of the values since the last reset. */
    public double mean() {
        return mean;
    }

    /** Values since the last reset. */
    public long count() {
        return count;
    }

    /** Finite values added in all. */
    public long seen() {
        return seen;
    }

    /** Changes signalled in all. */
    @Override
    public long detections() {
        return detections;
    }

    @Override
    public void write(DataOutput out) throws IOException {

        out.writeByte(VERSION);
        out.writeDouble(config.delta());
        out.writeDouble(config.lambda());
        out.writeDouble(config.alpha());
        out.writeInt(config.minInstances());
        out.writeLong(count);
        out.writeDouble(mean);
        out.writeDouble(sum);
        out.writeDouble(minimum);
        out.writeLong(seen);
        out.writeLong(detections);
    }

    /** Page-Hinkley only watches for increases. */
    @Override
    public boolean lastChangeWasIncrease() {
        return true;
    }

    public static PageHinkley read(DataInput in) throws IOException {
        int version = in.readByte();
        return switch (version) {
            case 1 -> readV1(in);
            default -> throw StateFormat.unknownVersion("Page-Hinkley test", version);
        };
    }

    private static PageHinkley readV1(DataInput in) throws IOException {
        PageHinkley t;
        try {
            t =
                    new PageHinkley(
                            new Config(
                                    in.readDouble(),
                                    in.readDouble(),
                                    in.readDouble(),
                                    in.readInt()));
        } catch (IllegalArgumentException e) {
            throw new IOException("Corrupt state: " + e.getMessage(), e);
        }
        t.count = in.readLong();
        t.mean = in.readDouble();
        t.sum = in.readDouble();
        t.minimum = in.readDouble();
        t.seen = in.readLong();
        t.detections = in.readLong();
        return t;
    }
}
