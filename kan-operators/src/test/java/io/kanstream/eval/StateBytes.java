package io.kanstream.eval;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Writes state to bytes and reads it back, as Flink state would. */
final class StateBytes {
    interface Writer {
        void write(DataOutput out) throws IOException;
    }

    interface Reader<T> {
        T read(DataInput in) throws IOException;
    }

    private StateBytes() {}

    static byte[] of(Writer writer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writer.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static <T> T read(byte[] bytes, Reader<T> reader) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        T value = reader.read(in);
        if (in.available() != 0) {
            throw new AssertionError(in.available() + " bytes left unread");
        }
        return value;
    }

    static <T> T copy(Writer writer, Reader<T> reader) throws IOException {
        return read(of(writer), reader);
    }
}
