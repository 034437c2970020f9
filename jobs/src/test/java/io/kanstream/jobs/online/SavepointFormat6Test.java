package io.kanstream.jobs.online;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A savepoint of models as typed keyed state (the committed {@code savepoints/format-6}, see {@link
 * SavepointFixture}): each key's learner in {@code kan-learner} as learner format 6, with its
 * parameter average and the refits it declined in a row, and its progress in {@code kan-progress},
 * the layout main wrote until learner format 7. Every key goes on from the model, counters, pending
 * batch and awaiting events it had; a later layout must keep this test passing through its
 * migration.
 */
@ExtendWith(LocalKafka.class)
class SavepointFormat6Test {
    @TempDir Path temp;

    @Test
    void theJobRestoredFromATypedStateSavepointContinuesEveryKeysLearning(Broker broker)
            throws Exception {
        SavepointFixture.restoresAndContinuesEveryKeysLearning(broker, temp, "format-6");
    }
}
