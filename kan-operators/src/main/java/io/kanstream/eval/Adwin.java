package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * ADWIN2, the adaptive sliding window of Bifet and Gavaldà ("Learning from Time-Changing Data with
 * Adaptive Windowing", SDM 2007), on a stream of real values such as a model's errors.
 *
 * <p>The window W keeps every value since the last change. Whenever W splits into an older part W0
 * and a newer part W1 whose means differ by more than
 *
 * <pre>
 *   ε_cut = sqrt(2/m · σ²_W · ln(2/δ')) + 2/(3m) · ln(2/δ'),   m = 1 / (1/n0 + 1/n1),  δ' = δ/n
 * </pre>
 *
 * (the paper's variance-based bound, n = |W|, σ²_W the window's variance), the oldest values are
 * dropped until no split does; that is a change. A change is reported either way; {@link
 * #lastChangeWasIncrease()} says whether the newer mean was the higher.
 *
 * <p>W is stored as an exponential histogram: row i holds up to M buckets of 2^i values each, every
 * bucket keeping its sum and its variance (sum of squared deviations); when a row overflows its two
 * oldest buckets merge into one of the next row. Memory is O(M log(n/M)) and only bucket boundaries
 * are tested as splits. As in MOA, splits are tested every {@code clock} values rather than after
 * every one; that delays a detection by at most {@code clock − 1} values.
 *
 * <p>State format version 1: configuration, counters, window totals, then the buckets row by row,
 * oldest first.
 */
public final class Adwin implements DriftDetector {
    private static final int VERSION = 1;

    /**
     * Settings of an {@link Adwin}; defaults in {@link #DEFAULTS}.
     *
     * @param delta confidence: the probability of a false alarm per test is bounded by about δ
     * @param maxBuckets M, buckets per row before two merge; more is finer and costs memory
     * @param clock splits are tested every this many values
     * @param minSubWindow neither part of a split may have fewer values
     */
    public record Config(double delta, int maxBuckets, int clock, int minSubWindow) {
        /** δ 0.002, M 5, clock 32, sub-windows of at least 5 values (MOA's defaults). */
        public static final Config DEFAULTS = new Config(0.002, 5, 32, 5);

        public Config {
            if (!(delta > 0 && delta < 1)) {
                throw new IllegalArgumentException("ADWIN delta must be in (0, 1), got " + delta);
            }
            if (maxBuckets < 2) {
                throw new IllegalArgumentException(
                        "ADWIN needs at least 2 buckets per row, got " + maxBuckets);
            }
            if (clock < 1) {
                throw new IllegalArgumentException("ADWIN clock must be at least 1, got " + clock);
            }
            if (minSubWindow < 1) {
                throw new IllegalArgumentException(
                        "ADWIN min sub-window must be at least 1, got " + minSubWindow);
            }
        }
    }

    /** Buckets of 2^row values each, oldest first; at most M + 1 between insert and compress. */
    private static final class Row {
        final double[] sums;
        final double[] variances;
        int size;

        Row(int capacity) {
            sums = new double[capacity];
            variances = new double[capacity];
        }

        void append(double sum, double variance) {
            sums[size] = sum;
            variances[size] = variance;
            size++;
        }

        void removeOldest(int count) {
            System.arraycopy(sums, count, sums, 0, size - count);
            System.arraycopy(variances, count, variances, 0, size - count);
            size -= count;
        }
    }

    private final Config config;
    private final List<Row> rows = new ArrayList<>(); // rows.get(i): buckets of 2^i values
    private long width;
    private double total;
    private double variance; // sum of squared deviations from the window mean
    private long seen;
    private long detections;
    private int sinceCheck;
    private boolean lastChangeWasIncrease;

    public Adwin(Config config) {
        if (config == null) {
            throw new IllegalArgumentException("ADWIN needs a config");
        }
        this.config = config;
    }

    public Adwin() {
        this(Config.DEFAULTS);
    }

    public Config config() {
        return config;
    }

    /**
     * Adds the next value; a non-finite one is ignored.
     *
     * @return true if the window was cut: the mean has changed
     */
    @Override
    public boolean add(double value) {
        if (!Double.isFinite(value)) {
            return false;
        }
        seen++;
        insert(value);
        if (++sinceCheck < config.clock()) {
            return false;
        }
        sinceCheck = 0;
        boolean changed = false;
        while (width >= 2L * config.minSubWindow()) {
            int direction = findCut();
            if (direction == 0) {
                break;
            }
            if (!changed) {
                lastChangeWasIncrease = direction > 0;
                changed = true;
            }
            dropOldestBucket();
        }
        if (changed) {
            detections++;
            recomputeTotals();
        }
        return changed;
    }

    /** Values in the window: those since the last change. */
    public long width() {
        return width;
    }

    /** Mean of the window, NaN when empty. */
    public double mean() {
        return width > 0 ? total / width : Double.NaN;
    }

    /** Population variance of the window, NaN when empty. */
    public double variance() {
        return width > 0 ? variance / width : Double.NaN;
    }

    /** Finite values added in all. */
    public long seen() {
        return seen;
    }

    /** Changes detected in all. */
    @Override
    public long detections() {
        return detections;
    }

    /** Whether the newer part's mean was the higher at the last change; false before any. */
    @Override
    public boolean lastChangeWasIncrease() {
        return lastChangeWasIncrease;
    }

    /** Buckets held, a measure of memory. */
    public int buckets() {
        int n = 0;
        for (Row row : rows) {
            n += row.size;
        }
        return n;
    }

    private void insert(double value) {
        if (width > 0) {
            double mean = total / width;
            variance += width * (value - mean) * (value - mean) / (width + 1);
        }
        width++;
        total += value;
        if (rows.isEmpty()) {
            rows.add(new Row(config.maxBuckets() + 1));
        }
        rows.get(0).append(value, 0);
        compress();
    }

    /** Merges the two oldest buckets of every row that holds more than M. */
    private void compress() {
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            if (row.size <= config.maxBuckets()) {
                return;
            }
            double n = Math.scalb(1.0, i); // values per bucket of this row
            double meanDifference = (row.sums[0] - row.sums[1]) / n;
            double mergedSum = row.sums[0] + row.sums[1];
            double mergedVariance =
                    row.variances[0] + row.variances[1] + n / 2 * meanDifference * meanDifference;
            row.removeOldest(2);
            if (i + 1 == rows.size()) {
                rows.add(new Row(config.maxBuckets() + 1));
            }
            rows.get(i + 1).append(mergedSum, mergedVariance);
        }
    }

    /**
     * Tests every bucket boundary as a split, oldest first.
     *
     * @return +1 if a split's newer mean exceeds its older by more than ε_cut, −1 if it falls short
     *     by more, 0 if no split differs
     */
    private int findCut() {
        double windowVariance = variance / width;
        double logTerm = Math.log(2.0 * width / config.delta()); // ln(2/δ'), δ' = δ/n
        long n0 = 0;
        double sum0 = 0;
        for (int i = rows.size() - 1; i >= 0; i--) {
            Row row = rows.get(i);
            long bucketSize = 1L << i;
            for (int b = 0; b < row.size; b++) {
                n0 += bucketSize;
                sum0 += row.sums[b];
                long n1 = width - n0;
                if (n1 < config.minSubWindow()) {
                    return 0;
                }
                if (n0 < config.minSubWindow()) {
                    continue;
                }
                double m = 1 / (1.0 / n0 + 1.0 / n1);
                double epsilon =
                        Math.sqrt(2 / m * windowVariance * logTerm) + 2 / (3 * m) * logTerm;
                double difference = (total - sum0) / n1 - sum0 / n0;
                if (Math.abs(difference) > epsilon) {
                    return difference > 0 ? 1 : -1;
                }
            }
        }
        return 0;
    }

    private void dropOldestBucket() {
        int top = rows.size() - 1;
        Row row = rows.get(top);
        long n = 1L << top;
        double sum = row.sums[0];
        double bucketVariance = row.variances[0];
        row.removeOldest(1);
        if (row.size == 0) {
            rows.remove(top);
        }
        long remaining = width - n;
        double remainingTotal = total - sum;
        if (remaining > 0) {
            double difference = sum / n - remainingTotal / remaining;
            variance -= bucketVariance + (double) n * remaining / width * difference * difference;
        }
        width = remaining;
        total = remainingTotal;
        variance = remaining > 0 ? Math.max(0, variance) : 0;
    }

    /** Rebuilds the totals from the buckets, shedding the rounding of repeated subtraction. */
    private void recomputeTotals() {
        long n = 0;
        double sum = 0;
        double squares = 0;
        for (int i = rows.size() - 1; i >= 0; i--) {
            Row row = rows.get(i);
            long bucketSize = 1L << i;
            for (int b = 0; b < row.size; b++) {
                if (n > 0) {
                    double difference = row.sums[b] / bucketSize - sum / n;
                    squares += (double) n * bucketSize / (n + bucketSize) * difference * difference;
                }
                squares += row.variances[b];
                n += bucketSize;
                sum += row.sums[b];
            }
        }
        width = n;
        total = sum;
        variance = squares;
    }

    @Override
    public void write(DataOutput out) throws IOException {
        out.writeByte(VERSION);
        out.writeDouble(config.delta());
        out.writeInt(config.maxBuckets());
        out.writeInt(config.clock());
        out.writeInt(config.minSubWindow());
        out.writeLong(seen);
        out.writeLong(detections);
        out.writeInt(sinceCheck);
        out.writeBoolean(lastChangeWasIncrease);
        out.writeLong(width);
        out.writeDouble(total);
        out.writeDouble(variance);
        out.writeByte(rows.size());
        for (Row row : rows) {
            out.writeInt(row.size);
            for (int b = 0; b < row.size; b++) {
                out.writeDouble(row.sums[b]);
                out.writeDouble(row.variances[b]);
            }
        }
    }

    public static Adwin read(DataInput in) throws IOException {
        int version = in.readByte();
        return switch (version) {
            case 1 -> readV1(in);
            default -> throw StateFormat.unknownVersion("ADWIN", version);
        };
    }

    private static Adwin readV1(DataInput in) throws IOException {
        Adwin a;
        try {
            a = new Adwin(new Config(in.readDouble(), in.readInt(), in.readInt(), in.readInt()));
        } catch (IllegalArgumentException e) {
            throw new IOException("Corrupt state: " + e.getMessage(), e);
        }
        a.seen = in.readLong();
        a.detections = in.readLong();
        a.sinceCheck = in.readInt();
        a.lastChangeWasIncrease = in.readBoolean();
        a.width = in.readLong();
        a.total = in.readDouble();
        a.variance = in.readDouble();
        int rowCount = in.readUnsignedByte();
        if (rowCount > 62) {
            throw new IOException("Corrupt state: " + rowCount + " ADWIN rows");
        }
        for (int i = 0; i < rowCount; i++) {
            Row row = new Row(a.config.maxBuckets() + 1);
            int size = in.readInt();
            if (size < 0 || size > a.config.maxBuckets()) {
                throw new IOException(
                        "Corrupt state: ADWIN row "
                                + i
                                + " holds "
                                + size
                                + " buckets, at most "
                                + a.config.maxBuckets()
                                + " fit");
            }
            for (int b = 0; b < size; b++) {
                row.append(in.readDouble(), in.readDouble());
            }
            a.rows.add(row);
        }
        return a;
    }
}
