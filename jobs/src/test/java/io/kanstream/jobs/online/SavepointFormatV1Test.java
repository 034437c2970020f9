package io.kanstream.jobs.online;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A savepoint of the job written by state format version 1 (the committed {@code
 * savepoints/format-v1}, see {@link SavepointFixture}) still restores: every key goes on from the
 * counters, pending batch and awaiting events it had, rather than starting over. A later state
 * format must keep this passing through its migration, not by writing a new savepoint.
 */
@ExtendWith(LocalKafka.class)
class SavepointFormatV1Test {
    @TempDir Path temp;

    @Test
    void theJobRestoredFromAVersion1SavepointContinuesEveryKeysLearning(Broker broker)
            throws Exception {
        SavepointFixture.restoresAndContinuesEveryKeysLearning(broker, temp, "format-v1");
    }
}
