package io.kanstream.jobs.online;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A savepoint written while models were {@code byte[]} state (the committed {@code
 * savepoints/format-2}, see {@link SavepointFixture}) restores into typed model state: every key
 * goes on from the model, counters, pending batch and awaiting events it had.
 */
@ExtendWith(LocalKafka.class)
class SavepointFormat2Test {
    @TempDir Path temp;

    @Test
    void theJobRestoredFromAByteArrayModelSavepointContinuesEveryKeysLearning(Broker broker)
            throws Exception {
        SavepointFixture.restoresAndContinuesEveryKeysLearning(broker, temp, "format-2");
    }
}
