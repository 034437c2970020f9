package io.kanstream.jobs.cli;

import static io.kanstream.jobs.cli.KanstreamCliTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code models} and {@code bootstrap} refuse before any Flink starts, with a message that
 * names the mistake. The round trip itself is {@code online.BootstrapAndModelsTest}.
 */
class ModelsCommandTest {
    @TempDir Path temp;

    @Test
    void aDirectoryThatIsNoSavepointIsNamedAsSuch() throws Exception {
        CliRun missing = run("models", "list", temp.resolve("nowhere").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.output()).contains("no such savepoint or checkpoint directory");

        Files.createDirectories(temp.resolve("empty"));
        CliRun empty = run("models", "show", temp.resolve("empty").toString(), "--key", "a");
        assertThat(empty.exit()).isEqualTo(2);
        assertThat(empty.output()).contains("neither a savepoint nor a checkpoint directory");
    }

    @Test
    void anUnknownExportFormatAndANonEmptyBootstrapTargetAreRefused() throws Exception {
        CliRun format =
                run(
                        "models",
                        "export",
                        temp.toString(),
                        "--key",
                        "a",
                        "--to",
                        "onnx",
                        "--out",
                        temp.resolve("a.onnx").toString());
        assertThat(format.exit()).isEqualTo(2);
        assertThat(format.output()).contains("--to onnx is not one of efficient-kan, kans");

        Files.writeString(temp.resolve("taken"), "x");
        CliRun taken =
                run(
                        "bootstrap",
                        "--history",
                        temp.resolve("history.csv").toString(),
                        "--out",
                        temp.toString());
        assertThat(taken.exit()).isEqualTo(2);
        assertThat(taken.output()).contains("exists and is not empty");
    }
}
