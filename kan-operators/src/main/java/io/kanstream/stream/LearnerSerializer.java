package io.kanstream.stream;

import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import java.io.IOException;
import java.util.Objects;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializer of a whole {@link KanLearner}, so that models are native keyed state: the heap
 * backend holds live learners (no decoding per access), RocksDB serializes per access.
 *
 * <p>A value is its {@link LearnerStateCodec} encoding behind its length: {@code int n}, then
 * {@code n} bytes starting with {@code KANS} and the learner format. The learner format is the
 * codec's (version 4 today; the codec reads 1 to 4), the same bytes as model files, so this
 * serializer adds no format of its own beyond the length.
 *
 * <p>The device is not in the bytes or in the {@link Snapshot}: learners are decoded onto the
 * device this serializer was built with, whatever device wrote them, so a state written on a GPU
 * restores on a CPU. A serializer restored from a snapshot, before the job registers its own, has
 * none and decodes onto the CPU.
 *
 * <p>Learners are mutable: {@link #copy(KanLearner)} is a deep copy (Flink's heap backend calls it
 * for copy-on-write while an asynchronous snapshot reads the original).
 */
public final class LearnerSerializer extends TypeSerializer<KanLearner> {
    private static final long serialVersionUID = 1L;

    /** Decodes onto this device ({@code auto|cpu|gpu[:N]}); not part of what is persisted. */
    private final String device;

    /**
     * @param device where decoded learners run: {@code auto}, {@code cpu}, {@code gpu} or {@code
     *     gpu:N}, resolved only when a learner is decoded
     */
    public LearnerSerializer(String device) {
        this.device = Objects.requireNonNull(device, "device");
    }

    public String device() {
        return device;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<KanLearner> duplicate() {
        // stateless apart from the immutable device setting: one instance is safe on every thread
        return this;
    }

    /** Flink's reuse paths need an instance; a learner has no meaningful empty one. */
    @Override
    public KanLearner createInstance() {
        return null;
    }

    /**
     * An independent learner with the same state, on the same device as {@code from}: a round trip
     * through the codec, which is bit-exact, so the copy scores and trains exactly as the original
     * would.
     *
     * <p>Reads {@code from}'s host copy (current: the operator calls {@link KanLearner#syncHost}
     * before it writes a learner into state) and releases its device mirror, if it built one: on
     * copy-on-write the original is left to the snapshot, which only encodes it, and nothing else
     * would free its device memory. Were {@code from} used again it would rebuild the mirror from
     * the host copy, with the same values.
     */
    @Override
    public KanLearner copy(KanLearner from) {
        KanLearner copy =
                LearnerStateCodec.decode(LearnerStateCodec.encode(from), from.config().device());
        from.close();
        return copy;
    }

    @Override
    public KanLearner copy(KanLearner from, KanLearner reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(KanLearner learner, DataOutputView out) throws IOException {
        byte[] bytes = LearnerStateCodec.encode(learner);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    @Override
    public KanLearner deserialize(DataInputView in) throws IOException {
        byte[] bytes = readBytes(in);
        try {
            return LearnerStateCodec.decode(bytes, device);
        } catch (IllegalArgumentException e) {
            throw new IOException(
                    "model state of " + bytes.length + " bytes: " + e.getMessage(), e);
        }
    }

    @Override
    public KanLearner deserialize(KanLearner reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        byte[] bytes = readBytes(source);
        target.writeInt(bytes.length);
        target.write(bytes);
    }

    private static byte[] readBytes(DataInputView in) throws IOException {
        int length = in.readInt();
        if (length < 8) {
            throw new IOException(
                    "Unrecognized version or corrupt state: a model of "
                            + length
                            + " bytes, a model starts with 8 bytes of magic and format");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return bytes;
    }

    /** Equal when they decode onto the same device: the layout is the same for every instance. */
    @Override
    public boolean equals(Object o) {
        return o instanceof LearnerSerializer other && device.equals(other.device);
    }

    @Override
    public int hashCode() {
        return device.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<KanLearner> snapshotConfiguration() {
        return new Snapshot(LearnerStateCodec.CURRENT_VERSION);
    }

    /**
     * What a checkpoint records about the serializer that wrote it: the snapshot's own version (the
     * layout of this record and of a value's framing) and the learner format the values were
     * written in. Never the device.
     *
     * <p>Snapshot version 1: one int, the learner format of the values.
     *
     * <p>Compatibility of the serializer this build registers with one in a checkpoint: the same
     * learner format is compatible as is; an older one that the codec still reads is compatible
     * after migration (Flink rewrites every value in the current format on restore, so a format the
     * codec may drop later does not linger in RocksDB, and version-1 migration runs once per key,
     * not on every access); a newer one, or another serializer, is incompatible.
     */
    public static final class Snapshot implements TypeSerializerSnapshot<KanLearner> {
        private static final int VERSION = 1;

        /** Where a serializer restored from a checkpoint decodes before the job names a device. */
        static final String RESTORE_DEVICE = "cpu";

        private int learnerFormat;

        /** For Flink, which instantiates snapshots reflectively and then reads them. */
        public Snapshot() {}

        Snapshot(int learnerFormat) {
            this.learnerFormat = learnerFormat;
        }

        /** The learner format ({@link LearnerStateCodec}) the values were written in. */
        public int learnerFormat() {
            return learnerFormat;
        }

        @Override
        public int getCurrentVersion() {
            return VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            out.writeInt(learnerFormat);
        }

        @Override
        public void readSnapshot(int version, DataInputView in, ClassLoader classLoader)
                throws IOException {
            switch (version) {
                case 1 -> learnerFormat = in.readInt();
                default ->
                        throw new IOException(
                                "Unrecognized version or corrupt state: learner serializer"
                                        + " snapshot version "
                                        + version
                                        + ", this build reads 1.."
                                        + VERSION);
            }
            if (learnerFormat < 1) {
                throw new IOException(
                        "corrupt learner serializer snapshot: learner format " + learnerFormat);
            }
        }

        @Override
        public TypeSerializer<KanLearner> restoreSerializer() {
            if (learnerFormat > LearnerStateCodec.CURRENT_VERSION) {
                throw new IllegalStateException(
                        "the model state was written in learner format "
                                + learnerFormat
                                + " by a newer kanstream; this build reads 1.."
                                + LearnerStateCodec.CURRENT_VERSION);
            }
            return new LearnerSerializer(RESTORE_DEVICE);
        }

        @Override
        public TypeSerializerSchemaCompatibility<KanLearner> resolveSchemaCompatibility(
                TypeSerializerSnapshot<KanLearner> old) {
            if (!(old instanceof Snapshot previous)
                    || previous.learnerFormat > learnerFormat
                    || previous.learnerFormat < 1) {
                return TypeSerializerSchemaCompatibility.incompatible();
            }
            return previous.learnerFormat == learnerFormat
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.compatibleAfterMigration();
        }
    }
}
