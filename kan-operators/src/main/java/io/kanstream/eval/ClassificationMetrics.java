package io.kanstream.eval;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * Prequential classification figures: accuracy, log-loss, AUC, Cohen's κ and temporal κ ({@link
 * ClassificationFigures}), each cumulative, over an exact sliding window and faded.
 *
 * <p>Feed one {@link #add} per example, with the prediction made before the model learned the
 * label. The no-change reference behind κ_t predicts the previous true label of this stream, class
 * 0 before the first (as MOA does); each horizon counts its hits over the examples it covers.
 *
 * <p>AUC is that of P(class 1) for two classes and, for more, the macro average of every class's
 * one-against-the-rest AUC (class c's probability ranks the examples of class c above the others;
 * classes without both kinds of example in the horizon are left out), as scikit-learn's {@code
 * roc_auc_score(..., multi_class="ovr", average="macro")}; for two classes the two agree. Over the
 * window it is exact (rank-based over the window's scores, on demand, O(K W log W)); cumulative and
 * faded AUC come from one {@link ScoreHistogram} of bounded size per class (one for two classes)
 * and may differ from the exact figure by at most {@link #cumulativeAucMaxError()} — pairs whose
 * scores fall in the same 1/16-logit bin count as ties.
 *
 * <p>Probabilities are used as given; a NaN probability makes log-loss NaN (a broken model should
 * show) and counts as 0.5 in AUC. Not thread-safe; one instance per key and horizon set.
 *
 * <p>State format version 2: configuration, counters, the three tallies, the histograms (occupied
 * bins only) and the window's entries in their ring order with their scores, class indices in one
 * byte each up to 256 classes. Version 1 held scores for two classes only: a multiclass state of it
 * restores with its AUC starting afresh (its window's entries count for everything else).
 */
public final class ClassificationMetrics {
    private static final int VERSION = 2;
    static final double PROBABILITY_CLIP = 1e-15;

    /** 1 − pc below this is no room above chance: κ is undefined. */
    private static final double UNDEFINED_BELOW = 1e-12;

    private final int classes;
    private final MetricsConfig config;
    private long examples;
    private int previousLabel; // the no-change reference's next prediction

    private final Tally cumulative;
    private final Tally window;
    private final Tally fading;
    // AUC's scores: P(class 1) for two classes, else every class's probability
    private final int scored; // scores per example: 1 for two classes, else the classes
    private final ScoreHistogram[] cumulativeScores; // (scored)
    private final ScoreHistogram[] fadingScores; // (scored)

    // The window as a ring of its last `size` examples; `head` is the next slot to write.
    private final int[] windowTrue; // (W)
    private final int[] windowPredicted; // (W)
    private final double[] windowLogLoss; // (W)
    private final boolean[] windowNoChangeHit; // (W)
    private final double[] windowScore; // (W, scored); NaN where a version-1 state had none
    private int head;
    private int size;

    public ClassificationMetrics(int classes, MetricsConfig config) {
        if (classes < 2) {
            throw new IllegalArgumentException(
                    "classification metrics need at least 2 classes, got " + classes);
        }
        if (config == null) {
            throw new IllegalArgumentException("classification metrics need a MetricsConfig");
        }
        this.classes = classes;
        this.config = config;
        this.cumulative = new Tally(classes);
        this.window = new Tally(classes);
        this.fading = new Tally(classes);
        this.scored = classes == 2 ? 1 : classes;
        this.cumulativeScores = new ScoreHistogram[scored];
        this.fadingScores = new ScoreHistogram[scored];
        for (int c = 0; c < scored; c++) {
            cumulativeScores[c] = new ScoreHistogram();
            fadingScores[c] = new ScoreHistogram();
        }
        int w = config.window();
        this.windowTrue = new int[w];
        this.windowPredicted = new int[w];
        this.windowLogLoss = new double[w];
        this.windowNoChangeHit = new boolean[w];
        this.windowScore = new double[w * scored];
    }

    public int classes() {
        return classes;
    }

    public MetricsConfig config() {
        return config;
    }

    public long examples() {
        return examples;
    }

    /**
     * @param trueClass the label, 0..classes-1
     * @param predictedClass the model's predicted class
     * @param probabilities (classes) the model's distribution over classes
     */
    public void add(int trueClass, int predictedClass, double[] probabilities) {
        checkClass("true class", trueClass);
        checkClass("predicted class", predictedClass);
        if (probabilities == null || probabilities.length != classes) {
            throw new IllegalArgumentException(
                    "expected "
                            + classes
                            + " class probabilities, got "
                            + (probabilities == null ? "none" : probabilities.length));
        }
        double[] scores = classes == 2 ? new double[] {probabilities[1]} : probabilities.clone();
        addChecked(trueClass, predictedClass, probabilities[trueClass], scores);
    }

    /**
     * Binary only.
     *
     * @param trueClass the label, 0 or 1
     * @param predictedClass the model's predicted class, 0 or 1
     * @param probabilityOfOne the model's P(class 1)
     */
    public void add(int trueClass, int predictedClass, double probabilityOfOne) {
        if (classes != 2) {
            throw new IllegalArgumentException(
                    "P(class 1) alone describes a binary prediction; these metrics have "
                            + classes
                            + " classes, pass the probability vector instead");
        }
        checkClass("true class", trueClass);
        checkClass("predicted class", predictedClass);
        double pTrue = trueClass == 1 ? probabilityOfOne : 1 - probabilityOfOne;
        addChecked(trueClass, predictedClass, pTrue, new double[] {probabilityOfOne});
    }

    /** Adds a baseline's prediction of an example whose label is {@code trueClass}. */
    public void add(int trueClass, Prediction prediction) {
        add(trueClass, prediction.predictedClass(), prediction.probabilities());
    }

    /**
     * The log-loss of one example whose true class had probability {@code pTrue}, clipped to
     * [1e-15, 1 − 1e-15] so that a confident miss costs a finite 34.5; NaN stays NaN.
     */
    public static double logLoss(double pTrue) {
        return -Math.log(Math.min(1 - PROBABILITY_CLIP, Math.max(PROBABILITY_CLIP, pTrue)));
    }

    private void checkClass(String what, int c) {
        if (c < 0 || c >= classes) {
            throw new IllegalArgumentException(
                    what + " is " + c + ", expected a class index in 0.." + (classes - 1));
        }
    }

    /**
     * @param scores (scored) what AUC ranks the example by: P(class 1) for two classes, else every
     *     class's probability; a NaN among them counts as 0.5
     */
    private void addChecked(int trueClass, int predictedClass, double pTrue, double[] scores) {
        double logLoss = logLoss(pTrue);
        boolean noChangeHit = previousLabel == trueClass;
        examples++;
        previousLabel = trueClass;

        cumulative.add(trueClass, predictedClass, logLoss, noChangeHit, 1);
        fading.decay(config.fadingFactor());
        fading.add(trueClass, predictedClass, logLoss, noChangeHit, 1);
        for (int c = 0; c < scored; c++) {
            if (Double.isNaN(scores[c])) {
                scores[c] = 0.5;
            }
            boolean positive = trueClass == (classes == 2 ? 1 : c);
            cumulativeScores[c].add(scores[c], positive);
            fadingScores[c].decay(config.fadingFactor());
            fadingScores[c].add(scores[c], positive);
        }
        addToWindow(trueClass, predictedClass, logLoss, noChangeHit, scores);
    }

    private void addToWindow(
            int trueClass,
            int predictedClass,
            double logLoss,
            boolean noChangeHit,
            double[] scores) {
        int w = config.window();
        if (size == w) {
            window.add(
                    windowTrue[head],
                    windowPredicted[head],
                    windowLogLoss[head],
                    windowNoChangeHit[head],
                    -1);
        } else {
            size++;
        }
        windowTrue[head] = trueClass;
        windowPredicted[head] = predictedClass;
        windowLogLoss[head] = logLoss;
        windowNoChangeHit[head] = noChangeHit;
        System.arraycopy(scores, 0, windowScore, head * scored, scored);
        window.add(trueClass, predictedClass, logLoss, noChangeHit, 1);
        head = (head + 1) % w;
        if (head == 0) {
            // Adding and removing log-losses accumulates rounding; start the sum afresh once per
            // pass over the ring (the counts are whole numbers and stay exact).
            double sum = 0;
            for (int i = 0; i < size; i++) {
                sum += windowLogLoss[i];
            }
            window.logLoss = sum;
        }
    }

    /** All figures now; cheap except the window's exact AUC (O(K W log W)). */
    public MetricsSnapshot<ClassificationFigures> snapshot() {
        return new MetricsSnapshot<>(
                examples,
                cumulative.figures(macroAuc(cumulativeScores)),
                window.figures(exactWindowAuc()),
                fading.figures(macroAuc(fadingScores)));
    }

    /**
     * Bound on |cumulative AUC − exact AUC| from score binning (for more than two classes, the
     * largest of the classes' bounds); NaN where AUC is undefined.
     */
    public double cumulativeAucMaxError() {
        double worst = Double.NaN;
        for (ScoreHistogram h : cumulativeScores) {
            double e = h.maxError();
            if (!Double.isNaN(e)) {
                worst = Double.isNaN(worst) ? e : Math.max(worst, e);
            }
        }
        return worst;
    }

    /** The mean of the histograms' AUCs that are defined; NaN if none is. */
    private static double macroAuc(ScoreHistogram[] histograms) {
        double sum = 0;
        int defined = 0;
        for (ScoreHistogram h : histograms) {
            double auc = h.auc();
            if (!Double.isNaN(auc)) {
                sum += auc;
                defined++;
            }
        }
        return defined > 0 ? sum / defined : Double.NaN;
    }

    /** The window's exact AUC: binary, or the macro average of the classes' defined ones. */
    private double exactWindowAuc() {
        double sum = 0;
        int defined = 0;
        for (int c = 0; c < scored; c++) {
            double auc = exactWindowAuc(c, classes == 2 ? 1 : c);
            if (!Double.isNaN(auc)) {
                sum += auc;
                defined++;
            }
        }
        return defined > 0 ? sum / defined : Double.NaN;
    }

    /**
     * Mann–Whitney over the window for score {@code scoreIndex}, examples of class {@code
     * positiveClass} positive: the fraction of (positive, negative) pairs ranked right, ties one
     * half. Entries without a score (restored from version 1) are left out.
     */
    private double exactWindowAuc(int scoreIndex, int positiveClass) {
        int positives = 0;
        int negatives = 0;
        for (int i = 0; i < size; i++) {
            if (!Double.isNaN(windowScore[i * scored + scoreIndex])) {
                if (windowTrue[i] == positiveClass) {
                    positives++;
                } else {
                    negatives++;
                }
            }
        }
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        double[] pos = new double[positives];
        double[] neg = new double[negatives];
        int p = 0;
        int n = 0;
        for (int i = 0; i < size; i++) {
            double score = windowScore[i * scored + scoreIndex];
            if (Double.isNaN(score)) {
                continue;
            }
            if (windowTrue[i] == positiveClass) {
                pos[p++] = score;
            } else {
                neg[n++] = score;
            }
        }
        Arrays.sort(pos);
        Arrays.sort(neg);
        double area = 0;
        int below = 0; // negatives with a lower score than the current positive
        int equalEnd = 0; // negatives with a score at most the current positive's
        for (double s : pos) {
            while (below < negatives && neg[below] < s) {
                below++;
            }
            equalEnd = Math.max(equalEnd, below);
            while (equalEnd < negatives && neg[equalEnd] == s) {
                equalEnd++;
            }
            area += below + 0.5 * (equalEnd - below);
        }
        return area / ((double) positives * negatives);
    }

    /** Weighted counts of one horizon; weights are +1, −1 (leaving the window) or faded. */
    private static final class Tally {
        double weight;
        double correct;
        double noChangeCorrect;
        double logLoss;
        final double[] trueCounts; // (classes)
        final double[] predictedCounts; // (classes)

        Tally(int classes) {
            trueCounts = new double[classes];
            predictedCounts = new double[classes];
        }

        void add(int t, int p, double loss, boolean noChangeHit, double w) {
            weight += w;
            if (t == p) {
                correct += w;
            }
            if (noChangeHit) {
                noChangeCorrect += w;
            }
            logLoss += w * loss;
            trueCounts[t] += w;
            predictedCounts[p] += w;
        }

        void decay(double alpha) {
            weight *= alpha;
            correct *= alpha;
            noChangeCorrect *= alpha;
            logLoss *= alpha;
            for (int c = 0; c < trueCounts.length; c++) {
                trueCounts[c] *= alpha;
                predictedCounts[c] *= alpha;
            }
        }

        ClassificationFigures figures(double auc) {
            if (weight <= 0) {
                return new ClassificationFigures(
                        0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
            }
            double accuracy = correct / weight;
            double chance = 0;
            for (int c = 0; c < trueCounts.length; c++) {
                chance += (trueCounts[c] / weight) * (predictedCounts[c] / weight);
            }
            double noChange = noChangeCorrect / weight;
            return new ClassificationFigures(
                    weight,
                    accuracy,
                    logLoss / weight,
                    auc,
                    beyond(accuracy, chance),
                    beyond(accuracy, noChange),
                    noChange);
        }

        /** How far {@code p0} gets from {@code reference} towards perfect: (p0 − r) / (1 − r). */
        private static double beyond(double p0, double reference) {
            double room = 1 - reference;
            return room > UNDEFINED_BELOW ? (p0 - reference) / room : Double.NaN;
        }

        void write(DataOutput out) throws IOException {
            out.writeDouble(weight);
            out.writeDouble(correct);
            out.writeDouble(noChangeCorrect);
            out.writeDouble(logLoss);
            StateFormat.writeDoubles(out, trueCounts);
            StateFormat.writeDoubles(out, predictedCounts);
        }

        void readInto(DataInput in) throws IOException {
            weight = in.readDouble();
            correct = in.readDouble();
            noChangeCorrect = in.readDouble();
            logLoss = in.readDouble();
            StateFormat.readDoublesInto(in, trueCounts, "true-class counts");
            StateFormat.readDoublesInto(in, predictedCounts, "predicted-class counts");
        }
    }

    public void write(DataOutput out) throws IOException {
        out.writeByte(VERSION);
        out.writeInt(classes);
        out.writeInt(config.window());
        out.writeDouble(config.fadingFactor());
        out.writeLong(examples);
        writeClass(out, previousLabel);
        cumulative.write(out);
        window.write(out);
        fading.write(out);
        for (int c = 0; c < scored; c++) {
            cumulativeScores[c].write(out);
            fadingScores[c].write(out);
        }
        out.writeInt(head);
        out.writeInt(size);
        for (int i = 0; i < size; i++) {
            writeClass(out, windowTrue[i]);
            writeClass(out, windowPredicted[i]);
            out.writeDouble(windowLogLoss[i]);
            out.writeBoolean(windowNoChangeHit[i]);
            for (int c = 0; c < scored; c++) {
                out.writeDouble(windowScore[i * scored + c]);
            }
        }
    }

    public static ClassificationMetrics read(DataInput in) throws IOException {
        int version = in.readByte();
        return switch (version) {
            case 1, 2 -> read(in, version);
            default -> throw StateFormat.unknownVersion("classification metrics", version);
        };
    }

    /** Versions 1 and 2 differ only in the scores: version 1 held them for two classes only. */
    private static ClassificationMetrics read(DataInput in, int version) throws IOException {
        int classes = in.readInt();
        int windowSize = in.readInt();
        double fadingFactor = in.readDouble();
        ClassificationMetrics m;
        try {
            m = new ClassificationMetrics(classes, new MetricsConfig(windowSize, fadingFactor));
        } catch (IllegalArgumentException e) {
            throw new IOException("Corrupt state: " + e.getMessage(), e);
        }
        m.examples = in.readLong();
        m.previousLabel = m.readClass(in);
        m.cumulative.readInto(in);
        m.window.readInto(in);
        m.fading.readInto(in);
        boolean scores = version >= 2 || classes == 2;
        if (scores) {
            for (int c = 0; c < m.scored; c++) {
                m.cumulativeScores[c].readInto(in);
                m.fadingScores[c].readInto(in);
            }
        }
        m.head = in.readInt();
        m.size = in.readInt();
        if (m.size < 0 || m.size > windowSize || m.head < 0 || m.head >= windowSize) {
            throw new IOException(
                    "Corrupt state: window ring at "
                            + m.head
                            + " holding "
                            + m.size
                            + " of "
                            + windowSize);
        }
        for (int i = 0; i < m.size; i++) {
            m.windowTrue[i] = m.readClass(in);
            m.windowPredicted[i] = m.readClass(in);
            m.windowLogLoss[i] = in.readDouble();
            m.windowNoChangeHit[i] = in.readBoolean();
            for (int c = 0; c < m.scored; c++) {
                m.windowScore[i * m.scored + c] = scores ? in.readDouble() : Double.NaN;
            }
        }
        return m;
    }

    /** A class index in one byte when there are at most 256 classes, else four. */
    private void writeClass(DataOutput out, int c) throws IOException {
        if (classes <= 256) {
            out.writeByte(c);
        } else {
            out.writeInt(c);
        }
    }

    private int readClass(DataInput in) throws IOException {
        int c = classes <= 256 ? in.readUnsignedByte() : in.readInt();
        if (c < 0 || c >= classes) {
            throw new IOException("Corrupt state: class " + c + " of " + classes);
        }
        return c;
    }
}
