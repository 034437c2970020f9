package io.kanstream.jobs.cli;

import io.kanstream.jobs.models.ModelBootstrap;
import io.kanstream.jobs.replay.HistoryTable;
import io.kanstream.kan.KanConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "bootstrap",
        mixinStandardHelpOptions = true,
        description = {
            "Train one model per key from a history file (CSV with a header, or JSONL, as `replay`"
                    + " reads it) and write them as a savepoint of the job: `run --restore-from"
                    + " OUT` starts every key from its trained model.",
            "Each key learns from its labeled rows in time order, scored and then learned from in"
                    + " mini-batches of --batch-size with the job's grid refit policy. Use the"
                    + " same --batch-size and --refit for `run`. Rows without a label are left"
                    + " out; each key's counters and drift detector start when the job first sees"
                    + " it."
        })
final class BootstrapCommand implements Callable<Integer> {
    @Option(names = "--history", required = true, description = "CSV (header row) or .jsonl.")
    Path history;

    @Option(names = "--out", required = true, description = "The savepoint directory to create.")
    Path out;

    @Mixin HistoryColumns columns;

    @Mixin LearnerOptions.Hidden hidden;

    @Mixin LearnerOptions.BatchSize batchSize;

    @Mixin ModelOptions modelOptions;

    @Mixin RefitPolicies refits;

    @Mixin LearnerOptions.Parallelism parallelism;

    @Option(
            names = "--max-parallelism",
            description =
                    "Key groups of the savepoint, the most subtasks a restored job can have"
                            + " (default ${DEFAULT-VALUE}, Flink's for the job).")
    int maxParallelism = ModelBootstrap.DEFAULT_MAX_PARALLELISM;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        if (Files.exists(out)) {
            try (Stream<Path> entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(
                            "--out " + out + " exists and is not empty; remove it or pick another");
                }
            }
        }
        HistoryTable table = HistoryTable.read(history, columns.options());
        List<Integer> layers = new ArrayList<>();
        layers.add(table.features());
        layers.addAll(hidden.hidden());
        layers.add(table.outputs());
        KanConfig model =
                modelOptions
                        .applyTo(KanConfig.builder(layers))
                        .task(table.task())
                        .device("cpu")
                        .build();
        System.out.printf(
                "training layers %s (%s, features %s) per key from %d rows of %s...%n",
                layers,
                table.task().name().toLowerCase(Locale.ROOT),
                table.featureNames(),
                table.rows().size(),
                history);
        if (table.leftOutNote() != null) {
            System.out.println("note: " + table.leftOutNote());
        }
        List<ModelBootstrap.KeyHistory> trained =
                ModelBootstrap.write(
                        table.rows(),
                        model,
                        batchSize.batchSize,
                        refits.policy(),
                        out,
                        parallelism.parallelism,
                        maxParallelism);
        System.out.printf(
                Locale.ROOT,
                "wrote the models of %d keys (%d labeled examples) to %s in %.1f s%n",
                trained.size(),
                trained.stream().mapToLong(ModelBootstrap.KeyHistory::rows).sum(),
                out,
                (System.nanoTime() - started) / 1e9);
        if (!table.classes().isEmpty()) {
            System.out.printf("classes (label index order): %s%n", table.classes());
        }
        System.out.printf(
                "start the job from them: kanstream run --layers %s --task %s --batch-size %d"
                        + " --restore-from %s%n",
                String.join(",", layers.stream().map(String::valueOf).toList()),
                table.task().name().toLowerCase(Locale.ROOT),
                batchSize.batchSize,
                out.toAbsolutePath());
        return 0;
    }
}
