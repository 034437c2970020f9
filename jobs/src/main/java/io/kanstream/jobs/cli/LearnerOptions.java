package io.kanstream.jobs.cli;

import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.kan.KanConfig;
import io.kanstream.stream.DriftAction;
import io.kanstream.stream.OnlineKanConfig;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.Option;

/**
 * The learner's settings that several commands take, one mixin per option so that each command
 * mixes in exactly those it means: each declared once, with its description, its parsing into the
 * domain type, and its default read from where the default lives ({@link KanConfig}, {@link
 * OnlineKanConfig}, {@link OnlineJobConfig}).
 */
final class LearnerOptions {
    private static final OnlineJobConfig JOB =
            OnlineJobConfig.builder(OnlineJobConfig.defaultLearner()).build();

    private LearnerOptions() {}

    /** Where models run ({@code run}, {@code fit}, {@code import}, {@code predict}). */
    static final class Device {
        @Option(
                names = "--device",
                description =
                        "Where the models run: auto|cpu|gpu|gpu:N (default ${DEFAULT-VALUE}). A"
                                + " setting of the process, never part of a model: a model"
                                + " trained on a GPU restores on a CPU.")
        String device = JOB.learner().model().device();
    }

    /** Layer widths of a model built from nothing ({@code run}, {@code fit}). */
    static final class Layers {
        @Option(
                names = "--layers",
                description =
                        "Widths, input first, e.g. 2,5,1 (default ${DEFAULT-VALUE}: the"
                                + " synthetic stream's).")
        String layers = text(OnlineJobConfig.DEFAULT_LAYERS);

        List<Integer> layers() {
            return KanConfig.parseLayers(layers);
        }
    }

    /**
     * Hidden layer widths of a model whose input and output widths come from the data ({@code
     * replay}, {@code bootstrap}); the default is the job's hidden layers.
     */
    static final class Hidden {
        @Option(
                names = "--hidden",
                description =
                        "Hidden layer widths, e.g. 8 or 16,8; the input and output widths come"
                                + " from the data (default ${DEFAULT-VALUE}).")
        String hidden =
                text(
                        OnlineJobConfig.DEFAULT_LAYERS.subList(
                                1, OnlineJobConfig.DEFAULT_LAYERS.size() - 1));

        List<Integer> hidden() {
            return KanConfig.parseLayers(hidden);
        }
    }

    /** The task of a model built from layer widths ({@code run}, {@code fit}). */
    static final class Task {
        @Option(
                names = "--task",
                description = "regression|binary|multiclass (default ${DEFAULT-VALUE}).")
        String task = JOB.learner().model().task().name().toLowerCase(Locale.ROOT);

        io.kanstream.kan.Task task() {
            return io.kanstream.kan.Task.parse(task);
        }
    }

    /**
     * The task where the data implies one ({@code replay} and {@code bootstrap} from the labels,
     * {@code import} from the outputs): given, it overrides.
     */
    static final class InferredTask {
        @Option(
                names = "--task",
                description =
                        "regression|binary|multiclass (default: from the data: the labels of a"
                                + " history; for imported weights, regression for one output,"
                                + " multiclass for several).")
        String task;

        /** The task given, or null to infer it. */
        io.kanstream.kan.Task task() {
            return task == null ? null : io.kanstream.kan.Task.parse(task);
        }
    }

    /** Labeled examples per gradient step ({@code run}, {@code replay}, {@code bootstrap}). */
    static final class BatchSize {
        @Option(
                names = "--batch-size",
                description = "Labeled examples per gradient step (default ${DEFAULT-VALUE}).")
        int batchSize = OnlineKanConfig.DEFAULT_BATCH_SIZE;
    }

    /** What a key's detected drift does ({@code run}, {@code replay}). */
    static final class Drift {
        @Option(
                names = "--drift-action",
                completionCandidates = DriftActions.class,
                description =
                        "What a key's detected drift does: ${COMPLETION-CANDIDATES}"
                                + " (default ${DEFAULT-VALUE}).")
        String driftAction = JOB.learner().driftAction().spelling();

        DriftAction driftAction() {
            return DriftAction.parse(driftAction);
        }
    }

    /** Every drift action as the command line spells it, for the help and shell completion. */
    static final class DriftActions implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(DriftAction.values()).map(DriftAction::spelling).iterator();
        }
    }

    /**
     * Parallel subtasks, keys spread over them ({@code run}, {@code replay}, {@code bootstrap}).
     */
    static final class Parallelism {
        @Option(
                names = "--parallelism",
                description =
                        "Parallel subtasks, the keys spread over them (default ${DEFAULT-VALUE}).")
        int parallelism = JOB.parallelism();
    }

    /**
     * A model each subtask's keys share, mixed into every key's score ({@code run}, {@code
     * replay}).
     */
    static final class Population {
        @Option(
                names = "--population",
                negatable = true,
                description =
                        "Each subtask keeps one more model, shared by its keys: it scores every"
                                + " event beside the key's own model and learns from every key's"
                                + " labels, and a key's score mixes the two by their recent"
                                + " losses on that key's labels. Helps keys with few labels and"
                                + " keys that share a concept; costs a forward pass per event and"
                                + " a step per label more. On by default unless the job runs"
                                + " bundles, which it cannot join; --no-population for each key's"
                                + " own model alone (docs/learning.md).")
        Boolean population;

        @Option(
                names = "--shared-companion",
                paramLabel = "FACTOR",
                description =
                        "The shared model learns beside a companion at this factor of the learning"
                                + " rate, the two mixed by their recent losses on every key's"
                                + " labels: a slow member for keys whose labels are noisy, without"
                                + " more state per key. Costs the subtask another forward pass per"
                                + " event and step per label (at 0.33, about 29%% of the job's"
                                + " rate at 100 keys). Default 0: the keys' own companions, none"
                                + " unless --companions (docs/learning.md).")
        Double sharedCompanion;

        /** The shared model's companion's rate factor: the command line's, else the job's. */
        double sharedCompanion() {
            return sharedCompanion == null ? JOB.learner().sharedCompanion() : sharedCompanion;
        }

        /** The setting: on or off where the command line says, else the job's default. */
        OnlineKanConfig.Population population() {
            return population == null
                    ? JOB.learner().population()
                    : OnlineKanConfig.Population.of(population);
        }
    }

    private static String text(List<Integer> widths) {
        return widths.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
}
