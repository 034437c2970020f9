package io.kanstream.jobs.models;

import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.stream.OnlineKanOperator;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;

/**
 * How a key's model sits in the job operator's keyed state, for the tools that read and write it
 * outside the job. The state's name and serializer come from {@link OnlineKanOperator}; this class
 * only turns what is stored into a learner and back.
 */
final class ModelState {
    private ModelState() {}

    static ValueStateDescriptor<byte[]> descriptor() {
        return OnlineKanOperator.modelStateDescriptor();
    }

    /** The stored model of the current key, decoded to run on the CPU; null when it has none. */
    static KanLearner read(ValueState<byte[]> state) throws Exception {
        byte[] stored = state.value();
        return stored == null ? null : LearnerStateCodec.decode(stored, "cpu");
    }

    /** The stored form of the current key's model, for moving it out of a Flink task. */
    static byte[] bytes(ValueState<byte[]> state) throws Exception {
        return state.value();
    }

    static void write(ValueState<byte[]> state, KanLearner learner) throws Exception {
        state.update(LearnerStateCodec.encode(learner));
    }
}
