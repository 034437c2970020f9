package io.kanstream.stream;

import io.kanstream.eval.Adwin;
import io.kanstream.eval.DriftDetector;
import io.kanstream.eval.PrequentialWindow;
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
 * <p>Writes version 3; reads 1 to 3. Version 2 writes only the filled part of the pending
 * mini-batch (its capacity, then the batch's rows and labels): most of the time a key's batch is
 * empty or partly filled, and version 1 wrote all of it, 768 bytes at batch 32 and 4 inputs.
 * Version 3 appends the key's losses against the shared model (a count, 0 for none, then the
 * values), which before lived in a keyed state of their own: one state access less per event.
 * Versions 1 and 2 read as a key without them.
 */
public final class KeyProgressSerializer extends TypeSerializerSingleton<KeyProgress> {
    public static final KeyProgressSerializer INSTANCE = new KeyProgressSerializer();
    private static final int VERSION = 3;

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
        int capacity = p.batchLabels.length;
        int inputs = capacity == 0 ? 0 : p.batchRows.length / capacity;
        out.writeInt(capacity);
        out.writeInt(inputs);
        out.writeInt(p.batchCount);
        for (int q = 0; q < p.batchCount * inputs; q++) {
            out.writeFloat(p.batchRows[q]);
        }
        for (int q = 0; q < p.batchCount; q++) {
            out.writeDouble(p.batchLabels[q]);
        }
        out.writeLong(p.batchDeadline);
        out.writeLong(p.events);
        out.writeLong(p.labeled);
        out.writeLong(p.awaitingDropped);
        out.writeInt(p.awaitingCount);
        out.writeLong(p.lastSeen);
        PrequentialWindow w = p.window;
        out.writeLong(w.count());
        out.writeDouble(w.loss());
        out.writeDouble(w.hits());
        out.writeDouble(w.referenceHits());
        out.writeLong(w.count()); // examples the no-change reference covered: all of them
        out.writeDouble(w.previousLabel());
        out.writeLong(p.drifts);
        writeDetector(p.detector, out);
        double[] losses = p.sharedLosses;
        out.writeByte(losses == null ? 0 : losses.length);
        if (losses != null) {
            for (double loss : losses) {
                out.writeDouble(loss);
            }
        }
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
            case 2 -> readV2(in);
            case 3 -> readSharedLosses(readV2(in), in);
            default ->
                    throw new IOException(
                            "Unrecognized version or corrupt state: key progress format "
                                    + version
                                    + ", this build reads 1.."
                                    + VERSION);
        };
    }

    private static KeyProgress readV2(DataInputView in) throws IOException {
        int capacity = in.readInt();
        int inputs = in.readInt();
        int count = in.readInt();
        if (capacity < 0 || inputs < 0 || count < 0 || count > capacity) {
            throw new IOException(
                    "Unrecognized version or corrupt state: a batch of "
                            + count
                            + " in "
                            + capacity
                            + " slots of "
                            + inputs
                            + " inputs");
        }
        float[] rows = new float[capacity * inputs];
        for (int q = 0; q < count * inputs; q++) {
            rows[q] = in.readFloat();
        }
        double[] labels = new double[capacity];
        for (int q = 0; q < count; q++) {
            labels[q] = in.readDouble();
        }
        KeyProgress p = new KeyProgress(rows, labels);
        p.batchCount = count;
        readCounters(p, in);
        return p;
    }

    private static KeyProgress readSharedLosses(KeyProgress p, DataInputView in)
            throws IOException {
        int n = in.readUnsignedByte();
        if (n > 0) {
            p.sharedLosses = new double[n];
            for (int q = 0; q < n; q++) {
                p.sharedLosses[q] = in.readDouble();
            }
        }
        return p;
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
        readCounters(p, in);
        return p;
    }

    /** Everything after the batch, the same in versions 1 to 3. */
    private static void readCounters(KeyProgress p, DataInputView in) throws IOException {
        p.batchDeadline = in.readLong();
        p.events = in.readLong();
        p.labeled = in.readLong();
        p.awaitingDropped = in.readLong();
        p.awaitingCount = in.readInt();
        p.lastSeen = in.readLong();
        long count = in.readLong();
        double loss = in.readDouble();
        double hits = in.readDouble();
        double referenceHits = in.readDouble();
        in.readLong(); // the reference's own count; before it covered every example, one fewer
        p.window = new PrequentialWindow(count, loss, hits, referenceHits, in.readDouble());
        p.drifts = in.readLong();
        p.detector = readDetector(in);
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
