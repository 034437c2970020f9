package io.kanstream.jobs.models;

import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.stream.KeyProgress;
import io.kanstream.stream.KeyProgressSerializer;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * One key of the job's state, as read from a savepoint or checkpoint. The summary fields are always
 * set; the model and progress are carried as their stored bytes only when a key was asked for by
 * name (a listing of many keys leaves them null).
 *
 * @param task the model's task, lower case; null when the key has no model
 * @param layers the model's widths, e.g. {@code 4,8,1}; null when the key has no model
 * @param examples labeled examples the model learned from
 * @param steps applied gradient steps
 * @param gridEpoch grid refits
 * @param events events the job scored for the key; -1 when it has no progress state (a key a
 *     bootstrap wrote that the job has not seen since)
 * @param labeled labeled examples the job evaluated; -1 as for events
 * @param lastSeen processing time (epoch ms) of the key's last event or label; -1 as for events
 * @param model {@link LearnerStateCodec} bytes, or null
 * @param progress {@link KeyProgressSerializer} bytes, or null
 * @param sharedLosses the key's decayed losses of its own model and of the model its subtask's keys
 *     shared, which weigh the two in its score; null when the job scored it with its own alone
 * @param maxParallelism the learner operator's maximum parallelism in the state read, which with
 *     the key places it on the subtask whose shared model scored it
 */
public record SavedKey(
        String key,
        String task,
        String layers,
        long examples,
        long steps,
        int gridEpoch,
        long events,
        long labeled,
        long lastSeen,
        byte[] model,
        byte[] progress,
        double[] sharedLosses,
        int maxParallelism)
        implements java.io.Serializable {

    public boolean hasModel() {
        return task != null;
    }

    public boolean hasProgress() {
        return events >= 0;
    }

    /** Whether the job scored this key with its own model mixed with a shared one. */
    public boolean hasSharedModel() {
        return sharedLosses != null;
    }

    /** The model, decoded to run on the CPU; the caller closes it. */
    public KanLearner learner() {
        if (model == null) {
            throw new IllegalStateException("key " + key + " was read without its model");
        }
        return LearnerStateCodec.decode(model, "cpu");
    }

    /** The key's progress (counters, pending batch, prequential window); null when none. */
    public KeyProgress keyProgress() {
        if (progress == null) {
            return null;
        }
        try {
            return KeyProgressSerializer.INSTANCE.deserialize(new DataInputDeserializer(progress));
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt progress state of key " + key, e);
        }
    }

    static byte[] progressBytes(KeyProgress progress) {
        DataOutputSerializer out = new DataOutputSerializer(256);
        try {
            KeyProgressSerializer.INSTANCE.serialize(progress, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.getCopyOfBuffer();
    }
}
