package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.Task;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class LearnerSerializerTest {
    private static final float[] PROBES = {0.1f, -0.4f, 0.9f, 0.2f, -0.7f, -0.1f, 0.5f, 0.5f};

    /** A learner that has scored, stepped and refit: every part of its state is non-trivial. */
    static KanLearner trained(long seed) {
        KanLearner learner =
                KanLearner.create(
                        KanConfig.builder(List.of(2, 4, 1))
                                .task(Task.REGRESSION)
                                .learningRate(0.05)
                                .device("cpu")
                                .seed(seed)
                                .build());
        SplittableRandom random = new SplittableRandom(seed);
        for (int b = 0; b < 6; b++) {
            float[] rows = new float[16];
            double[] labels = new double[8];
            for (int s = 0; s < 8; s++) {
                rows[2 * s] = (float) random.nextDouble(-1, 1);
                rows[2 * s + 1] = (float) random.nextDouble(-1, 1);
                labels[s] = rows[2 * s] * rows[2 * s + 1];
            }
            learner.score(rows, 8);
            learner.learn(rows, labels);
        }
        learner.refitFromStatistics();
        return learner;
    }

    static byte[] serialize(TypeSerializer<KanLearner> serializer, KanLearner learner)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        serializer.serialize(learner, out);
        return out.getCopyOfBuffer();
    }

    static KanLearner deserialize(TypeSerializer<KanLearner> serializer, byte[] bytes)
            throws IOException {
        return serializer.deserialize(new DataInputDeserializer(bytes));
    }

    @Test
    void aValueIsTheCodecsEncodingBehindItsLengthAndRestoresBitIdentically() throws Exception {
        KanLearner learner = trained(1);
        LearnerSerializer serializer = new LearnerSerializer("cpu");
        byte[] bytes = serialize(serializer, learner);
        byte[] codec = LearnerStateCodec.encode(learner);
        assertThat(new DataInputDeserializer(bytes).readInt()).isEqualTo(codec.length);
        assertThat(Arrays.copyOfRange(bytes, 4, bytes.length)).isEqualTo(codec);

        KanLearner restored = deserialize(serializer, bytes);
        assertThat(restored.outputs(PROBES, 4)).isEqualTo(learner.outputs(PROBES, 4));
        assertThat(restored.steps()).isEqualTo(learner.steps());
        assertThat(restored.gridEpoch()).isEqualTo(learner.gridEpoch());
        assertThat(LearnerStateCodec.encode(restored)).isEqualTo(codec);

        // copy(DataInputView, DataOutputView) moves the value unchanged
        DataOutputSerializer moved = new DataOutputSerializer(64);
        serializer.copy(new DataInputDeserializer(bytes), moved);
        assertThat(moved.getCopyOfBuffer()).isEqualTo(bytes);
    }

    @Test
    void aCopyIsIndependentOfItsOriginalInBothDirections() {
        KanLearner original = trained(2);
        byte[] before = LearnerStateCodec.encode(original);
        LearnerSerializer serializer = new LearnerSerializer("cpu");
        assertThat(serializer.isImmutableType()).isFalse();

        KanLearner copy = serializer.copy(original);
        assertThat(copy).isNotSameAs(original);
        assertThat(copy.outputs(PROBES, 4)).isEqualTo(original.outputs(PROBES, 4));
        assertThat(LearnerStateCodec.encode(copy)).isEqualTo(before);

        // training the copy leaves the original as it was (what a snapshot reads) ...
        copy.score(PROBES, 4);
        copy.learn(PROBES, new double[] {0.3, -0.2, 0.8, 0.1});
        copy.refitFromStatistics();
        assertThat(LearnerStateCodec.encode(original)).isEqualTo(before);
        assertThat(copy.outputs(PROBES, 4)).isNotEqualTo(original.outputs(PROBES, 4));

        // ... and the other way round
        byte[] copied = LearnerStateCodec.encode(copy);
        original.learn(PROBES, new double[] {1, 1, 1, 1});
        assertThat(LearnerStateCodec.encode(copy)).isEqualTo(copied);
        assertThat(serializer.copy(copy, original)).isNotSameAs(copy).isNotSameAs(original);
    }

    @Test
    void theDeviceIsNeitherInTheBytesNorInTheSnapshotSoAGpuWrittenStateRestoresOnTheCpu()
            throws Exception {
        KanLearner learner = trained(3);
        // a job configured for a GPU (this machine has none: serializing never resolves the device)
        LearnerSerializer onGpu = new LearnerSerializer("gpu:1");
        LearnerSerializer onCpu = new LearnerSerializer("cpu");
        byte[] written = serialize(onGpu, learner);
        assertThat(written).isEqualTo(serialize(onCpu, learner));
        assertThat(snapshotBytes(onGpu.snapshotConfiguration()))
                .isEqualTo(snapshotBytes(onCpu.snapshotConfiguration()));

        // a CPU-only job restoring it: its snapshot resolves as is, and decodes onto the CPU
        TypeSerializerSnapshot<KanLearner> fromGpu = roundTrip(onGpu.snapshotConfiguration());
        assertThat(
                        onCpu.snapshotConfiguration()
                                .resolveSchemaCompatibility(fromGpu)
                                .isCompatibleAsIs())
                .isTrue();
        for (TypeSerializer<KanLearner> reader : List.of(onCpu, fromGpu.restoreSerializer())) {
            KanLearner restored = deserialize(reader, written);
            assertThat(restored.device()).isEqualTo(Device.cpu());
            assertThat(restored.config().device()).isEqualTo("cpu");
            assertThat(restored.outputs(PROBES, 4)).isEqualTo(learner.outputs(PROBES, 4));
        }
        // the same bytes decoded for a GPU job name its device: the setting decides, not the state
        assertThatThrownBy(() -> deserialize(onGpu, written))
                .hasMessageContaining("gpu:1")
                .hasMessageContaining("GPU(s)");
    }

    @Test
    void theSnapshotCarriesItsVersionAndTheLearnerFormatAndResolvesCompatibility()
            throws Exception {
        LearnerSerializer serializer = new LearnerSerializer("cpu");
        TypeSerializerSnapshot<KanLearner> current = serializer.snapshotConfiguration();
        assertThat(current.getCurrentVersion()).isEqualTo(1);
        var restored = (LearnerSerializer.Snapshot) roundTrip(current);
        assertThat(restored.learnerFormat()).isEqualTo(LearnerStateCodec.CURRENT_VERSION);

        assertThat(current.resolveSchemaCompatibility(restored).isCompatibleAsIs()).isTrue();
        // values in the older learner format: read by the codec, rewritten on restore
        var older = new LearnerSerializer.Snapshot(LearnerStateCodec.CURRENT_VERSION - 1);
        assertThat(
                        current.resolveSchemaCompatibility(roundTrip(older))
                                .isCompatibleAfterMigration())
                .isTrue();
        // a newer build's values, or another serializer's, cannot be read
        var newer = new LearnerSerializer.Snapshot(LearnerStateCodec.CURRENT_VERSION + 1);
        assertThat(current.resolveSchemaCompatibility(newer).isIncompatible()).isTrue();
        assertThatThrownBy(newer::restoreSerializer).hasMessageContaining("newer kanstream");
        @SuppressWarnings({"unchecked", "rawtypes"})
        TypeSerializerSnapshot<KanLearner> other =
                (TypeSerializerSnapshot) StringSerializer.INSTANCE.snapshotConfiguration();
        assertThat(current.resolveSchemaCompatibility(other).isIncompatible()).isTrue();

        var unknown = new LearnerSerializer.Snapshot();
        assertThatThrownBy(
                        () ->
                                unknown.readSnapshot(
                                        2,
                                        new DataInputDeserializer(new byte[4]),
                                        getClass().getClassLoader()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("Unrecognized version")
                .hasMessageContaining("snapshot version 2");
    }

    @Test
    void corruptValuesFailWithWhatWasWrong() throws Exception {
        LearnerSerializer serializer = new LearnerSerializer("cpu");
        byte[] bytes = serialize(serializer, trained(4));
        bytes[4] = 'X'; // the magic
        assertThatThrownBy(() -> deserialize(serializer, bytes))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("not a kanstream model");
        DataOutputSerializer tooShort = new DataOutputSerializer(8);
        tooShort.writeInt(3);
        assertThatThrownBy(() -> deserialize(serializer, tooShort.getCopyOfBuffer()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("a model of 3 bytes");
    }

    @Test
    void duplicatesAreEqualAndEqualityFollowsTheDevice() {
        LearnerSerializer serializer = new LearnerSerializer("auto");
        assertThat(serializer.duplicate()).isEqualTo(serializer);
        assertThat(serializer).isEqualTo(new LearnerSerializer("auto"));
        assertThat(serializer).isNotEqualTo(new LearnerSerializer("cpu"));
        assertThat(serializer.hashCode()).isEqualTo(new LearnerSerializer("auto").hashCode());
    }

    private static byte[] snapshotBytes(TypeSerializerSnapshot<KanLearner> snapshot)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        return out.getCopyOfBuffer();
    }

    private static TypeSerializerSnapshot<KanLearner> roundTrip(
            TypeSerializerSnapshot<KanLearner> snapshot) throws IOException {
        return TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(snapshotBytes(snapshot)),
                LearnerSerializerTest.class.getClassLoader());
    }
}
