package io.kanstream.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kanstream.eval.PrequentialWindow;
import io.kanstream.eval.Target;
import io.kanstream.jobs.models.SavedKey;
import io.kanstream.jobs.models.SavepointModels;
import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.KnotGrid;
import io.kanstream.kan.SharedModelMixture;
import io.kanstream.kan.Task;
import io.kanstream.stream.KeyProgress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "models",
        mixinStandardHelpOptions = true,
        description =
                "The per-key models in a savepoint or retained checkpoint of `run`: list the keys,"
                        + " show one, export it (efficient-kan or a .kans model file) or plot its"
                        + " learned functions.",
        subcommands = {
            ModelsCommand.ListKeys.class,
            ModelsCommand.Show.class,
            ModelsCommand.Export.class,
            ModelsCommand.Plot.class
        })
final class ModelsCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    /** Where the state is and how to read it, shared by every subcommand. */
    static final class Source {
        @Parameters(
                index = "0",
                paramLabel = "DIR",
                description =
                        "A savepoint or checkpoint directory (holding _metadata), or a checkpoint"
                                + " root (its newest retained checkpoint is read).")
        Path dir;

        @Option(
                names = "--state-backend",
                defaultValue = "hashmap",
                description =
                        "hashmap|rocksdb: savepoints read with either; a checkpoint needs the"
                                + " backend of the job that took it (default ${DEFAULT-VALUE}).")
        String stateBackend;

        OnlineJobConfig.StateBackend backend() {
            return OnlineJobConfig.StateBackend.parse(stateBackend);
        }

        SavedKey key(String key) throws Exception {
            return SavepointModels.key(dir, key, backend());
        }
    }

    /** The state and the one key a subcommand reads from it. */
    static final class OneKey {
        @Mixin Source source;

        @Option(names = "--key", required = true, description = "The model key.")
        String key;

        SavedKey saved() throws Exception {
            return source.key(key);
        }

        Path dir() {
            return source.dir;
        }

        @Option(
                names = "--shared",
                description =
                        "The model the keys of this key's subtask shared, which the job mixed with"
                                + " the key's own in its score (weights: `models show`), instead"
                                + " of the key's own.")
        boolean shared;

        /**
         * The model asked for: the key's own, or with {@code --shared} the one its subtask's keys
         * shared; the caller closes it.
         */
        KanLearner learner(SavedKey saved) throws Exception {
            if (!shared) {
                return saved.learner();
            }
            Optional<KanLearner> model =
                    SavepointModels.sharedModel(source.dir, saved, source.backend());
            if (model.isEmpty()) {
                throw new IllegalArgumentException(
                        "--shared: "
                                + SavepointModels.locate(source.dir)
                                + " holds no shared model (the job ran with --no-population or"
                                + " bundles, or a bootstrap wrote it)");
            }
            return model.get();
        }

        /** How the output names the model: the key's, or the shared one that scored it. */
        String what() {
            return (shared ? "the shared model that scored key " : "key ") + key;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description =
                    "One line per key: examples learned from, steps, grid epoch (refits), events"
                            + " and labeled examples the job counted, when it last saw the key"
                            + " (processing time), task and layers; with --json also the"
                            + " weight of the shared model in its score.")
    static final class ListKeys implements Callable<Integer> {
        @Mixin Source source;

        @Option(names = "--json", description = "A JSON array instead of a table.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            List<SavedKey> keys = SavepointModels.list(source.dir, source.backend());
            if (json) {
                List<Map<String, Object>> rows = new ArrayList<>(keys.size());
                for (SavedKey k : keys) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("key", k.key());
                    row.put("examples", k.examples());
                    row.put("steps", k.steps());
                    row.put("grid_epoch", k.gridEpoch());
                    row.put("events", k.hasProgress() ? k.events() : null);
                    row.put("labeled", k.hasProgress() ? k.labeled() : null);
                    row.put("last_seen", k.hasProgress() ? lastSeen(k) : null);
                    row.put("task", k.task());
                    row.put("layers", k.layers());
                    // how much its score leans on the model its subtask's keys share
                    row.put(
                            "shared_weight",
                            k.hasSharedModel()
                                    ? SharedModelMixture.weights(k.sharedLosses())[1]
                                    : null);
                    rows.add(row);
                }
                System.out.println(
                        new ObjectMapper()
                                .enable(SerializationFeature.INDENT_OUTPUT)
                                .writeValueAsString(rows));
                return 0;
            }
            int width = Math.max(3, keys.stream().mapToInt(k -> k.key().length()).max().orElse(3));
            String format = "%-" + width + "s %9s %7s %5s %9s %9s  %-24s %-10s %s%n";
            StringBuilder out = new StringBuilder();
            out.append(
                    String.format(
                            format,
                            "key",
                            "examples",
                            "steps",
                            "grid",
                            "events",
                            "labeled",
                            "last seen",
                            "task",
                            "layers"));
            for (SavedKey k : keys) {
                out.append(
                        String.format(
                                Locale.ROOT,
                                format,
                                k.key(),
                                k.examples(),
                                k.steps(),
                                k.gridEpoch(),
                                k.hasProgress() ? k.events() : "-",
                                k.hasProgress() ? k.labeled() : "-",
                                k.hasProgress() ? lastSeen(k) : "-",
                                k.hasModel() ? k.task() : "(no model)",
                                k.hasModel() ? k.layers() : "-"));
            }
            System.out.print(out);
            System.out.printf("%d keys in %s%n", keys.size(), SavepointModels.locate(source.dir));
            return 0;
        }

        private static String lastSeen(SavedKey k) {
            return Instant.ofEpochMilli(k.lastSeen()).toString();
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description =
                    "One key's model: configuration, counters, grids per layer, calibration,"
                            + " optimizer, and the job's prequential figures for it.")
    static final class Show implements Callable<Integer> {
        @Mixin OneKey model;

        @Override
        public Integer call() throws Exception {
            SavedKey saved = model.saved();
            Task task;
            int outputs;
            try (KanLearner learner = model.learner(saved)) {
                KanConfig c = learner.config();
                task = c.task();
                outputs = learner.outputs();
                System.out.printf("%s in %s%n", model.what(), SavepointModels.locate(model.dir()));
                System.out.printf(
                        Locale.ROOT,
                        "model      layers %s, task %s, grid size %d, spline order %d%n",
                        saved.layers(),
                        saved.task(),
                        c.gridSize(),
                        c.splineOrder());
                System.out.printf(
                        Locale.ROOT,
                        "optimizer  Adam lr %s (x%.3g now), %d steps applied, %d skipped,"
                                + " weight decay %s%n",
                        c.learningRate(),
                        // the next step's multiplier: a drift boost's and a young model's
                        learner.learningRateScale() * c.initialRate(learner.steps() + 1),
                        learner.steps(),
                        learner.skippedSteps(),
                        c.weightDecay());
                System.out.printf(
                        Locale.ROOT,
                        "counters   %d examples learned from, grid epoch %d (refits), model"
                                + " version %d, %d examples since the last refit%n",
                        learner.examples(),
                        learner.gridEpoch(),
                        learner.modelVersion(),
                        learner.examplesSinceRefit());
                System.out.printf(
                        Locale.ROOT,
                        "calibration %s%n",
                        task == Task.REGRESSION
                                ? String.format(
                                        Locale.ROOT,
                                        "regression: label scale %.4g",
                                        learner.labelScale())
                                : c.logitBound() > 0
                                        ? String.format(
                                                Locale.ROOT,
                                                "logits bounded to ±%s, Platt-scaled online"
                                                        + " (%s)",
                                                c.logitBound(),
                                                learner.calibrationLearnsBias()
                                                        ? "temperature and bias"
                                                        : "temperature")
                                        : "off (raw logits)");
                double[] averaged = learner.averageWeights();
                System.out.printf(
                        Locale.ROOT,
                        "average    %s%n",
                        averaged == null
                                ? "none"
                                : String.format(
                                        Locale.ROOT,
                                        "of its parameters over about %.0f steps; weights: network"
                                                + " %.3f, average %.3f",
                                        c.averageHorizon(),
                                        averaged[0],
                                        averaged[1]));
                if (learner.companions() > 0) {
                    System.out.printf(
                            Locale.ROOT,
                            "companions %d at learning-rate factors %s; member weights %s%n",
                            learner.companions(),
                            c.companionRates(),
                            fmt(learner.memberWeights()));
                }
                System.out.printf(
                        Locale.ROOT,
                        "inputs     %s%n",
                        learner.normalizesInputs()
                                ? "normalized online: mean "
                                        + fmt(learner.inputTransform()[0])
                                        + ", scale "
                                        + fmt(learner.inputTransform()[1])
                                : "raw");
                for (int l = 0; l < learner.layerCount(); l++) {
                    KnotGrid grid = learner.grid(l);
                    StringBuilder ranges = new StringBuilder();
                    for (int f = 0; f < grid.features(); f++) {
                        ranges.append(
                                String.format(
                                        Locale.ROOT,
                                        "%s[%.3g, %.3g]",
                                        f == 0 ? "" : " ",
                                        grid.interiorLow(f),
                                        grid.interiorHigh(f)));
                    }
                    System.out.printf(
                            Locale.ROOT,
                            "grid %d     G %d, k %d, %.1f%% of inputs outside, knot misfit %.3g;"
                                    + " per input %s%n",
                            l,
                            grid.gridSize(),
                            grid.splineOrder(),
                            100 * learner.outsideGridFraction(l),
                            learner.knotMisfit(l),
                            ranges);
                }
            }
            if (saved.hasSharedModel()) {
                double[] losses = saved.sharedLosses();
                double[] w = SharedModelMixture.weights(losses);
                System.out.printf(
                        Locale.ROOT,
                        "shared     scored mixed with the model its subtask's keys share: weights"
                                + " own %.4f, shared %.4f (decayed losses %.6g, %.6g; `models"
                                + " export --shared` writes that model)%n",
                        w[0],
                        w[1],
                        losses[0],
                        losses[1]);
            }
            KeyProgress p = saved.keyProgress();
            if (p == null) {
                System.out.println(
                        "progress   none: the job has not seen this key since its model was"
                                + " written (a bootstrap)");
                return 0;
            }
            boolean regression = "regression".equals(saved.task());
            System.out.printf(
                    Locale.ROOT,
                    "progress   %d events, %d labeled, %d pending in the batch, %d awaiting"
                            + " (%d dropped), %d drifts, last seen %s%n",
                    p.events(),
                    p.labeled(),
                    p.pendingExamples(),
                    p.awaiting(),
                    p.awaitingDropped(),
                    p.drifts(),
                    Instant.ofEpochMilli(p.lastSeen()));
            PrequentialWindow window = p.window();
            Target target = KeyProgress.target(task, outputs);
            System.out.printf(
                    Locale.ROOT,
                    "window     %d labeled since the last metric record: loss %.4g, %s %.4g,"
                            + " no-change baseline %.4g%n",
                    window.count(),
                    window.meanLoss(),
                    regression ? "rmse" : "accuracy",
                    window.value(target),
                    window.referenceValue(target));
            return 0;
        }

        private static String fmt(double[] values) {
            StringBuilder s = new StringBuilder("[");
            for (int i = 0; i < values.length; i++) {
                s.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4g", values[i]));
            }
            return s.append(']').toString();
        }
    }

    @Command(
            name = "export",
            mixinStandardHelpOptions = true,
            description =
                    "Write one key's model as an efficient-kan state_dict (.npz, as `export`"
                            + " writes it) or as a .kans model file (`fit`, `predict`, `refit`,"
                            + " `run --model` read it).")
    static final class Export implements Callable<Integer> {
        @Mixin OneKey model;

        @Option(names = "--to", required = true, description = "efficient-kan|kans.")
        String to;

        @Option(names = "--out", required = true, description = "The file to write.")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (!to.equals("efficient-kan") && !to.equals("kans")) {
                throw new IllegalArgumentException(
                        "--to " + to + " is not one of efficient-kan, kans");
            }
            SavedKey saved = model.saved();
            try (KanLearner learner = model.learner(saved)) {
                System.out.printf(
                        "exported %s (layers %s, %d steps) -> %s%n",
                        model.what(), saved.layers(), learner.steps(), out);
                if (to.equals("kans")) {
                    ModelFile.write(learner, out);
                } else {
                    ExportCommand.writeEfficientKan(learner, out);
                }
            }
            return 0;
        }
    }

    @Command(
            name = "plot",
            mixinStandardHelpOptions = true,
            description =
                    "Draw one key's learned edge functions, one PNG per layer, as `plot` does for"
                            + " a model file.")
    static final class Plot implements Callable<Integer> {
        @Mixin OneKey model;

        @Mixin PlotCommand.Options drawing;

        @Override
        public Integer call() throws Exception {
            SavedKey saved = model.saved();
            try (KanLearner learner = model.learner(saved)) {
                drawing.draw(learner);
            }
            return 0;
        }
    }
}
