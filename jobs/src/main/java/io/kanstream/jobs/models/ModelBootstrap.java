package io.kanstream.jobs.models;

import io.kanstream.jobs.fit.MiniBatchTraining;
import io.kanstream.jobs.replay.HistoryRow;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.stream.OnlineKan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.StateBootstrapTransformation;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Trains one model per key from history and writes them as a savepoint of the job's learner
 * operator, so that {@code kanstream run --restore-from} starts every key from its trained model.
 *
 * <p>Each key learns from its labeled rows in time order through {@link MiniBatchTraining}: scored,
 * then learned from in mini-batches of the job's batch size, with grids refit by the same {@link
 * RefitPolicy} — the job's loop for labels that arrive with their events. A last partial batch is
 * learned from too, as the job does when its batch timeout fires. Rows without a label are left
 * out.
 *
 * <p>Only the model state is written, with the operator's own descriptor, under the operator's uid
 * ({@link OnlineKan#UID}). Each key's progress (counters, drift detector, metric window) starts
 * when the job first sees the key, under the job's settings.
 */
public final class ModelBootstrap {
    /**
     * Key groups of the savepoint. The job sets no max parallelism of its own, so a job restored
     * from this savepoint takes it; 128 is also what Flink gives a job of parallelism up to 85, so
     * the savepoint's key groups are those of a savepoint the job itself would take.
     */
    public static final int DEFAULT_MAX_PARALLELISM = 128;

    private ModelBootstrap() {}

    /** One key's labeled history, flattened for shipping to a Flink task. */
    public record KeyHistory(String key, int rows, float[] features, double[] labels) {}

    /**
     * @param rows the history in time order
     * @param model every key's model
     * @param batchSize labeled examples per step, as the job's {@code --batch-size}
     * @param out the savepoint directory to create
     * @param parallelism training subtasks
     * @return the labeled history of each key that got a model, in first-seen order
     */
    public static List<KeyHistory> write(
            List<HistoryRow> rows,
            KanConfig model,
            int batchSize,
            RefitPolicy policy,
            Path out,
            int parallelism,
            int maxParallelism)
            throws Exception {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (maxParallelism < parallelism || maxParallelism > 32768) {
            throw new IllegalArgumentException(
                    "max parallelism must be between the parallelism ("
                            + parallelism
                            + ") and 32768, got "
                            + maxParallelism);
        }
        SavepointModels.requireOpenJavaLang();
        List<KeyHistory> histories = byKey(rows, model.inputs());
        if (histories.isEmpty()) {
            throw new IllegalArgumentException(
                    "the history holds no labeled rows: nothing to train a model from");
        }
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        env.setParallelism(parallelism);
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        StateBootstrapTransformation<KeyHistory> models =
                OperatorTransformation.bootstrapWith(
                                env.fromData(histories, TypeInformation.of(KeyHistory.class))
                                        .name("history by key"))
                        .keyBy(KeyHistory::key, Types.STRING)
                        .transform(new TrainKey(model, batchSize, policy));
        SavepointWriter.newSavepoint(env, new HashMapStateBackend(), maxParallelism)
                .withOperator(OperatorIdentifier.forUid(OnlineKan.UID), models)
                .write(out.toAbsolutePath().toUri().toString());
        env.execute("kanstream bootstrap");
        return histories;
    }

    static List<KeyHistory> byKey(List<HistoryRow> rows, int inputs) {
        Map<String, List<HistoryRow>> grouped = new LinkedHashMap<>();
        for (HistoryRow row : rows) {
            if (row.labeled()) {
                grouped.computeIfAbsent(row.key(), k -> new ArrayList<>()).add(row);
            }
        }
        List<KeyHistory> out = new ArrayList<>(grouped.size());
        for (Map.Entry<String, List<HistoryRow>> e : grouped.entrySet()) {
            List<HistoryRow> keyRows = e.getValue();
            int n = keyRows.size();
            float[] x = new float[n * inputs]; // (n, inputs)
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                HistoryRow row = keyRows.get(i);
                if (row.features().length != inputs) {
                    throw new IllegalArgumentException(
                            "row "
                                    + (row.index() + 1)
                                    + " of key "
                                    + e.getKey()
                                    + " has "
                                    + row.features().length
                                    + " features, the model takes "
                                    + inputs);
                }
                System.arraycopy(row.features(), 0, x, i * inputs, inputs);
                y[i] = row.label();
            }
            out.add(new KeyHistory(e.getKey(), n, x, y));
        }
        return out;
    }

    /** Trains a key's model from its whole history and stores it as the operator would. */
    static final class TrainKey extends KeyedStateBootstrapFunction<String, KeyHistory> {
        private static final long serialVersionUID = 1L;

        private final KanConfig model;
        private final int batchSize;
        private final RefitPolicy policy;
        private transient ModelState state;

        TrainKey(KanConfig model, int batchSize, RefitPolicy policy) {
            this.model = model;
            this.batchSize = batchSize;
            this.policy = policy;
        }

        @Override
        public void open(OpenContext context) {
            state = ModelState.open(getRuntimeContext());
        }

        @Override
        public void processElement(KeyHistory history, Context context) throws Exception {
            // the state keeps the learner until the savepoint is written: not closed here
            KanLearner learner = KanLearner.create(model);
            MiniBatchTraining.pass(
                    learner,
                    history.features(),
                    history.labels(),
                    history.rows(),
                    batchSize,
                    policy,
                    "history of key " + history.key(),
                    (x, y, n) -> {});
            state.write(learner);
        }
    }
}
