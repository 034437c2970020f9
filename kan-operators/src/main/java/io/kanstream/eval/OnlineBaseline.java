package io.kanstream.eval;

import java.io.DataOutput;
import java.io.IOException;

/**
 * A learner the KAN is compared with on the same stream. Used prequentially: {@link #predict}
 * first, then {@link #learn} with the true label.
 *
 * <p>Implementations are deterministic: the same examples in the same order give the same
 * predictions, bit for bit, also after {@link #write} and the class's static {@code read}.
 */
public interface OnlineBaseline {

    /** What is predicted. */
    Target target();

    /**
     * @param x (features) one example; baselines that ignore features accept any length
     */
    Prediction predict(float[] x);

    /**
     * @param x (features) the example that was predicted
     * @param label the true value, or the class index
     * @throws IllegalArgumentException if the label does not fit {@link #target()}
     */
    void learn(float[] x, double label);

    /** Writes the whole state, starting with the format version. */
    void write(DataOutput out) throws IOException;
}
