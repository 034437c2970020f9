package io.kanstream.jobs.models;

import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.jobs.online.RetainedCheckpoint;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.stream.KeyProgress;
import io.kanstream.stream.OnlineKan;
import io.kanstream.stream.OnlineKanOperator;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.flink.api.common.accumulators.Accumulator;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * The per-key models of a savepoint or retained checkpoint of the job, read with Flink's State
 * Processor API from the learner operator ({@link OnlineKan#UID}) through the operator's own state
 * descriptors. Runs a small local Flink job per read.
 */
public final class SavepointModels {
    private SavepointModels() {}

    /**
     * Where the state is: a savepoint or checkpoint directory (it holds {@code _metadata}), or a
     * checkpoint root, of which the newest retained checkpoint is taken.
     */
    public static Path locate(Path given) {
        if (Files.isRegularFile(given.resolve("_metadata"))) {
            return given;
        }
        if (!Files.isDirectory(given)) {
            throw new IllegalArgumentException(
                    "no such savepoint or checkpoint directory: " + given);
        }
        Optional<RetainedCheckpoint> newest = RetainedCheckpoint.newest(given);
        return newest.map(RetainedCheckpoint::directory)
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        given
                                                + " is neither a savepoint nor a checkpoint"
                                                + " directory (no _metadata in it) nor a"
                                                + " checkpoint root with a retained chk-N"));
    }

    /** Every key with its counters, ordered by key; models are not carried. */
    public static List<SavedKey> list(Path savepoint, OnlineJobConfig.StateBackend backend)
            throws Exception {
        List<SavedKey> keys = read(savepoint, backend, new ReadKeys(null));
        keys.sort(Comparator.comparing(SavedKey::key));
        return keys;
    }

    /** One key with its model and progress. */
    public static SavedKey key(Path savepoint, String key, OnlineJobConfig.StateBackend backend)
            throws Exception {
        List<SavedKey> found = read(savepoint, backend, new ReadKeys(key));
        if (found.isEmpty()) {
            throw new IllegalArgumentException(
                    "no key '"
                            + key
                            + "' in "
                            + savepoint
                            + " (`kanstream models list` shows its keys)");
        }
        SavedKey saved = found.get(0);
        if (!saved.hasModel()) {
            throw new IllegalArgumentException(
                    "key '"
                            + key
                            + "' in "
                            + savepoint
                            + " has progress but no model: it was evicted or its model was"
                            + " never written");
        }
        return saved;
    }

    /**
     * The model the keys of {@code key}'s subtask shared when the state was taken (the key's score
     * mixed it with the key's own by {@link SavedKey#sharedLosses}), decoded to run on the CPU; the
     * caller closes it. Empty when the job shared none (run with {@code --no-population} or
     * bundles, or state a bootstrap wrote).
     */
    public static Optional<KanLearner> sharedModel(
            Path savepoint, SavedKey key, OnlineJobConfig.StateBackend backend) throws Exception {
        List<byte[]> entries =
                read(
                        savepoint,
                        backend,
                        "the shared models",
                        source ->
                                source.readUnionState(
                                        OperatorIdentifier.forUid(OnlineKan.UID),
                                        OnlineKanOperator.POPULATION_STATE,
                                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO,
                                        BytePrimitiveArraySerializer.INSTANCE));
        byte[] model = OnlineKanOperator.sharedModelOf(entries, key.maxParallelism(), key.key());
        return Optional.ofNullable(model).map(m -> LearnerStateCodec.decode(m, "cpu"));
    }

    private static List<SavedKey> read(
            Path savepoint, OnlineJobConfig.StateBackend backend, ReadKeys reader)
            throws Exception {
        return read(
                savepoint,
                backend,
                "the learner state",
                source ->
                        source.readKeyedState(
                                OperatorIdentifier.forUid(OnlineKan.UID),
                                reader,
                                Types.STRING,
                                TypeInformation.of(SavedKey.class)));
    }

    /** What the reader makes of the learner operator's state in the savepoint, gathered here. */
    private interface StateRead<T> {
        DataStream<T> from(SavepointReader source) throws Exception;
    }

    private static <T extends Serializable> List<T> read(
            Path savepoint, OnlineJobConfig.StateBackend backend, String what, StateRead<T> read)
            throws Exception {
        requireOpenJavaLang();
        Path dir = locate(savepoint);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        SavepointReader source;
        try {
            source = SavepointReader.read(env, dir.toUri().toString(), stateBackend(backend));
        } catch (Exception e) {
            throw new IllegalArgumentException(
                    "cannot read " + dir + " as a Flink savepoint or checkpoint: " + e.getMessage(),
                    e);
        }
        List<T> out;
        try {
            read.from(source).process(new Gather<T>()).sinkTo(new DiscardingSink<>());
            out =
                    env.execute("kanstream models: read " + dir.getFileName())
                            .getAccumulatorResult(Gather.NAME);
        } catch (Exception e) {
            throw new IllegalArgumentException(
                    "cannot read "
                            + what
                            + " ("
                            + OnlineKan.UID
                            + ") of "
                            + dir
                            + " with the "
                            + backend.flinkName()
                            + " state backend"
                            + (backend == OnlineJobConfig.StateBackend.HASHMAP
                                    ? " (a checkpoint of a job run with --state-backend rocksdb"
                                            + " needs --state-backend rocksdb)"
                                    : "")
                            + ": "
                            + rootMessage(e),
                    e);
        }
        return out == null ? new ArrayList<>() : new ArrayList<>(out);
    }

    /**
     * Brings what the readers found back to this process in an accumulator, which the job's result
     * carries whole (a collect sink can lose the tail of a short job's output).
     */
    static final class Gather<T extends Serializable> extends ProcessFunction<T, Void> {
        private static final long serialVersionUID = 1L;
        static final String NAME = "kanstream-state";
        private transient Gathered<T> found;

        @Override
        public void open(OpenContext context) {
            found = new Gathered<>();
            getRuntimeContext().addAccumulator(NAME, found);
        }

        @Override
        public void processElement(T value, Context context, Collector<Void> out) {
            if (value != null) { // the reader source passes null for a key its function skipped
                found.add(value);
            }
        }
    }

    /**
     * A list accumulator that may be added to while Flink snapshots it for the job's status (the
     * plain {@code ListAccumulator} fails those snapshots with a concurrent modification).
     */
    static final class Gathered<T extends Serializable> implements Accumulator<T, ArrayList<T>> {
        private static final long serialVersionUID = 1L;
        private final ArrayList<T> values = new ArrayList<>();

        @Override
        public synchronized void add(T value) {
            values.add(value);
        }

        @Override
        public synchronized ArrayList<T> getLocalValue() {
            return new ArrayList<>(values);
        }

        @Override
        public synchronized void resetLocal() {
            values.clear();
        }

        @Override
        public synchronized void merge(Accumulator<T, ArrayList<T>> other) {
            values.addAll(other.getLocalValue());
        }

        private synchronized void writeObject(java.io.ObjectOutputStream out)
                throws java.io.IOException {
            out.defaultWriteObject();
        }

        @Override
        public Gathered<T> clone() {
            Gathered<T> copy = new Gathered<>();
            copy.values.addAll(getLocalValue());
            return copy;
        }
    }

    /**
     * Flink's Kryo defines accessor classes through reflection on {@code java.lang}; where that is
     * closed it fails on the operator states the State Processor API passes between its tasks, and
     * a written savepoint silently comes out empty. Refuse instead.
     */
    static void requireOpenJavaLang() {
        if (!Object.class.getModule().isOpen("java.lang", SavepointModels.class.getModule())) {
            throw new IllegalStateException(
                    "reading or writing savepoints needs java.lang open to Flink's serializers:"
                            + " start the JVM with --add-opens java.base/java.lang=ALL-UNNAMED"
                            + " (scripts/kanstream does)");
        }
    }

    private static StateBackend stateBackend(OnlineJobConfig.StateBackend backend) {
        return switch (backend) {
            case HASHMAP -> new HashMapStateBackend();
            case ROCKSDB -> new EmbeddedRocksDBStateBackend();
        };
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    /** Reads the learner operator's keys: all as summaries, or one by name with its state. */
    static final class ReadKeys extends KeyedStateReaderFunction<String, SavedKey> {
        private static final long serialVersionUID = 1L;

        /** The one key to read in full; null lists every key. */
        private final String only;

        private transient ModelState model;
        private transient ValueState<KeyProgress> progress;
        private transient ValueState<double[]> legacyLosses;

        ReadKeys(String only) {
            this.only = only;
        }

        @Override
        public void open(OpenContext context) {
            model = ModelState.open(getRuntimeContext());
            progress = getRuntimeContext().getState(OnlineKanOperator.progressStateDescriptor());
            legacyLosses = getRuntimeContext().getState(OnlineKanOperator.legacyLossesDescriptor());
        }

        @Override
        public void readKey(String key, Context context, Collector<SavedKey> out) throws Exception {
            if (only != null && !only.equals(key)) {
                return;
            }
            KeyProgress p = progress.value();
            String task = null;
            String layers = null;
            long examples = 0;
            long steps = 0;
            int gridEpoch = 0;
            byte[] bytes = null;
            try (KanLearner learner = model.read()) {
                if (learner != null) {
                    bytes = only == null ? null : LearnerStateCodec.encode(learner);
                    task = learner.config().task().name().toLowerCase(Locale.ROOT);
                    layers =
                            String.join(
                                    ",",
                                    learner.config().layers().stream()
                                            .map(String::valueOf)
                                            .toList());
                    examples = learner.examples();
                    steps = learner.steps();
                    gridEpoch = learner.gridEpoch();
                }
            }
            out.collect(
                    new SavedKey(
                            key,
                            task,
                            layers,
                            examples,
                            steps,
                            gridEpoch,
                            p == null ? -1 : p.events(),
                            p == null ? -1 : p.labeled(),
                            p == null ? -1 : p.lastSeen(),
                            bytes,
                            only == null || p == null ? null : SavedKey.progressBytes(p),
                            p == null ? null : sharedLosses(p),
                            getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks()));
        }

        /** The key's losses beside the shared model, in its progress or, older, their own state. */
        private double[] sharedLosses(KeyProgress p) throws Exception {
            double[] losses = p.sharedLosses();
            return losses != null ? losses : legacyLosses.value();
        }
    }
}
