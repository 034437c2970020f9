package io.kanstream.kan;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
 * <p>Writes version 7; reads versions 1 to 7.
 *
 * <ul>
 *   <li>Version 7: version 6, with the configuration's {@link KanConfig#calibrationBias()} (a byte)
 *       and a young model's learning-rate multiplier ({@link KanConfig#initialRateFactor()}, a
 *       double, and {@link KanConfig#initialRateSteps()}, a long) after the average's horizon.
 *       Versions 1 to 6 are read as learning the bias, which every binary model did then, and with
 *       a constant rate, so a restored key learns as it did before.
 *   <li>Version 6: version 5, with the refits declined in a row ({@link
 *       KanLearner#declinedInARow()}, an int) after the declined refits' count: the wait before the
 *       next look at the grids grows with it ({@link RefitPolicy#declineBackoff()}). Versions 1 to
 *       5 are read with none declined in a row, so a restored key looks again after the policy's
 *       minimum interval.
 *   <li>Version 5: version 4, with the horizon of the learner's parameter average ({@link
 *       ParameterAverage}; 0 for none) after the mixture's in the configuration, and for a learner
 *       with an average, after the companions, the two members' decayed losses and the averaged
 *       parameters in {@link ParameterIndex} order (4,8,1: 1,616 bytes). Versions 1 to 4 are read
 *       as learners without an average, which compute what they computed before.
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
    public static final int CURRENT_VERSION = 7;

    private LearnerStateCodec() {}

    public static byte[] encode(KanLearner learner) {
        // sized from the last encoding, which is nearly always this one's size: no copy at the end
        Writer out = new Writer(learner.encodedSize);
        encode(learner, out);
        learner.encodedSize = out.size();
        return out.toByteArray();
    }

    private static void encode(KanLearner learner, Writer out) {
        out.writeInt(MAGIC);
        out.writeInt(CURRENT_VERSION);
        writeConfig(out, learner.config);
        out.writeLong(learner.examples);
        out.writeLong(learner.rejectedRefits);
        out.writeInt(learner.declinedInARow);
        out.writeLong(learner.skippedSteps);
        out.writeInt(learner.gridEpoch);
        out.writeLong(learner.version);
        out.writeDouble(learner.learningRateScale);
        out.writeLong(learner.boostStepsLeft);
        HostKan host = learner.host();
        for (int l = 0; l < host.size(); l++) {
            out.writeFloats(host.layer(l).grid.knots());
            for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                out.writeFloats(host.parameter(ParameterIndex.of(l, p)));
            }
        }
        out.writeLong(learner.optimizer.step());
        out.writeLong(learner.optimizer.sinceReset());
        boolean firstMoments = storesFirstMoments(learner.config, CURRENT_VERSION);
        for (int q = 0; q < ParameterIndex.count(learner.layerCount()); q++) {
            if (firstMoments) {
                out.writeFloats(learner.moment(q, true));
            }
            out.writeFloats(learner.moment(q, false));
        }
        writeMoments(out, learner.normalizer.features());
        writeMoments(out, learner.normalizer.target());
        ActivationStatistics stats = learner.statistics;
        out.writeDouble(stats.weight());
        out.writeLong(stats.seenSinceRefit());
        for (int l = 0; l < learner.layerCount(); l++) {
            out.writeFloats(stats.mass()[l]);
            out.writeFloats(stats.tails()[l]);
        }
        OutputCalibration calibration = learner.calibration;
        out.writeDouble(calibration.scale);
        out.writeDoubles(calibration.bias);
        out.writeDoubles(calibration.curvature);
        LearnerMixture mixture = learner.mixture;
        if (mixture != null) {
            out.writeDoubles(mixture.losses);
            for (KanLearner companion : mixture.companions) {
                // its length, then its own encoding: the length is written once it is known
                int at = out.size();
                out.writeInt(0);
                encode(companion, out);
                out.patchInt(at, out.size() - at - Integer.BYTES);
            }
        }
        ParameterAverage average = learner.currentAverage();
        if (average != null) {
            out.writeDoubles(average.losses);
            for (float[] parameter : average.parameters) {
                out.writeFloats(parameter);
            }
        }
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
        try {
            KanLearner learner = decode(ByteBuffer.wrap(bytes), device, false);
            learner.encodedSize = bytes.length; // its next encoding's buffer, without regrowth
            return learner;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "truncated or corrupt model state: it ends before the model does", e);
        }
    }

    /**
     * The same model set to learn on without momentum (β₁ = 0, its first moments dropped), its
     * companions too; everything else as it was. What `fit` hands a stream: mini-batches over a
     * table train best with momentum, a stream's single labels without (docs/learning.md).
     */
    public static byte[] withoutMomentum(byte[] bytes) {
        try (KanLearner learner = decode(ByteBuffer.wrap(bytes), "cpu", true)) {
            return encode(learner);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "truncated or corrupt model state: it ends before the model does", e);
        }
    }

    /**
     * Decodes the whole of {@code in} (big-endian, from its position to its limit).
     *
     * @param dropMomentum decode as {@link #withoutMomentum}: β₁ set to 0, first moments skipped
     */
    private static KanLearner decode(ByteBuffer in, String device, boolean dropMomentum) {
        int magic = in.getInt();
        if (magic != MAGIC) {
            throw new IllegalArgumentException(
                    "not a kanstream model: the first 4 bytes are 0x"
                            + Integer.toHexString(magic)
                            + ", a model starts with KANS");
        }
        int version = in.getInt();
        return switch (version) {
            case 1 -> decodeV1(in, device, dropMomentum);
            case 2, 3, 4, 5, 6, 7 -> decodeV2(in, device, version, dropMomentum);
            default ->
                    throw new IllegalArgumentException(
                            "Unrecognized version or corrupt state: model format version "
                                    + version
                                    + ", this build reads 1.."
                                    + CURRENT_VERSION);
        };
    }

    private static KanLearner decodeV1(ByteBuffer in, String device, boolean dropMomentum) {
        V1Config v1 = readConfigV1(in, device);
        KanConfig config = withoutMomentum(v1.config(), dropMomentum);
        Counters counters = Counters.read(in, 1);
        List<LayerParameters> layers = readLayers(in, config);
        KanLearner learner = KanLearner.fromParameters(config, layers);
        try {
            readOptimizer(in, learner, false, true, !dropMomentum);
            RunningMoments features = readMoments(in, config.inputs());
            RunningMoments target = readMoments(in, 1);
            learner.normalizer.features().restoreFrom(features);
            learner.normalizer.target().restoreFrom(target);
            int filled = in.getInt();
            int next = in.getInt();
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
        } catch (RuntimeException e) {
            learner.close();
            throw e;
        }
    }

    /**
     * Versions 2 to 7: 3 adds the companions, 4 drops the first moments that β₁ = 0 ignores, 5 adds
     * the parameter average, 6 the refits declined in a row, 7 the calibration-bias flag and the
     * initial rate.
     */
    private static KanLearner decodeV2(
            ByteBuffer in, String device, int version, boolean dropMomentum) {
        KanConfig stored = readConfig(in, device, version);
        KanConfig config = withoutMomentum(stored, dropMomentum);
        Counters counters = Counters.read(in, version);
        List<LayerParameters> layers = readLayers(in, config);
        // the arrays just read belong to nobody else: the learner takes them without copies
        KanLearner learner = KanLearner.decoded(config, layers);
        try {
            boolean firstMoments = storesFirstMoments(stored, version);
            readOptimizer(in, learner, true, firstMoments, firstMoments && !dropMomentum);
            readMomentsInto(in, learner.normalizer.features());
            readMomentsInto(in, learner.normalizer.target());
            ActivationStatistics stats = learner.statistics;
            double weight = in.getDouble();
            long seenSinceRefit = in.getLong();
            for (int l = 0; l < layers.size(); l++) {
                readFloatsInto(in, stats.mass()[l]);
                readFloatsInto(in, stats.tails()[l]);
            }
            if (!(weight >= 1) || !Double.isFinite(weight)) {
                throw new IllegalArgumentException(
                        "corrupt model state: summary weight " + weight + ", expected >= 1");
            }
            stats.restore(weight, seenSinceRefit);
            OutputCalibration calibration = learner.calibration;
            calibration.scale = in.getDouble();
            readDoublesInto(in, calibration.bias);
            readDoublesInto(in, calibration.curvature);
            learner.mixture = readMixture(in, config, device, dropMomentum);
            learner.average = readAverage(in, config, learner.host());
            counters.applyTo(learner);
            requireEnd(in);
            return learner;
        } catch (RuntimeException e) {
            learner.close();
            throw e;
        }
    }

    /** The companions a version-3 configuration names, or null when it names none. */
    private static LearnerMixture readMixture(
            ByteBuffer in, KanConfig config, String device, boolean dropMomentum) {
        int count = config.companionRates().size();
        if (count == 0) {
            return null;
        }
        double[] losses = readDoubles(in, count + 1);
        KanLearner[] companions = new KanLearner[count];
        try {
            for (int c = 0; c < count; c++) {
                int length = in.getInt();
                if (length < 8 || length > in.remaining()) {
                    throw new IllegalArgumentException(
                            "corrupt model state: companion "
                                    + c
                                    + " of "
                                    + length
                                    + " bytes, "
                                    + in.remaining()
                                    + " left");
                }
                companions[c] = decode(in.slice(in.position(), length), device, dropMomentum);
                in.position(in.position() + length);
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
        } catch (RuntimeException e) {
            for (KanLearner companion : companions) {
                if (companion != null) {
                    companion.close();
                }
            }
            throw e;
        }
    }

    /** The parameter average a version-5 configuration names, or null when it names none. */
    private static ParameterAverage readAverage(ByteBuffer in, KanConfig config, HostKan host) {
        if (config.averageHorizon() == 0) {
            return null;
        }
        double[] losses = readDoubles(in, 2);
        float[][] parameters = new float[ParameterIndex.count(host.size())][];
        for (int q = 0; q < parameters.length; q++) {
            parameters[q] = readFloats(in, host.parameter(q).length);
        }
        return new ParameterAverage(config, parameters, losses);
    }

    /**
     * The learner's counters; version 2 adds the declined refits after the examples, version 6 the
     * ones declined in a row after those.
     */
    private record Counters(
            long examples,
            long rejectedRefits,
            int declinedInARow,
            long skippedSteps,
            int gridEpoch,
            long version,
            double learningRateScale,
            long boostStepsLeft) {

        static Counters read(ByteBuffer in, int version) {
            long examples = in.getLong();
            long rejected = version >= 2 ? in.getLong() : 0;
            int inARow = version >= 6 ? in.getInt() : 0;
            if (inARow < 0) {
                throw new IllegalArgumentException(
                        "corrupt model state: " + inARow + " refits declined in a row");
            }
            return new Counters(
                    examples,
                    rejected,
                    inARow,
                    in.getLong(),
                    in.getInt(),
                    in.getLong(),
                    in.getDouble(),
                    in.getLong());
        }

        void applyTo(KanLearner learner) {
            learner.examples = examples;
            learner.rejectedRefits = rejectedRefits;
            learner.declinedInARow = declinedInARow;
            learner.skippedSteps = skippedSteps;
            learner.gridEpoch = gridEpoch;
            learner.version = version;
            learner.learningRateScale = learningRateScale;
            learner.boostStepsLeft = boostStepsLeft;
        }
    }

    private static void requireEnd(ByteBuffer in) {
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(
                    "corrupt model state: " + in.remaining() + " bytes left after the end");
        }
    }

    /** Every layer's grid and parameters, as every version writes them. */
    private static List<LayerParameters> readLayers(ByteBuffer in, KanConfig config) {
        List<Integer> widths = config.layers();
        LayerParameters[] layers = new LayerParameters[widths.size() - 1];
        int g = config.gridSize();
        int k = config.splineOrder();
        for (int l = 0; l < layers.length; l++) {
            int fanIn = widths.get(l);
            int fanOut = widths.get(l + 1);
            float[] knots = readFloats(in, fanIn * KnotGrid.knotCount(g, k));
            layers[l] =
                    new LayerParameters(
                            KnotGrid.adopt(knots, fanIn, g, k),
                            readFloats(in, fanOut * fanIn),
                            readFloats(in, fanOut * fanIn * config.coefficients()),
                            readFloats(in, fanOut * fanIn),
                            fanOut);
        }
        return List.of(layers);
    }

    /**
     * Whether a state of {@code version} holds Adam's first moments: every version before 4 does,
     * version 4 only when β₁ > 0 (with β₁ = 0 each step replaces them with its gradient, so they
     * carry nothing from one step to the next).
     */
    private static boolean storesFirstMoments(KanConfig config, int version) {
        return version < 4 || config.beta1() > 0;
    }

    private static KanConfig withoutMomentum(KanConfig config, boolean drop) {
        return drop && config.beta1() != 0 ? config.toBuilder().beta1(0).build() : config;
    }

    /**
     * Adam's step and moments, read into the learner's own moment arrays (of the parameters' sizes,
     * which its layers fixed); version 2 adds the steps since the last reset. First moments that
     * were not stored, or not kept, stay as the fresh learner has them (none with β₁ = 0).
     *
     * @param firstMoments whether the state holds first moments
     * @param keepFirst whether to read them into the learner rather than pass over them
     */
    private static void readOptimizer(
            ByteBuffer in,
            KanLearner learner,
            boolean resets,
            boolean firstMoments,
            boolean keepFirst) {
        long step = in.getLong();
        long sinceReset = resets ? in.getLong() : step; // version 1 never reset the moments
        for (int q = 0; q < ParameterIndex.count(learner.layerCount()); q++) {
            if (firstMoments) {
                float[] first =
                        keepFirst
                                ? learner.moment(q, true)
                                : new float[learner.moment(q, false).length];
                readFloatsInto(in, first);
            }
            readFloatsInto(in, learner.moment(q, false));
        }
        learner.optimizer.restore(step, sinceReset);
    }

    private static void writeConfig(Writer out, KanConfig c) {
        out.writeInt(c.layers().size());
        for (int width : c.layers()) {
            out.writeInt(width);
        }
        out.writeInt(c.gridSize());
        out.writeInt(c.splineOrder());
        out.writeAscii(c.task().name());
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
        List<Double> rates = c.companionRates();
        out.writeInt(rates.size());
        for (double rate : rates) {
            out.writeDouble(rate);
        }
        out.writeDouble(c.mixtureHorizon());
        out.writeDouble(c.averageHorizon());
        out.writeBoolean(c.calibrationBias());
        out.writeDouble(c.initialRateFactor());
        out.writeLong(c.initialRateSteps());
    }

    private static List<Integer> readLayerWidths(ByteBuffer in) {
        int count = in.getInt();
        if (count < 2 || count > 1024) {
            throw new IllegalArgumentException("corrupt model state: " + count + " layer widths");
        }
        Integer[] layers = new Integer[count];
        for (int l = 0; l < count; l++) {
            layers[l] = in.getInt();
        }
        return Arrays.asList(layers);
    }

    /**
     * The last configuration decoded, by its bytes: the keys of a job share one configuration, so
     * most decodes compare its bytes instead of building and validating it again. Immutable; one
     * per JVM, replaced when another configuration comes along.
     */
    private record DecodedConfig(int version, String device, byte[] bytes, KanConfig config) {}

    private static volatile DecodedConfig lastConfig;

    /**
     * Reads a configuration of version 2 to 7: version 2 has no companions, versions before 5 no
     * average's horizon, before 7 no calibration-bias flag or initial rate.
     *
     * @param device the device to run on, or null for {@code auto}
     */
    private static KanConfig readConfig(ByteBuffer in, String device, int version) {
        int start = in.position();
        DecodedConfig last = lastConfig;
        if (last != null
                && last.version == version
                && java.util.Objects.equals(last.device, device)
                && in.remaining() >= last.bytes.length
                && Arrays.mismatch(
                                in.array(),
                                in.arrayOffset() + start,
                                in.arrayOffset() + start + last.bytes.length,
                                last.bytes,
                                0,
                                last.bytes.length)
                        < 0) {
            // the encoding is self-delimiting: the same bytes are the same configuration
            in.position(start + last.bytes.length);
            return last.config;
        }
        KanConfig config = parseConfig(in, device, version);
        byte[] bytes = new byte[in.position() - start];
        in.get(start, bytes);
        lastConfig = new DecodedConfig(version, device, bytes, config);
        return config;
    }

    private static KanConfig parseConfig(ByteBuffer in, String device, int version) {
        KanConfig.Builder b = readOptimizerSettings(in).logitBound(in.getDouble());
        readGridSettings(in, b).statsHorizon(in.getInt());
        readRefitSettings(in, b).normalizerWarmup(in.getLong());
        b.seed(in.getLong()).device(device == null ? "auto" : device);
        if (version >= 3) {
            int count = in.getInt();
            if (count < 0 || count > LearnerMixture.MAX_COMPANIONS) {
                throw new IllegalArgumentException("corrupt model state: " + count + " companions");
            }
            double[] rates = new double[count];
            for (int c = 0; c < count; c++) {
                rates[c] = in.getDouble();
            }
            b.companionRates(Arrays.stream(rates).boxed().toList()).mixtureHorizon(in.getDouble());
        }
        // before version 5 no learner had an average: it computes what it computed
        b.averageHorizon(version >= 5 ? in.getDouble() : 0);
        // before version 7 every binary model learned its calibration's bias at a constant rate: it
        // goes on doing so
        if (version >= 7) {
            b.calibrationBias(readBoolean(in)).initialRate(in.getDouble(), in.getLong());
        } else {
            b.calibrationBias(true).constantRate();
        }
        return b.build();
    }

    /** A version-1 configuration, and the size of its raw-input window. */
    private record V1Config(KanConfig config, int statsWindow) {}

    private static V1Config readConfigV1(ByteBuffer in, String device) {
        // version 1 had no logit bound: keep what the model computes
        KanConfig.Builder b = readOptimizerSettings(in).logitBound(0);
        readGridSettings(in, b);
        int window = in.getInt();
        if (window < 2 || window > 1 << 20) {
            throw new IllegalArgumentException(
                    "corrupt model state: a version-1 window of " + window + " rows");
        }
        readRefitSettings(in, b).normalizerWarmup(0); // version 1 always kept learning them
        b.seed(in.getLong());
        readUtf(in); // version 1 kept the device; where to run is a setting now
        // no bound, so no calibration at all; the flag is what versions 2 to 6 read as
        b.device(device == null ? "auto" : device).averageHorizon(0).calibrationBias(true);
        b.constantRate();
        return new V1Config(b.build(), window);
    }

    /** Layers, grid size, order, task and the optimizer, as every version starts. */
    private static KanConfig.Builder readOptimizerSettings(ByteBuffer in) {
        return KanConfig.builder(readLayerWidths(in))
                .gridSize(in.getInt())
                .splineOrder(in.getInt())
                .task(Task.valueOf(readUtf(in)))
                .learningRate(in.getDouble())
                .beta1(in.getDouble())
                .beta2(in.getDouble())
                .adamEpsilon(in.getDouble())
                .weightDecay(in.getDouble())
                .clipNorm(in.getDouble());
    }

    /** The grid's and initialization's settings and the normalizer switch, as every version. */
    private static KanConfig.Builder readGridSettings(ByteBuffer in, KanConfig.Builder b) {
        return b.gridEps(in.getDouble())
                .gridMargin(in.getDouble())
                .gridRange(in.getDouble(), in.getDouble())
                .scaleNoise(in.getDouble())
                .scaleBase(in.getDouble())
                .scaleSpline(in.getDouble())
                .normalize(readBoolean(in));
    }

    /** The refit's and the normalizer's settings, as every version. */
    private static KanConfig.Builder readRefitSettings(ByteBuffer in, KanConfig.Builder b) {
        return b.refitBlend(in.getDouble())
                .refitSmoothing(in.getDouble())
                .refitMargin(in.getDouble())
                .normalizerHorizon(in.getLong());
    }

    private static void writeMoments(Writer out, RunningMoments m) {
        out.writeLong(m.count());
        out.writeDoubles(m.means());
        out.writeDoubles(m.m2());
    }

    private static RunningMoments readMoments(ByteBuffer in, int dimensions) {
        long count = in.getLong();
        return new RunningMoments(count, readDoubles(in, dimensions), readDoubles(in, dimensions));
    }

    /** Into a fresh learner's moments, checked as {@link RunningMoments}' constructor checks. */
    private static void readMomentsInto(ByteBuffer in, RunningMoments into) {
        into.restoreFrom(readMoments(in, into.dimensions()));
    }

    /** As {@link java.io.DataInput#readBoolean}: any byte but 0 is true. */
    private static boolean readBoolean(ByteBuffer in) {
        return in.get() != 0;
    }

    /**
     * A string as {@link java.io.DataOutput#writeUTF} writes it (an unsigned 16-bit length, then
     * modified UTF-8), read with {@link java.io.DataInput#readUTF}'s rules.
     */
    private static String readUtf(ByteBuffer in) {
        int length = Short.toUnsignedInt(in.getShort());
        byte[] bytes = new byte[length];
        in.get(bytes);
        boolean ascii = true;
        for (byte b : bytes) {
            ascii &= b > 0; // modified UTF-8 writes 0 as two bytes: one 0 byte is not ASCII
        }
        if (ascii) {
            return new String(bytes, StandardCharsets.US_ASCII);
        }
        byte[] framed = new byte[length + 2];
        framed[0] = (byte) (length >>> 8);
        framed[1] = (byte) length;
        System.arraycopy(bytes, 0, framed, 2, length);
        try {
            return new DataInputStream(new ByteArrayInputStream(framed)).readUTF();
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt model state: a string: " + e, e);
        }
    }

    private static float[] readFloats(ByteBuffer in, int expected) {
        float[] values = new float[expected];
        readFloatsInto(in, values);
        return values;
    }

    /** An array of exactly {@code into.length} floats, its raw IEEE bits, into {@code into}. */
    private static void readFloatsInto(ByteBuffer in, float[] into) {
        int length = in.getInt();
        if (length != into.length) {
            throw new IllegalArgumentException(
                    "corrupt model state: an array of "
                            + length
                            + " floats where "
                            + into.length
                            + " belong");
        }
        int at = in.position();
        in.asFloatBuffer().get(into); // throws BufferUnderflowException when too short
        in.position(at + length * Float.BYTES);
    }

    private static double[] readDoubles(ByteBuffer in, int expected) {
        double[] values = new double[expected];
        readDoublesInto(in, values);
        return values;
    }

    private static void readDoublesInto(ByteBuffer in, double[] into) {
        int length = in.getInt();
        if (length != into.length) {
            throw new IllegalArgumentException(
                    "corrupt model state: " + length + " doubles where " + into.length + " belong");
        }
        for (int q = 0; q < length; q++) {
            into[q] = in.getDouble();
        }
    }

    private static long[] readLongs(ByteBuffer in, int expected) {
        int length = in.getInt();
        if (length != expected) {
            throw new IllegalArgumentException(
                    "corrupt model state: " + length + " counters where " + expected + " belong");
        }
        long[] values = new long[length];
        for (int q = 0; q < length; q++) {
            values[q] = in.getLong();
        }
        return values;
    }

    /**
     * Big-endian primitives into a growing array, laid out as {@link java.io.DataOutputStream}
     * writes them (doubles through {@link Double#doubleToLongBits}, as it does; float arrays as
     * their raw bits, as the format always wrote them), without its stream's locking on every
     * field.
     */
    private static final class Writer {
        private ByteBuffer buffer;

        Writer(int capacity) {
            buffer = ByteBuffer.allocate(Math.max(capacity, 64));
        }

        int size() {
            return buffer.position();
        }

        private void ensure(int more) {
            if (buffer.remaining() < more) {
                ByteBuffer grown =
                        ByteBuffer.allocate(Math.max(buffer.capacity() * 2, size() + more));
                grown.put(buffer.flip());
                buffer = grown;
            }
        }

        void writeInt(int v) {
            ensure(Integer.BYTES);
            buffer.putInt(v);
        }

        void patchInt(int at, int v) {
            buffer.putInt(at, v);
        }

        void writeLong(long v) {
            ensure(Long.BYTES);
            buffer.putLong(v);
        }

        void writeDouble(double v) {
            writeLong(Double.doubleToLongBits(v));
        }

        void writeBoolean(boolean v) {
            ensure(1);
            buffer.put((byte) (v ? 1 : 0));
        }

        /** {@link java.io.DataOutput#writeUTF} of a string of ASCII letters, digits and '_'. */
        void writeAscii(String text) {
            ensure(2 + text.length());
            buffer.putShort((short) text.length());
            for (int i = 0; i < text.length(); i++) {
                char ch = text.charAt(i);
                if (ch == 0 || ch >= 0x80) {
                    throw new IllegalStateException("not ASCII: " + text);
                }
                buffer.put((byte) ch);
            }
        }

        /** The length, then the raw IEEE bits of every value. */
        void writeFloats(float[] values) {
            writeInt(values.length);
            int size = values.length * Float.BYTES;
            ensure(size);
            int at = buffer.position();
            buffer.asFloatBuffer().put(values);
            buffer.position(at + size);
        }

        /** The length, then every value. */
        void writeDoubles(double[] values) {
            writeInt(values.length);
            ensure(values.length * Double.BYTES);
            for (double v : values) {
                buffer.putLong(Double.doubleToLongBits(v));
            }
        }

        /** The bytes written; the array itself when it is exactly full. */
        byte[] toByteArray() {
            byte[] array = buffer.array();
            return size() == array.length ? array : Arrays.copyOf(array, size());
        }
    }
}
