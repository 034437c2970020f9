package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.eval.Adwin;
import io.kanstream.kan.Task;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class KeyProgressSerializerTest {
    private static final KeyProgressSerializer SERIALIZER = KeyProgressSerializer.INSTANCE;

    /** A key's progress with a partly filled batch, counters, a metric window and ADWIN. */
    private static KeyProgress progress(double[] sharedLosses) {
        KeyProgress p = new KeyProgress(2, 4);
        p.add(new float[] {0.25f, -0.5f}, 1);
        p.add(new float[] {0.75f, 0.125f}, 0);
        p.batchDeadline = 1_234;
        p.events = 40;
        p.labeled = 30;
        p.awaitingDropped = 2;
        p.awaitingCount = 3;
        p.lastSeen = 5_678;
        p.drifts = 1;
        p.detector = new Adwin();
        for (int i = 0; i < 30; i++) {
            p.evaluate(Task.BINARY, new float[] {i % 3 - 1f}, i % 2);
            p.detector.add(i % 4 == 0 ? 1 : 0);
        }
        p.sharedLosses = sharedLosses;
        return p;
    }

    private static byte[] bytes(KeyProgress p) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        SERIALIZER.serialize(p, out);
        return out.getCopyOfBuffer();
    }

    private static KeyProgress read(byte[] bytes) throws IOException {
        return SERIALIZER.deserialize(new DataInputDeserializer(bytes));
    }

    @Test
    void aKeysLossesBesideTheSharedModelRoundTripWithItsProgress() throws IOException {
        KeyProgress p = progress(new double[] {3.5, 0.0});
        byte[] written = bytes(p);
        KeyProgress back = read(written);
        assertThat(back.sharedLosses()).containsExactly(3.5, 0.0);
        assertThat(back.pendingExamples()).isEqualTo(2);
        assertThat(back.takeRows(2)).containsExactly(0.25f, -0.5f, 0.75f, 0.125f);
        assertThat(back.events()).isEqualTo(40);
        assertThat(back.lastSeen()).isEqualTo(5_678);
        assertThat(back.window().count()).isEqualTo(p.window().count());
        assertThat(bytes(back)).isEqualTo(written);
        // a copy owns its losses: charging the key's live losses leaves the copy as it was
        KeyProgress copy = SERIALIZER.copy(p);
        p.sharedLosses[0] = 9;
        assertThat(copy.sharedLosses()).containsExactly(3.5, 0.0);
    }

    @Test
    void aKeyWithoutASharedModelHasNoLosses() throws IOException {
        KeyProgress back = read(bytes(progress(null)));
        assertThat(back.sharedLosses()).isNull();
        assertThat(back.events()).isEqualTo(40);
    }

    /**
     * Format 2 is format 3 without the losses at the end: such a value (every key's progress in a
     * savepoint written before the losses moved in) reads as a key without them.
     */
    @Test
    void formatTwoReadsAsAKeyWithoutLosses() throws IOException {
        byte[] v3 = bytes(progress(null));
        assertThat(v3[v3.length - 1]).as("no losses: a count of 0").isZero();
        byte[] v2 = Arrays.copyOf(v3, v3.length - 1);
        ByteBuffer.wrap(v2).putInt(0, 2);
        KeyProgress back = read(v2);
        assertThat(back.sharedLosses()).isNull();
        assertThat(back.pendingExamples()).isEqualTo(2);
        assertThat(back.awaitingDropped()).isEqualTo(2);
        assertThat(back.drifts()).isEqualTo(1);
    }

    @Test
    void aNewerFormatIsRefusedByName() {
        byte[] v4 = new byte[] {0, 0, 0, 4};
        assertThatThrownBy(() -> read(v4))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("key progress format 4")
                .hasMessageContaining("reads 1..3");
    }
}
