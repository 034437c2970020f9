package io.kanstream.eval;

import io.kanstream.kan.Task;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The conventions every state format in this package shares: a leading version byte, arrays as a
 * length then their values, and lengths checked on the way in so corrupt state fails with a message
 * instead of an out-of-memory error.
 */
final class StateFormat {
    /** No array in this package's state is longer; a larger length means corrupt input. */
    private static final int MAX_LENGTH = 1 << 26;

    private StateFormat() {}

    static IOException unknownVersion(String what, int version) {
        return new IOException(
                "Unrecognized version or corrupt state: "
                        + what
                        + " format "
                        + version
                        + " (this build reads version 1)");
    }

    private static int readLength(DataInput in, String what) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_LENGTH) {
            throw new IOException("Corrupt state: " + what + " has length " + length);
        }
        return length;
    }

    static void writeDoubles(DataOutput out, double[] values) throws IOException {
        out.writeInt(values.length);
        for (double v : values) {
            out.writeDouble(v);
        }
    }

    /** Reads an array written by {@link #writeDoubles} into {@code into}, which it must fit. */
    static void readDoublesInto(DataInput in, double[] into, String what) throws IOException {
        checkLength(readLength(in, what), into.length, what);
        for (int i = 0; i < into.length; i++) {
            into[i] = in.readDouble();
        }
    }

    static void writeLongs(DataOutput out, long[] values) throws IOException {
        out.writeInt(values.length);
        for (long v : values) {
            out.writeLong(v);
        }
    }

    /** Reads an array written by {@link #writeLongs} into {@code into}, which it must fit. */
    static void readLongsInto(DataInput in, long[] into, String what) throws IOException {
        checkLength(readLength(in, what), into.length, what);
        for (int i = 0; i < into.length; i++) {
            into[i] = in.readLong();
        }
    }

    private static void checkLength(int length, int expected, String what) throws IOException {
        if (length != expected) {
            throw new IOException(
                    "Corrupt state: " + what + " has " + length + " values, expected " + expected);
        }
    }

    /** Tasks by a fixed code, not the enum ordinal, so reordering {@link Task} breaks no state. */
    static void writeTask(DataOutput out, Task task) throws IOException {
        out.writeByte(
                switch (task) {
                    case REGRESSION -> 0;
                    case BINARY -> 1;
                    case MULTICLASS -> 2;
                });
    }

    static Task readTask(DataInput in) throws IOException {
        int code = in.readByte();
        return switch (code) {
            case 0 -> Task.REGRESSION;
            case 1 -> Task.BINARY;
            case 2 -> Task.MULTICLASS;
            default -> throw new IOException("Corrupt state: unknown task code " + code);
        };
    }
}
