package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.state.rocksdb.PredefinedOptions;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.state.rocksdb.RocksDBResourceContainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;

class OnlineJobConfigTest {
    @TempDir Path temp;

    private static OnlineJobConfig.Builder defaults() {
        return OnlineJobConfig.builder(OnlineJobConfig.defaultLearner());
    }

    @Test
    void defaultsMatchTheCommandLineContract() {
        OnlineJobConfig c = defaults().build();
        assertThat(c.bootstrapServers()).isEqualTo("localhost:9092");
        assertThat(c.eventsTopic()).isEqualTo("events");
        assertThat(c.labelsTopic()).isEqualTo("labels");
        assertThat(c.scoresTopic()).isEqualTo("scores");
        assertThat(c.metricsTopic()).isEqualTo("metrics");
        assertThat(c.deadLetterTopic()).isEqualTo("dead-letters");
        assertThat(c.startFrom()).isEqualTo(StartFrom.EARLIEST);
        assertThat(c.checkpointInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.learner().model().layers()).containsExactly(4, 8, 1);
        assertThat(c.transactionTimeout())
                .isLessThan(OnlineJobConfig.BROKER_MAX_TRANSACTION_TIMEOUT);
    }

    @Test
    void rejectsSettingsThatCannotWorkWithAMessageNamingThem() {
        assertThatThrownBy(() -> defaults().transactionTimeout(Duration.ofMinutes(20)).build())
                .hasMessageContaining("transaction timeout")
                .hasMessageContaining("15 min");
        assertThatThrownBy(() -> defaults().transactionTimeout(Duration.ofSeconds(1)).build())
                .hasMessageContaining("above the checkpoint interval");
        assertThatThrownBy(() -> defaults().scoresTopic("events").build())
                .hasMessageContaining("output topic events is also an input topic");
        assertThatThrownBy(() -> defaults().labelsTopic("events").build())
                .hasMessageContaining("different topics");
        assertThatThrownBy(() -> defaults().parallelism(0).build())
                .hasMessageContaining("parallelism must be at least 1");
        assertThatThrownBy(() -> defaults().bootstrapServers(" ").build())
                .hasMessageContaining("bootstrap servers");
    }

    @Test
    void flinkSettingsRetainCheckpointsAndRestoreWhereTold() {
        OnlineJobConfig c =
                defaults().checkpointDir(temp.toString()).restoreFrom("/x/chk-3").build();
        Configuration conf = OnlineLearningJob.flinkConfiguration(c);
        assertThat(conf.get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION))
                .isEqualTo(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEqualTo(temp.toUri().toString());
        assertThat(conf.get(CheckpointingOptions.SAVEPOINT_DIRECTORY))
                .isEqualTo(temp.toUri() + "savepoints");
        assertThat(conf.get(StateRecoveryOptions.SAVEPOINT_PATH)).isEqualTo("/x/chk-3");
        assertThat(defaults().checkpointDir("s3://bucket/ck").build().localCheckpointDir())
                .isNull();
    }

    @Test
    void onRocksDbCheckpointsAreIncrementalAndModelsAreStoredUncompressed() throws Exception {
        Configuration rocks =
                OnlineLearningJob.flinkConfiguration(
                        defaults()
                                .checkpointDir(temp.toString())
                                .stateBackend(OnlineJobConfig.StateBackend.ROCKSDB)
                                .build());
        assertThat(rocks.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        // what Flink hands RocksDB for each column family (each piece of state) from these settings
        try (RocksDBResourceContainer container =
                new RocksDBResourceContainer(
                        rocks, PredefinedOptions.DEFAULT, null, null, temp.toFile(), false)) {
            ColumnFamilyOptions column = container.getColumnOptions();
            assertThat(column.compressionPerLevel()).containsOnly(CompressionType.NO_COMPRESSION);
        }
        Configuration heap =
                OnlineLearningJob.flinkConfiguration(
                        defaults().checkpointDir(temp.toString()).build());
        assertThat(heap.contains(RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL)).isFalse();
    }

    @Test
    void startFromReadsEarliestLatestEpochMillisAndInstants() {
        assertThat(StartFrom.parse("Earliest")).isEqualTo(StartFrom.EARLIEST);
        assertThat(StartFrom.parse("latest")).isEqualTo(StartFrom.LATEST);
        assertThat(StartFrom.parse("1732780800000").timestampMs()).isEqualTo(1732780800000L);
        assertThat(StartFrom.parse("2024-11-28T08:00:00Z").timestampMs()).isEqualTo(1732780800000L);
        assertThatThrownBy(() -> StartFrom.parse("yesterday"))
                .hasMessageContaining("earliest, latest, epoch milliseconds");
    }

    @Test
    void theNewestRetainedCheckpointOrSavepointIsFoundAcrossRuns() throws Exception {
        assertThat(RetainedCheckpoint.newest(temp.resolve("none"))).isEmpty();
        Path old = metadata(temp.resolve("job-a/chk-9"), Instant.parse("2026-01-01T00:00:00Z"));
        Path newer = metadata(temp.resolve("job-b/chk-2"), Instant.parse("2026-01-01T00:01:00Z"));
        Files.createDirectories(temp.resolve("job-b/chk-3")); // in progress: no _metadata yet
        Files.createDirectories(temp.resolve("job-b/shared"));
        assertThat(RetainedCheckpoint.newest(temp).orElseThrow().directory()).isEqualTo(newer);
        assertThat(RetainedCheckpoint.newest(temp).orElseThrow().checkpointId()).isEqualTo(2);

        Path savepoint =
                metadata(
                        temp.resolve("savepoints/savepoint-abc-123"),
                        Instant.parse("2026-01-01T00:02:00Z"));
        RetainedCheckpoint found = RetainedCheckpoint.newest(temp).orElseThrow();
        assertThat(found.directory()).isEqualTo(savepoint);
        assertThat(found.isSavepoint()).isTrue();
        assertThat(old).isNotEqualTo(found.directory());
    }

    private static Path metadata(Path dir, Instant time) throws Exception {
        Files.createDirectories(dir);
        Path m = Files.write(dir.resolve("_metadata"), new byte[] {1});
        Files.setLastModifiedTime(m, FileTime.from(time));
        return dir;
    }
}
