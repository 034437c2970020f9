package io.kanstream.jobs.evaluate;

import io.kanstream.jobs.replay.HistoryTable;
import io.kanstream.jobs.replay.Replay;
import io.kanstream.jobs.replay.ReplaySettings;
import io.kanstream.kan.Task;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongFunction;
import java.util.function.UnaryOperator;

/**
 * A stream measured the way {@code replay} measures it: every variant is its own replay of the same
 * sequence through the live operator; the baselines (no_change, majority, linear, frozen) come from
 * the first variant's replay, which evaluates them on that sequence anyway.
 *
 * @param table the stream for a seed (a file ignores it; a synthetic stream is drawn from it)
 * @param stream what the stream itself needs of the settings, e.g. the lag label
 */
record ReplayStream(
        String name,
        String description,
        Task taskKind,
        int rows,
        LongFunction<HistoryTable> table,
        UnaryOperator<ReplaySettings.Builder> stream)
        implements SuiteStream {

    static final List<String> BASELINES = List.of("no_change", "majority", "linear", "frozen");
    static final List<String> CLASSIFICATION =
            List.of("accuracy", "kappa_temporal", "log_loss", "kappa", "auc");
    static final List<String> REGRESSION = List.of("rmse", "mae", "r2");

    @Override
    public String task() {
        return taskKind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public List<String> figures() {
        return taskKind == Task.REGRESSION ? REGRESSION : CLASSIFICATION;
    }

    @Override
    public Map<String, Map<String, Double>> run(long seed, List<KanVariant> variants)
            throws Exception {
        HistoryTable data = table.apply(seed);
        if (data.task() != taskKind) {
            throw new IllegalStateException(
                    "stream "
                            + name
                            + " is declared "
                            + task()
                            + " but its table is "
                            + data.task());
        }
        ReplaySettings base =
                stream.apply(ReplaySettings.builder().model(m -> m.seed(seed))).build();
        Map<String, Map<String, Double>> figures = new LinkedHashMap<>();
        Map<String, Map<String, Double>> baselines = null;
        for (KanVariant variant : variants) {
            Replay.Result result =
                    Replay.run(
                            data,
                            variant.settings().apply(base),
                            variant.model(),
                            variant.online());
            Map<String, Map<String, Double>> overall = result.evaluation().overall();
            Map<String, Double> kan = pick(overall.get("kan"));
            // whether the adaptive parts acted at all: a variant that switches off what never
            // happened on a stream cannot differ there
            kan.put("refits", (double) result.evaluation().refits().size());
            kan.put("drifts", (double) result.evaluation().drifts().size());
            figures.put(variant.name(), kan);
            if (baselines == null) {
                baselines = overall;
            }
        }
        for (String baseline : BASELINES) {
            figures.put(baseline, pick(baselines.get(baseline)));
        }
        return figures;
    }

    private Map<String, Double> pick(Map<String, Double> all) {
        Map<String, Double> picked = new LinkedHashMap<>();
        for (String figure : figures()) {
            picked.put(figure, all.get(figure));
        }
        return picked;
    }
}
