package io.kanstream.stream;

import io.kanstream.eval.Adwin;
import io.kanstream.eval.DriftDetector;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializer of {@link KeyProgress}. Every value starts with its format version, so a
 * savepoint written by this version restores after the format grows: {@code deserialize} switches
 * on it, one {@code readV*} per historical format.
 *
 * <p>Reads version 1.
 */
public final class KeyProgressSerializer extends TypeSerializerSingleton<KeyProgress> {
    public static final KeyProgressSerializer INSTANCE = new KeyProgressSerializer();
    private static final int VERSION = 1;

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public KeyProgress createInstance() {
        return new KeyProgress(new float[0], new double[0]);
    }

    @Override
    public KeyProgress copy(KeyProgress from) {
        return from.copy();
    }

    @Override
    public KeyProgress copy(KeyProgress from, KeyProgress reuse) {
        return from.copy();
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(KeyProgress p, DataOutputView out) throws IOException {
        out.writeInt(VERSION);
        out.writeInt(p.batchRows.length);
        for (float v : p.batchRows) {
            out.writeFloat(v);
        }
        out.writeInt(p.batchLabels.length);
        for (double v : p.batchLabels) {
            out.writeDouble(v);
        }
        out.writeInt(p.batchCount);
        out.writeLong(p.batchDeadline);
        out.writeLong(p.events);
        out.writeLong(p.labeled);
        out.writeLong(p.awaitingDropped);
        out.writeInt(p.awaitingCount);
        out.writeLong(p.lastSeen);
        out.writeLong(p.windowCount);
        out.writeDouble(p.windowLoss);
        out.writeDouble(p.windowHits);
        out.writeDouble(p.windowBaselineHits);
        out.writeLong(p.windowBaselineCount);
        out.writeDouble(p.lastLabel);
        out.writeLong(p.drifts);
        writeDetector(p.detector, out);
    }

    private static void writeDetector(DriftDetector detector, DataOutputView out)
            throws IOException {
        if (detector == null) {
            out.writeByte(-1);
            return;
        }
        out.writeByte(
                (detector instanceof Adwin
                                ? DriftDetector.Kind.ADWIN
                                : DriftDetector.Kind.PAGE_HINKLEY)
                        .ordinal());
        detector.write(out);
    }

    private static DriftDetector readDetector(DataInputView in) throws IOException {
        int kind = in.readByte();
        if (kind < 0) {
            return null;
        }
        if (kind >= DriftDetector.Kind.values().length) {
            throw new IOException(
                    "Unrecognized version or corrupt state: drift detector kind " + kind);
        }
        return DriftDetector.Kind.values()[kind].read(in);
    }

    static DriftDetector copyDetector(DriftDetector detector) {
        if (detector == null) {
            return null;
        }
        try {
            DataOutputSerializer out = new DataOutputSerializer(256);
            writeDetector(detector, out);
            return readDetector(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
        } catch (IOException e) {
            throw new IllegalStateException("drift detector copy failed", e);
        }
    }

    @Override
    public KeyProgress deserialize(DataInputView in) throws IOException {
        int version = in.readInt();
        return switch (version) {
            case 1 -> readV1(in);
            default ->
                    throw new IOException(
                            "Unrecognized version or corrupt state: key progress format "
                                    + version
                                    + ", this build reads 1.."
                                    + VERSION);
        };
    }

    private static KeyProgress readV1(DataInputView in) throws IOException {
        float[] rows = new float[in.readInt()];
        for (int q = 0; q < rows.length; q++) {
            rows[q] = in.readFloat();
        }
        double[] labels = new double[in.readInt()];
        for (int q = 0; q < labels.length; q++) {
            labels[q] = in.readDouble();
        }
        KeyProgress p = new KeyProgress(rows, labels);
        p.batchCount = in.readInt();
        p.batchDeadline = in.readLong();
        p.events = in.readLong();
        p.labeled = in.readLong();
        p.awaitingDropped = in.readLong();
        p.awaitingCount = in.readInt();
        p.lastSeen = in.readLong();
        p.windowCount = in.readLong();
        p.windowLoss = in.readDouble();
        p.windowHits = in.readDouble();
        p.windowBaselineHits = in.readDouble();
        p.windowBaselineCount = in.readLong();
        p.lastLabel = in.readDouble();
        p.drifts = in.readLong();
        p.detector = readDetector(in);
        return p;
    }

    @Override
    public KeyProgress deserialize(KeyProgress reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<KeyProgress> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot; the data carries its own version. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<KeyProgress> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
