package io.kanstream.jobs.cli;

import io.kanstream.jobs.replay.HistoryTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How a history file's columns become labeled events: the options {@code replay} and {@code
 * bootstrap} share, declared once.
 */
final class HistoryColumns {
    @Option(
            names = "--label-column",
            defaultValue = "label",
            description = "Label column (default ${DEFAULT-VALUE}).")
    String labelColumn;

    @Option(names = "--key-column", description = "Model-key column (default: one key).")
    String keyColumn;

    @Option(
            names = "--time-column",
            description =
                    "Event-time column: epoch milliseconds or ISO-8601 date-times (no zone: UTC);"
                            + " rows are replayed in its order, ties in file order (default: file"
                            + " order).")
    String timeColumn;

    @Option(
            names = "--exclude-columns",
            split = ",",
            description = "Columns that are not features.")
    List<String> excludeColumns = new ArrayList<>();

    @Option(
            names = "--positive-label",
            description = "Binary task: this label is 1, every other 0.")
    String positiveLabel;

    @Mixin LearnerOptions.InferredTask task;

    HistoryTable.Options options() {
        return new HistoryTable.Options(
                labelColumn,
                keyColumn,
                timeColumn,
                Set.copyOf(excludeColumns),
                positiveLabel,
                task.task());
    }
}
