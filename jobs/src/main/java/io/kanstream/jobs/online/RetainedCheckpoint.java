package io.kanstream.jobs.online;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A completed checkpoint or savepoint found on disk, which a job started again with the same
 * checkpoint directory resumes from.
 *
 * <p>Flink writes a checkpoint as {@code <dir>/<job id>/chk-<n>/} and its {@code _metadata} file
 * last, when the checkpoint is complete; savepoints of the job go to {@code
 * <dir>/savepoints/savepoint-<...>/}. Every run of the job gets a new job id, and checkpoints are
 * retained on cancellation and failure, so the newest {@code _metadata} under the directory is
 * where the last run stopped.
 *
 * @param directory the {@code chk-<n>} or {@code savepoint-...} directory, as Flink's {@code
 *     execution.state-recovery.path} takes it
 * @param checkpointId the checkpoint number, -1 for a savepoint
 * @param taken when its metadata was written
 */
public record RetainedCheckpoint(Path directory, long checkpointId, Instant taken) {

    private static final Pattern CHECKPOINT = Pattern.compile("chk-(\\d+)");
    private static final String METADATA = "_metadata";

    public boolean isSavepoint() {
        return checkpointId < 0;
    }

    /** The newest completed checkpoint or savepoint under {@code root}, if there is one. */
    public static Optional<RetainedCheckpoint> newest(Path root) {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        // A running job's checkpoint cleaner deletes subsumed chk-<n> directories while we walk:
        // a directory that vanished under the walk means look again, not fail.
        for (int attempt = 1; ; attempt++) {
            try {
                return search(root);
            } catch (UncheckedIOException e) {
                if (!(e.getCause() instanceof NoSuchFileException) || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private static Optional<RetainedCheckpoint> search(Path root) {
        // root/<job id>/chk-<n>/_metadata and root/savepoints/savepoint-.../_metadata
        try (Stream<Path> files = Files.find(root, 3, (path, attrs) -> isMetadata(path, attrs))) {
            return files.map(RetainedCheckpoint::of)
                    .flatMap(Optional::stream)
                    .max(
                            Comparator.comparing(RetainedCheckpoint::taken)
                                    .thenComparingLong(RetainedCheckpoint::checkpointId));
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot search " + root + " for checkpoints", e);
        }
    }

    private static boolean isMetadata(
            Path path, java.nio.file.attribute.BasicFileAttributes attrs) {
        if (!attrs.isRegularFile() || !METADATA.equals(path.getFileName().toString())) {
            return false;
        }
        String dir = path.getParent().getFileName().toString();
        return CHECKPOINT.matcher(dir).matches() || dir.startsWith("savepoint-");
    }

    private static Optional<RetainedCheckpoint> of(Path metadata) {
        Path dir = metadata.getParent();
        Matcher m = CHECKPOINT.matcher(dir.getFileName().toString());
        long id = m.matches() ? Long.parseLong(m.group(1)) : -1;
        try {
            if (Files.size(metadata) == 0) {
                return Optional.empty(); // being written when the process died
            }
            return Optional.of(
                    new RetainedCheckpoint(
                            dir, id, Files.getLastModifiedTime(metadata).toInstant()));
        } catch (IOException e) {
            return Optional.empty(); // deleted by Flink's checkpoint cleaner meanwhile
        }
    }

    @Override
    public String toString() {
        return (isSavepoint() ? "savepoint " : "checkpoint " + checkpointId + " at ")
                + directory
                + " (taken "
                + taken
                + ")";
    }
}
