package io.kanstream.jobs.online;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A savepoint of the layout main writes since learner format 7 (the committed {@code
 * savepoints/format-7}, see {@link SavepointFixture}): each key's learner in {@code kan-learner} as
 * learner format 7, its progress in {@code kan-progress} as progress format 3 with its losses
 * beside the shared model, and each subtask's shared model in the operator's union state {@code
 * kan-population}. Every key goes on from the model, counters, pending batch and awaiting events it
 * had; a later layout must keep this test passing through its migration.
 */
@ExtendWith(LocalKafka.class)
class SavepointFormat7Test {
    @TempDir Path temp;

    @Test
    void theJobRestoredFromATypedStateSavepointContinuesEveryKeysLearning(Broker broker)
            throws Exception {
        SavepointFixture.restoresAndContinuesEveryKeysLearning(broker, temp, "format-7");
    }
}
