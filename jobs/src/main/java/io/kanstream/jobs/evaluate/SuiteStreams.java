package io.kanstream.jobs.evaluate;

import io.kanstream.jobs.replay.HistoryTable;
import io.kanstream.kan.Task;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fixed set of streams the suite replays, in table order, at full or quick size. Lengths are
 * chosen so the full suite (three seeds, every variant) stays within 15 minutes on a 2-core
 * machine; quick is for the test.
 */
final class SuiteStreams {
    static final int SYNTHETIC_ROWS = 20_000;
    static final int QUICK_SYNTHETIC_ROWS = 3_000;
    static final int QUICK_ELEC2_ROWS = 5_000;

    private SuiteStreams() {}

    /** Every stream by name, in table order. */
    static Map<String, SuiteStream> catalog(Path elec2, boolean quick) {
        int synthetic = quick ? QUICK_SYNTHETIC_ROWS : SYNTHETIC_ROWS;
        int elec2Rows = quick ? QUICK_ELEC2_ROWS : 45_312;
        Elec2 table = new Elec2(elec2, quick ? QUICK_ELEC2_ROWS : Integer.MAX_VALUE);
        String keys = SyntheticStreams.KEYS + " keys, " + synthetic + " rows";
        Map<String, SuiteStream> streams = new LinkedHashMap<>();
        for (SuiteStream stream :
                List.<SuiteStream>of(
                        quick ? new ToyStream(5_000, 2_000) : new ToyStream(50_000, 10_000),
                        new ReplayStream(
                                "elec2",
                                "ELEC2 (" + elec2 + "), label class, UP positive",
                                Task.BINARY,
                                elec2Rows,
                                seed -> table.get(),
                                s -> s),
                        new ReplayStream(
                                "elec2-lag",
                                "ELEC2 with the key's last label as an input (--lag-label)",
                                Task.BINARY,
                                elec2Rows,
                                seed -> table.get(),
                                s -> s.lagLabel(true)),
                        new ReplayStream(
                                "abrupt",
                                "binary, 4 features, the concept changes at once halfway ("
                                        + keys
                                        + ")",
                                Task.BINARY,
                                synthetic,
                                seed -> SyntheticStreams.abrupt(seed, synthetic),
                                s -> s),
                        new ReplayStream(
                                "gradual",
                                "binary, 4 features, the concept rotates half a turn over the"
                                        + " stream ("
                                        + keys
                                        + ")",
                                Task.BINARY,
                                synthetic,
                                seed -> SyntheticStreams.gradual(seed, synthetic),
                                s -> s),
                        new ReplayStream(
                                "covariate",
                                "regression, y = sin(1.5 x0) + cos(x1), the inputs' mean moves"
                                        + " from 0 to +"
                                        + (int) SyntheticStreams.SHIFT
                                        + " sd, well outside where it started ("
                                        + keys
                                        + ")",
                                Task.REGRESSION,
                                synthetic,
                                seed ->
                                        SyntheticStreams.covariate(
                                                seed, synthetic, Task.REGRESSION),
                                s -> s),
                        new ReplayStream(
                                "covariate-jump",
                                "the covariate stream's inputs jumping from 0 to +"
                                        + (int) SyntheticStreams.SHIFT
                                        + " sd halfway instead of moving steadily",
                                Task.REGRESSION,
                                synthetic,
                                seed -> SyntheticStreams.covariateJump(seed, synthetic),
                                s -> s),
                        new ReplayStream(
                                "covariate-binary",
                                "the covariate stream's y > 0 as a binary label",
                                Task.BINARY,
                                synthetic,
                                seed -> SyntheticStreams.covariate(seed, synthetic, Task.BINARY),
                                s -> s),
                        new ReplayStream(
                                "sea",
                                "the SEA concepts: binary, 3 features in [0, 10], label x0 + x1"
                                        + " <= theta with theta 8, 9, 7, 9.5 by quarters, 10% of"
                                        + " labels flipped; a linear concept ("
                                        + keys
                                        + ")",
                                Task.BINARY,
                                synthetic,
                                seed -> SyntheticStreams.sea(seed, synthetic),
                                s -> s),
                        new ReplayStream(
                                "hyperplane",
                                "a rotating hyperplane: binary, 10 features in [0, 1], weights"
                                        + " drifting every row, 5% of labels flipped; a linear"
                                        + " concept that never stops moving ("
                                        + keys
                                        + ")",
                                Task.BINARY,
                                synthetic,
                                seed -> SyntheticStreams.hyperplane(seed, synthetic),
                                s -> s),
                        new ReplayStream(
                                "circling",
                                "multiclass: three Gaussian classes in 2 features whose centres"
                                        + " turn half a circle over the stream ("
                                        + keys
                                        + ")",
                                Task.MULTICLASS,
                                synthetic,
                                seed -> SyntheticStreams.circling(seed, synthetic),
                                s -> s),
                        new ReplayStream(
                                "few-labels",
                                "many keys, "
                                        + SyntheticStreams.LABELS_PER_KEY
                                        + " labels each ("
                                        + synthetic / SyntheticStreams.LABELS_PER_KEY
                                        + " keys, "
                                        + synthetic
                                        + " rows): binary, the gradual stream's concept without"
                                        + " its turn, its phase one of 7 by key; a key's model"
                                        + " learns from its own labels only",
                                Task.BINARY,
                                synthetic,
                                seed -> SyntheticStreams.fewLabels(seed, synthetic),
                                s -> s))) {
            streams.put(stream.name(), stream);
        }
        return streams;
    }

    /** ELEC2, read once however many seeds and streams use it. */
    private static final class Elec2 {
        private final Path file;
        private final int rows;
        private HistoryTable table;

        Elec2(Path file, int rows) {
            this.file = file;
            this.rows = rows;
        }

        /** Seeds replay at once (the suite's {@code --jobs}): the first reads the file. */
        synchronized HistoryTable get() {
            if (table == null) {
                try {
                    HistoryTable all =
                            HistoryTable.read(
                                    file,
                                    new HistoryTable.Options(
                                            "class", null, null, Set.of(), "UP", null));
                    table =
                            new HistoryTable(
                                    all.rows().subList(0, Math.min(rows, all.rows().size())),
                                    all.featureNames(),
                                    all.task(),
                                    all.classes());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read ELEC2 from " + file, e);
                }
            }
            return table;
        }
    }
}
