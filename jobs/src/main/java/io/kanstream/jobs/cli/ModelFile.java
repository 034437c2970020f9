package io.kanstream.jobs.cli;

import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import picocli.CommandLine;

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

    /**
     * A model file to warm-start from ({@code run --model}, {@code replay --model}): its bytes and
     * its configuration, once none of {@code flags} (settings the model keeps) was given beside it.
     */
    static WarmStart warmStart(Path file, CommandLine.ParseResult parsed, List<String> flags)
            throws IOException {
        for (String flag : flags) {
            if (parsed.hasMatchedOption(flag)) {
                throw new IllegalArgumentException(
                        flag
                                + " cannot be combined with --model: a warm-started model keeps"
                                + " its own architecture and settings");
            }
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such model file: " + file);
        }
        try (KanLearner learner = LearnerStateCodec.decode(bytes, "cpu")) {
            return new WarmStart(bytes, learner.config());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** A model file's bytes and the configuration they hold. */
    record WarmStart(byte[] bytes, KanConfig config) {}

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
