package io.kanstream.jobs.cli;

import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A model file: the learner's whole state in {@link LearnerStateCodec}'s format. */
final class ModelFile {
    private ModelFile() {}

    static KanLearner read(Path file, String device) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such model file: " + file);
        }
        try {
            return LearnerStateCodec.decode(bytes, device);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Writes atomically, so a crash never leaves half a model behind. */
    static void write(KanLearner learner, Path file) throws IOException {
        write(LearnerStateCodec.encode(learner), file);
    }

    /** Writes an encoded model atomically. */
    static void write(byte[] model, Path file) throws IOException {
        Path absolute = file.toAbsolutePath();
        if (absolute.getParent() != null) {
            Files.createDirectories(absolute.getParent());
        }
        Path temp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        Files.write(temp, model);
        Files.move(
                temp,
                absolute,
                StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }
}
