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
 * <p>Reads version 1 (current). A later version adds a {@code decodeV2} and keeps this one.
 */
public final class LearnerStateCodec {
    static final int MAGIC = 0x4B414E53; // "KANS"
    public static final int CURRENT_VERSION = 1;

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
            out.writeLong(learner.skippedSteps);
            out.writeInt(learner.gridEpoch);
            out.writeLong(learner.version);
            out.writeDouble(learner.learningRateScale);
            out.writeLong(learner.boostStepsLeft);
            HostKan host = learner.host();
            for (int l = 0; l < host.size(); l++) {
                writeFloats(out, host.layer(l).grid.flat(), scratch);
                for (int p = 0; p < 3; p++) {
                    writeFloats(out, host.parameter(3 * l + p), scratch);
                }
            }
            out.writeLong(learner.optimizer.step());
            for (int q = 0; q < 3 * learner.layerCount(); q++) {
                writeFloats(out, learner.moment(q, true), scratch);
                writeFloats(out, learner.moment(q, false), scratch);
            }
            writeMoments(out, learner.normalizer.features());
            writeMoments(out, learner.normalizer.target());
            ActivationStatistics stats = learner.statistics;
            out.writeInt(stats.windowSize());
            out.writeInt(stats.next());
            writeFloats(out, stats.rawWindow(), scratch);
            for (int l = 0; l < learner.layerCount(); l++) {
                writeLongs(out, stats.seen()[l]);
                writeLongs(out, stats.outside()[l]);
                writeFloats(out, stats.min()[l], scratch);
                writeFloats(out, stats.max()[l], scratch);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        learner.encodedSize = bytes.size();
        return bytes.toByteArray();
    }

    /** Decodes onto the device the encoded configuration names. */
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
        KanConfig config = readConfig(in);
        if (device != null) {
            config = config.toBuilder().device(device).build();
        }
        long examples = in.readLong();
        long skipped = in.readLong();
        int gridEpoch = in.readInt();
        long version = in.readLong();
        double learningRateScale = in.readDouble();
        long boostStepsLeft = in.readLong();
        List<LayerParameters> layers = new ArrayList<>();
        List<Integer> widths = config.layers();
        int g = config.gridSize();
        int k = config.splineOrder();
        for (int l = 0; l + 1 < widths.size(); l++) {
            int fanIn = widths.get(l);
            int fanOut = widths.get(l + 1);
            float[] flat = readFloats(in, fanIn * (g + 2 * k + 1));
            float[][] knots = new float[fanIn][g + 2 * k + 1];
            for (int i = 0; i < fanIn; i++) {
                System.arraycopy(flat, i * (g + 2 * k + 1), knots[i], 0, g + 2 * k + 1);
            }
            layers.add(
                    new LayerParameters(
                            new KnotGrid(knots, g, k),
                            readFloats(in, fanOut * fanIn),
                            readFloats(in, fanOut * fanIn * (g + k)),
                            readFloats(in, fanOut * fanIn),
                            fanOut));
        }
        KanLearner learner = KanLearner.fromParameters(config, layers);
        try {
            long step = in.readLong();
            int count = 3 * layers.size();
            float[][] first = new float[count][];
            float[][] second = new float[count][];
            for (int q = 0; q < count; q++) {
                int size = parameterSize(layers.get(q / 3), q % 3);
                first[q] = readFloats(in, size);
                second[q] = readFloats(in, size);
            }
            learner.optimizer.restore(step);
            for (int q = 0; q < count; q++) {
                System.arraycopy(first[q], 0, learner.moment(q, true), 0, first[q].length);
                System.arraycopy(second[q], 0, learner.moment(q, false), 0, second[q].length);
            }
            RunningMoments features = readMoments(in, config.inputs());
            RunningMoments target = readMoments(in, 1);
            learner.normalizer.features().restoreFrom(features);
            learner.normalizer.target().restoreFrom(target);
            int filled = in.readInt();
            int next = in.readInt();
            ActivationStatistics stats = learner.statistics;
            float[] window = readFloats(in, stats.rawWindow().length);
            long[][] seen = new long[layers.size()][];
            long[][] outside = new long[layers.size()][];
            float[][] min = new float[layers.size()][];
            float[][] max = new float[layers.size()][];
            for (int l = 0; l < layers.size(); l++) {
                int width = layers.get(l).in();
                seen[l] = readLongs(in, width);
                outside[l] = readLongs(in, width);
                min[l] = readFloats(in, width);
                max[l] = readFloats(in, width);
            }
            stats.restore(window, filled, next, seen, outside, min, max);
            learner.examples = examples;
            learner.skippedSteps = skipped;
            learner.gridEpoch = gridEpoch;
            learner.version = version;
            learner.learningRateScale = learningRateScale;
            learner.boostStepsLeft = boostStepsLeft;
            if (in.available() != 0) {
                throw new IllegalArgumentException(
                        "corrupt model state: " + in.available() + " bytes left after the end");
            }
            return learner;
        } catch (IOException | RuntimeException e) {
            learner.close();
            throw e;
        }
    }

    private static int parameterSize(LayerParameters p, int which) {
        return switch (which) {
            case 0 -> p.baseWeight().length;
            case 1 -> p.splineWeight().length;
            default -> p.splineScaler().length;
        };
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
        out.writeDouble(c.gridEps());
        out.writeDouble(c.gridMargin());
        out.writeDouble(c.gridLow());
        out.writeDouble(c.gridHigh());
        out.writeDouble(c.scaleNoise());
        out.writeDouble(c.scaleBase());
        out.writeDouble(c.scaleSpline());
        out.writeBoolean(c.normalize());
        out.writeInt(c.statsWindow());
        out.writeDouble(c.refitBlend());
        out.writeDouble(c.refitSmoothing());
        out.writeDouble(c.refitMargin());
        out.writeLong(c.normalizerHorizon());
        out.writeLong(c.seed());
        out.writeUTF(c.device());
    }

    private static KanConfig readConfig(DataInputStream in) throws IOException {
        int count = in.readInt();
        if (count < 2 || count > 1024) {
            throw new IllegalArgumentException("corrupt model state: " + count + " layer widths");
        }
        List<Integer> layers = new ArrayList<>();
        for (int l = 0; l < count; l++) {
            layers.add(in.readInt());
        }
        return KanConfig.builder(layers)
                .gridSize(in.readInt())
                .splineOrder(in.readInt())
                .task(Task.valueOf(in.readUTF()))
                .learningRate(in.readDouble())
                .beta1(in.readDouble())
                .beta2(in.readDouble())
                .adamEpsilon(in.readDouble())
                .weightDecay(in.readDouble())
                .clipNorm(in.readDouble())
                .gridEps(in.readDouble())
                .gridMargin(in.readDouble())
                .gridRange(in.readDouble(), in.readDouble())
                .scaleNoise(in.readDouble())
                .scaleBase(in.readDouble())
                .scaleSpline(in.readDouble())
                .normalize(in.readBoolean())
                .statsWindow(in.readInt())
                .refitBlend(in.readDouble())
                .refitSmoothing(in.readDouble())
                .refitMargin(in.readDouble())
                .normalizerHorizon(in.readLong())
                .seed(in.readLong())
                .device(in.readUTF())
                .build();
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

    private static void writeLongs(DataOutputStream out, long[] values) throws IOException {
        out.writeInt(values.length);
        for (long v : values) {
            out.writeLong(v);
        }
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
