package io.kanstream.stream;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializer of {@link Awaiting}, versioned per value like {@link KeyProgressSerializer}.
 * Reads version 1.
 */
public final class AwaitingSerializer extends TypeSerializerSingleton<Awaiting> {
    public static final AwaitingSerializer INSTANCE = new AwaitingSerializer();
    private static final int VERSION = 1;

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public Awaiting createInstance() {
        return Awaiting.label(Double.NaN, 0);
    }

    @Override
    public Awaiting copy(Awaiting from) {
        return from;
    }

    @Override
    public Awaiting copy(Awaiting from, Awaiting reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(Awaiting a, DataOutputView out) throws IOException {
        out.writeInt(VERSION);
        writeFloats(a.features(), out);
        writeFloats(a.outputs(), out);
        out.writeDouble(a.label());
        out.writeLong(a.expiresAt());
    }

    @Override
    public Awaiting deserialize(DataInputView in) throws IOException {
        int version = in.readInt();
        if (version != 1) {
            throw new IOException(
                    "Unrecognized version or corrupt state: awaiting-label format "
                            + version
                            + ", this build reads 1.."
                            + VERSION);
        }
        return new Awaiting(readFloats(in), readFloats(in), in.readDouble(), in.readLong());
    }

    private static void writeFloats(float[] values, DataOutputView out) throws IOException {
        if (values == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(values.length);
        for (float v : values) {
            out.writeFloat(v);
        }
    }

    private static float[] readFloats(DataInputView in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        float[] values = new float[length];
        for (int q = 0; q < length; q++) {
            values[q] = in.readFloat();
        }
        return values;
    }

    @Override
    public Awaiting deserialize(Awaiting reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<Awaiting> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot; the data carries its own version. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<Awaiting> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
