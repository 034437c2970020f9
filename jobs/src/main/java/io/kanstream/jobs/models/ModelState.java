package io.kanstream.jobs.models;

import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.stream.OnlineKanOperator;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ValueState;

/**
 * How a key's model sits in the job operator's keyed state, for the tools that read and write it
 * outside the job: a live learner (the operator's typed state), or in savepoints written before
 * that state existed, its {@link LearnerStateCodec} bytes. Names and serializers come from {@link
 * OnlineKanOperator}; tools decode onto the CPU.
 */
final class ModelState {
    private final ValueState<KanLearner> typed;
    private final ValueState<byte[]> legacy;

    private ModelState(ValueState<KanLearner> typed, ValueState<byte[]> legacy) {
        this.typed = typed;
        this.legacy = legacy;
    }

    static ModelState open(RuntimeContext context) {
        return new ModelState(
                context.getState(OnlineKanOperator.modelStateDescriptor("cpu")),
                context.getState(OnlineKanOperator.legacyModelStateDescriptor()));
    }

    /** The current key's model; null when it has none. */
    KanLearner read() throws Exception {
        KanLearner learner = typed.value();
        if (learner != null) {
            return learner;
        }
        byte[] stored = legacy.value();
        return stored == null ? null : LearnerStateCodec.decode(stored, "cpu");
    }

    /** Stores the current key's model in the typed state; the state holds it from now on. */
    void write(KanLearner learner) throws Exception {
        typed.update(learner);
    }
}
