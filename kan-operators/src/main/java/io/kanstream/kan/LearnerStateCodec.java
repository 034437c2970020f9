package io.kanstream.kan;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The one binary format of a learner's whole state: configuration, parameters, knot grids,
 * optimizer moments and step, normalizer, activation statistics and counters. Model files, Flink
 * state and savepoints all hold this.
 *
 * <p>Layout: the magic {@code KANS}, a format version, then the version's body. Floats are written
 * as their raw IEEE bits, so decoding what was encoded gives bit-identical predictions and training
 * continues exactly where it stopped.
 *
 * <p>Writes version 4; reads versions 1 to 4.
 *
 * <ul>
 *   <li>Version 4: version 3 without Adam's first moments when the configuration's β₁ is 0. Such an
 *       optimizer overwrites each first moment with the gradient before using it, so a learner
 *       restored with zeros there computes exactly what the live one does (4,8,1: 1,624 bytes
 *       fewer). With β₁ > 0 the layout is version 3's.
 *   <li>Version 3: version 2, with the companions of a learner that has them ({@link
 *       LearnerMixture}): their learning-rate factors and the mixture's horizon in the
 *       configuration, and after the calibrator the members' decayed losses and each companion's
 *       own encoding. A learner without companions costs 12 bytes more than in version 2. Version 2
 *       is read as a learner without companions.
 *   <li>Version 2: running summaries of each layer's inputs ({@link ActivationStatistics}) instead
 *       of a window of raw rows; the logit bound and the online calibrator's state; declined
 *       refits; no device (where a model runs is a setting of the process that runs it, so a state
 *       written on a GPU restores on a CPU).
 *   <li>Version 1: a window of the last {@code statsWindow} raw input rows, per-layer counts since
 *       the last refit, the device. Migrated on read: the window's rows are pushed through the
 *       network to build the summaries, and the logit bound is off, so the migrated model computes
 *       exactly what it computed before.
 * </ul>
 */
public final class LearnerStateCodec {
    static final int MAGIC = 0x4B414E53; // "KANS"
    public static final int CURRENT_VERSION = 4;

    private LearnerStateCodec() {}

    public static byte[] encode(KanLearner learner) {
        // sized from the last encoding: no copies while the stream grows
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(learner.encodedSize + 64);
        Scratch scratch = new Scratch();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(CURRENT_VERSION);
            writeConfig(out, learner.config);
            out.writeLong(learner.examples);
            out.writeLong(learner.rejectedRefits);
            out.writeLong(learner.skippedSteps);
            out.writeInt(learner.gridEpoch);
            out.writeLong(learner.version);
            out.writeDouble(learner.learningRateScale);
            out.writeLong(learner.boostStepsLeft);
            HostKan host = learner.host();
            for (int l = 0; l < host.size(); l++) {
                writeFloats(out, host.layer(l).grid.flat(), scratch);
                for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                    writeFloats(out, host.parameter(ParameterIndex.of(l, p)), scratch);
                }
            }
            out.writeLong(learner.optimizer.step());
            out.writeLong(learner.optimizer.sinceReset());
            boolean firstMoments = storesFirstMoments(learner.config, CURRENT_VERSION);
            for (int q = 0; q < ParameterIndex.count(learner.layerCount()); q++) {
                if (firstMoments) {
                    writeFloats(out, learner.moment(q, true), scratch);
                }
                writeFloats(out, learner.moment(q, false), scratch);
            }
            writeMoments(out, learner.normalizer.features());
            writeMoments(out, learner.normalizer.target());
            ActivationStatistics stats = learner.statistics;
            out.writeDouble(stats.weight());
            out.writeLong(stats.seenSinceRefit());
            for (int l = 0; l < learner.layerCount(); l++) {
                writeFloats(out, stats.mass()[l], scratch);
                writeFloats(out, stats.tails()[l], scratch);
            }
            OutputCalibration calibration = learner.calibration;
            out.writeDouble(calibration.scale);
            writeDoubles(out, calibration.bias);
            writeDoubles(out, calibration.curvature);
            LearnerMixture mixture = learner.mixture;
            if (mixture != null) {
                writeDoubles(out, mixture.losses);
                for (KanLearner companion : mixture.companions) {
                    byte[] nested = encode(companion);
                    out.writeInt(nested.length);
                    out.write(nested);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        learner.encodedSize = bytes.size();
        return bytes.toByteArray();
    }

    /** Decodes to run on the device {@code auto} picks. */
    public static KanLearner decode(byte[] bytes) {
        return decode(bytes, null);
    }

    /**
     * @param device overrides the encoded device setting when not null (a model trained on a GPU
     *     can be scored on a CPU and the other way round)
     */
    public static KanLearner decode(byte[] bytes, String device) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int magic = in.readInt();
            if (magic != MAGIC) {
                throw new IllegalArgumentException(
                        "not a kanstream model: the first 4 bytes are 0x"
                                + Integer.toHexString(magic)
                                + ", a model starts with KANS");
            }
            int version = in.readInt();
            return switch (version) {
                case 1 -> decodeV1(in, device);
                case 2, 3, 4 -> decodeV2(in, device, version);
                default ->
                        throw new IllegalArgumentException(
                                "Unrecognized version or corrupt state: model format version "
                                        + version
                                        + ", this build reads 1.."
                                        + CURRENT_VERSION);
            };
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated or corrupt model state: " + e, e);
        }
    }

    private static KanLearner decodeV1(DataInputStream in, String device) throws IOException {
        V1Config v1 = readConfigV1(in, device);
        KanConfig config = v1.config();
        Counters counters = Counters.read(in, false);
        List<LayerParameters> layers = readLayers(in, config);
        KanLearner learner = KanLearner.fromParameters(config, layers);
        try {
            readOptimizer(in, learner, layers, false, true);
            RunningMoments features = readMoments(in, config.inputs());
            RunningMoments target = readMoments(in, 1);
            learner.normalizer.features().restoreFrom(features);
            learner.normalizer.target().restoreFrom(target);
            int filled = in.readInt();
            int next = in.readInt();
            int capacity = v1.statsWindow();
            float[] window = readFloats(in, capacity * config.inputs());
            long seenSinceRefit = 0;
            for (int l = 0; l < layers.size(); l++) {
                int width = layers.get(l).in();
                long[] seen = readLongs(in, width);
                readLongs(in, width); // outside counts: the summaries say it again
                readFloats(in, width); // min
                readFloats(in, width); // max
                if (l == 0 && width > 0) {
                    seenSinceRefit = seen[0];
                }
            }
            // the window, oldest row first, builds the summaries the refits now read
            int start = filled < capacity ? 0 : next;
            float[] rows = new float[filled * config.inputs()];
            for (int r = 0; r < filled; r++) {
                int source = (start + r) % capacity;
                System.arraycopy(
                        window,
                        source * config.inputs(),
                        rows,
                        r * config.inputs(),
                        config.inputs());
            }
            if (filled > 0) {
                learner.observe(rows, filled);
            }
            learner.statistics.seenSinceRefit(seenSinceRefit);
            counters.applyTo(learner);
            requireEnd(in);
            return learner;
        } catch (IOException | RuntimeException e) {
            learner.close();
            throw e;
        }
    }

    /** Versions 2 to 4: 3 adds the companions, 4 drops the first moments that β₁ = 0 ignores. */
    private static KanLearner decodeV2(DataInputStream in, String device, int version)
            throws IOException {
        KanConfig config = readConfig(in, device, version);
        Counters counters = Counters.read(in, true);
        List<LayerParameters> layers = readLayers(in, config);
        KanLearner learner = KanLearner.withParameters(config, layers);
        try {
            readOptimizer(in, learner, layers, true, storesFirstMoments(config, version));
            learner.normalizer.features().restoreFrom(readMoments(in, config.inputs()));
            learner.normalizer.target().restoreFrom(readMoments(in, 1));
            ActivationStatistics stats = learner.statistics;
            double weight = in.readDouble();
            long seenSinceRefit = in.readLong();
            float[][] mass = new float[layers.size()][];
            float[][] tails = new float[layers.size()][];
            for (int l = 0; l < layers.size(); l++) {
                mass[l] = readFloats(in, stats.mass()[l].length);
                tails[l] = readFloats(in, stats.tails()[l].length);
            }
            if (!(weight >= 1) || !Double.isFinite(weight)) {
                throw new IllegalArgumentException(
                        "corrupt model state: summary weight " + weight + ", expected >= 1");
            }
            stats.restore(weight, seenSinceRefit, mass, tails);
            OutputCalibration calibration = learner.calibration;
            calibration.scale = in.readDouble();
            double[] bias = readDoubles(in, calibration.bias.length);
            double[] curvature = readDoubles(in, calibration.curvature.length);
            System.arraycopy(bias, 0, calibration.bias, 0, bias.length);
            System.arraycopy(curvature, 0, calibration.curvature, 0, curvature.length);
            learner.mixture = readMixture(in, config, device);
            counters.applyTo(learner);
            requireEnd(in);
            return learner;
        } catch (IOException | RuntimeException e) {
            learner.close();
            throw e;
        }
    }

    /** The companions a version-3 configuration names, or null when it names none. */
    private static LearnerMixture readMixture(DataInputStream in, KanConfig config, String device)
            throws IOException {
        int count = config.companionRates().size();
        if (count == 0) {
            return null;
        }
        double[] losses = readDoubles(in, count + 1);
        KanLearner[] companions = new KanLearner[count];
        try {
            for (int c = 0; c < count; c++) {
                int length = in.readInt();
                if (length < 8 || length > in.available()) {
                    throw new IllegalArgumentException(
                            "corrupt model state: companion "
                                    + c
                                    + " of "
                                    + length
                                    + " bytes, "
                                    + in.available()
                                    + " left");
                }
                byte[] nested = new byte[length];
                in.readFully(nested);
                companions[c] = decode(nested, device);
                if (companions[c].companions() != 0
                        || !companions[c].config().layers().equals(config.layers())
                        || companions[c].config().task() != config.task()) {
                    throw new IllegalArgumentException(
                            "corrupt model state: companion "
                                    + c
                                    + " is not a single KAN of layers "
                                    + config.layers()
                                    + " and task "
                                    + config.task());
                }
            }
            return new LearnerMixture(config, companions, losses);
        } catch (IOException | RuntimeException e) {
            for (KanLearner companion : companions) {
                if (companion != null) {
                    companion.close();
                }
            }
            throw e;
        }
    }

    /** The learner's counters; version 2 adds the declined refits after the examples. */
    private record Counters(
            long examples,
            long rejectedRefits,
            long skippedSteps,
            int gridEpoch,
            long version,
            double learningRateScale,
            long boostStepsLeft) {

        static Counters read(DataInputStream in, boolean withRejected) throws IOException {
            long examples = in.readLong();
            long rejected = withRejected ? in.readLong() : 0;
            return new Counters(
                    examples,
                    rejected,
                    in.readLong(),
                    in.readInt(),
                    in.readLong(),
                    in.readDouble(),
                    in.readLong());
        }

        void applyTo(KanLearner learner) {
            learner.examples = examples;
            learner.rejectedRefits = rejectedRefits;
            learner.skippedSteps = skippedSteps;
            learner.gridEpoch = gridEpoch;
            learner.version = version;
            learner.learningRateScale = learningRateScale;
            learner.boostStepsLeft = boostStepsLeft;
        }
    }

    private static void requireEnd(DataInputStream in) throws IOException {
        if (in.available() != 0) {
            throw new IllegalArgumentException(
                    "corrupt model state: " + in.available() + " bytes left after the end");
        }
    }

    /** Every layer's grid and parameters, as both versions write them. */
    private static List<LayerParameters> readLayers(DataInputStream in, KanConfig config)
            throws IOException {
        List<LayerParameters> layers = new ArrayList<>();
        List<Integer> widths = config.layers();
        int g = config.gridSize();
        int k = config.splineOrder();
        for (int l = 0; l + 1 < widths.size(); l++) {
            int fanIn = widths.get(l);
            int fanOut = widths.get(l + 1);
            float[] knots = readFloats(in, fanIn * KnotGrid.knotCount(g, k));
            layers.add(
                    new LayerParameters(
                            KnotGrid.fromFlat(knots, fanIn, g, k),
                            readFloats(in, fanOut * fanIn),
                            readFloats(in, fanOut * fanIn * config.coefficients()),
                            readFloats(in, fanOut * fanIn),
                            fanOut));
        }
        return layers;
    }

    /**
     * Whether a state of {@code version} holds Adam's first moments: every version before 4 does,
     * version 4 only when β₁ > 0 (with β₁ = 0 each step replaces them with its gradient, so they
     * carry nothing from one step to the next).
     */
    private static boolean storesFirstMoments(KanConfig config, int version) {
        return version < 4 || config.beta1() > 0;
    }

    /**
     * Adam's step and moments; version 2 adds the steps since the last reset. First moments that
     * were not stored stay zero.
     */
    private static void readOptimizer(
            DataInputStream in,
            KanLearner learner,
            List<LayerParameters> layers,
            boolean resets,
            boolean firstMoments)
            throws IOException {
        long step = in.readLong();
        long sinceReset = resets ? in.readLong() : step; // version 1 never reset the moments
        int count = ParameterIndex.count(layers.size());
        float[][] first = new float[count][];
        float[][] second = new float[count][];
        for (int q = 0; q < count; q++) {
            LayerParameters p = layers.get(ParameterIndex.layer(q));
            int size =
                    ParameterIndex.pick(
                                    ParameterIndex.position(q),
                                    p.baseWeight(),
                                    p.splineWeight(),
                                    p.splineScaler())
                            .length;
            first[q] = firstMoments ? readFloats(in, size) : new float[size];
            second[q] = readFloats(in, size);
        }
        learner.optimizer.restore(step, sinceReset);
        for (int q = 0; q < count; q++) {
            System.arraycopy(first[q], 0, learner.moment(q, true), 0, first[q].length);
            System.arraycopy(second[q], 0, learner.moment(q, false), 0, second[q].length);
        }
    }

    private static void writeConfig(DataOutputStream out, KanConfig c) throws IOException {
        out.writeInt(c.layers().size());
        for (int width : c.layers()) {
            out.writeInt(width);
        }
        out.writeInt(c.gridSize());
        out.writeInt(c.splineOrder());
        out.writeUTF(c.task().name());
        out.writeDouble(c.learningRate());
        out.writeDouble(c.beta1());
        out.writeDouble(c.beta2());
        out.writeDouble(c.adamEpsilon());
        out.writeDouble(c.weightDecay());
        out.writeDouble(c.clipNorm());
        out.writeDouble(c.logitBound());
        out.writeDouble(c.gridEps());
        out.writeDouble(c.gridMargin());
        out.writeDouble(c.gridLow());
        out.writeDouble(c.gridHigh());
        out.writeDouble(c.scaleNoise());
        out.writeDouble(c.scaleBase());
        out.writeDouble(c.scaleSpline());
        out.writeBoolean(c.normalize());
        out.writeInt(c.statsHorizon());
        out.writeDouble(c.refitBlend());
        out.writeDouble(c.refitSmoothing());
        out.writeDouble(c.refitMargin());
        out.writeLong(c.normalizerHorizon());
        out.writeLong(c.normalizerWarmup());
        out.writeLong(c.seed());
        writeDoubles(out, c.companionRates().stream().mapToDouble(Double::doubleValue).toArray());
        out.writeDouble(c.mixtureHorizon());
    }

    private static List<Integer> readLayerWidths(DataInputStream in) throws IOException {
        int count = in.readInt();
        if (count < 2 || count > 1024) {
            throw new IllegalArgumentException("corrupt model state: " + count + " layer widths");
        }
        List<Integer> layers = new ArrayList<>();
        for (int l = 0; l < count; l++) {
            layers.add(in.readInt());
        }
        return layers;
    }

    /**
     * Reads a configuration of version 2, 3 or 4 (the same from 3 on); version 2 has no companions.
     *
     * @param device the device to run on, or null for {@code auto}
     */
    private static KanConfig readConfig(DataInputStream in, String device, int version)
            throws IOException {
        KanConfig.Builder b = readOptimizerSettings(in).logitBound(in.readDouble());
        readGridSettings(in, b).statsHorizon(in.readInt());
        readRefitSettings(in, b).normalizerWarmup(in.readLong());
        b.seed(in.readLong()).device(device == null ? "auto" : device);
        if (version >= 3) {
            int count = in.readInt();
            if (count < 0 || count > LearnerMixture.MAX_COMPANIONS) {
                throw new IllegalArgumentException("corrupt model state: " + count + " companions");
            }
            double[] rates = new double[count];
            for (int c = 0; c < count; c++) {
                rates[c] = in.readDouble();
            }
            b.companionRates(java.util.Arrays.stream(rates).boxed().toList())
                    .mixtureHorizon(in.readDouble());
        }
        return b.build();
    }

    /** A version-1 configuration, and the size of its raw-input window. */
    private record V1Config(KanConfig config, int statsWindow) {}

    private static V1Config readConfigV1(DataInputStream in, String device) throws IOException {
        // version 1 had no logit bound: keep what the model computes
        KanConfig.Builder b = readOptimizerSettings(in).logitBound(0);
        readGridSettings(in, b);
        int window = in.readInt();
        if (window < 2 || window > 1 << 20) {
            throw new IllegalArgumentException(
                    "corrupt model state: a version-1 window of " + window + " rows");
        }
        readRefitSettings(in, b).normalizerWarmup(0); // version 1 always kept learning them
        b.seed(in.readLong());
        in.readUTF(); // version 1 kept the device; where to run is a setting now
        b.device(device == null ? "auto" : device);
        return new V1Config(b.build(), window);
    }

    /** Layers, grid size, order, task and the optimizer, as both versions start. */
    private static KanConfig.Builder readOptimizerSettings(DataInputStream in) throws IOException {
        return KanConfig.builder(readLayerWidths(in))
                .gridSize(in.readInt())
                .splineOrder(in.readInt())
                .task(Task.valueOf(in.readUTF()))
                .learningRate(in.readDouble())
                .beta1(in.readDouble())
                .beta2(in.readDouble())
                .adamEpsilon(in.readDouble())
                .weightDecay(in.readDouble())
                .clipNorm(in.readDouble());
    }

    /** The grid's and initialization's settings and the normalizer switch, as both versions. */
    private static KanConfig.Builder readGridSettings(DataInputStream in, KanConfig.Builder b)
            throws IOException {
        return b.gridEps(in.readDouble())
                .gridMargin(in.readDouble())
                .gridRange(in.readDouble(), in.readDouble())
                .scaleNoise(in.readDouble())
                .scaleBase(in.readDouble())
                .scaleSpline(in.readDouble())
                .normalize(in.readBoolean());
    }

    /** The refit's and the normalizer's settings, as both versions. */
    private static KanConfig.Builder readRefitSettings(DataInputStream in, KanConfig.Builder b)
            throws IOException {
        return b.refitBlend(in.readDouble())
                .refitSmoothing(in.readDouble())
                .refitMargin(in.readDouble())
                .normalizerHorizon(in.readLong());
    }

    private static void writeMoments(DataOutputStream out, RunningMoments m) throws IOException {
        out.writeLong(m.count());
        writeDoubles(out, m.means());
        writeDoubles(out, m.m2());
    }

    private static RunningMoments readMoments(DataInputStream in, int dimensions)
            throws IOException {
        long count = in.readLong();
        return new RunningMoments(count, readDoubles(in, dimensions), readDoubles(in, dimensions));
    }

    /** One buffer for all of an encoding's float arrays, grown to the largest. */
    private static final class Scratch {
        ByteBuffer buffer = ByteBuffer.allocate(0);
    }

    private static void writeFloats(DataOutputStream out, float[] values, Scratch scratch)
            throws IOException {
        out.writeInt(values.length);
        int size = values.length * Float.BYTES;
        if (scratch.buffer.capacity() < size) {
            scratch.buffer = ByteBuffer.allocate(Math.max(size, 2 * scratch.buffer.capacity()));
        }
        scratch.buffer.clear();
        scratch.buffer.asFloatBuffer().put(values);
        out.write(scratch.buffer.array(), 0, size);
    }

    private static float[] readFloats(DataInputStream in, int expected) throws IOException {
        int length = in.readInt();
        if (length != expected) {
            throw new IllegalArgumentException(
                    "corrupt model state: an array of "
                            + length
                            + " floats where "
                            + expected
                            + " belong");
        }
        byte[] raw = new byte[length * Float.BYTES];
        in.readFully(raw);
        float[] values = new float[length];
        ByteBuffer.wrap(raw).asFloatBuffer().get(values);
        return values;
    }

    private static void writeDoubles(DataOutputStream out, double[] values) throws IOException {
        out.writeInt(values.length);
        for (double v : values) {
            out.writeDouble(v);
        }
    }

    private static double[] readDoubles(DataInputStream in, int expected) throws IOException {
        int length = in.readInt();
        if (length != expected) {
            throw new IllegalArgumentException(
                    "corrupt model state: " + length + " doubles where " + expected + " belong");
        }
        double[] values = new double[length];
        for (int q = 0; q < length; q++) {
            values[q] = in.readDouble();
        }
        return values;
    }

    private static long[] readLongs(DataInputStream in, int expected) throws IOException {
        int length = in.readInt();
        if (length != expected) {
            throw new IllegalArgumentException(
                    "corrupt model state: " + length + " counters where " + expected + " belong");
        }
        long[] values = new long[length];
        for (int q = 0; q < length; q++) {
            values[q] = in.readLong();
        }
        return values;
    }
}
