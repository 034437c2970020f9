package io.kanstream.jobs.evaluate;

import io.kanstream.jobs.cli.Checkout;
import io.kanstream.jobs.kafka.LocalBroker;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "evaluate",
        mixinStandardHelpOptions = true,
        description = {
            "Replay a fixed set of streams over several seeds and print one table of mean ± sd"
                    + " (sample sd over seeds) per stream and model; write every per-seed figure"
                    + " to JSON. Seed s initializes the KANs and draws the synthetic streams.",
            "",
            "Streams: toy (exp(sin(pi x0) + x1^2), trained like `fit`), elec2, elec2-lag (ELEC2"
                    + " with the last label as an input), abrupt, gradual (binary concept"
                    + " changes), covariate (regression whose inputs drift to +8 sd), covariate-jump (the"
                    + " same inputs jumping to +8 sd halfway),"
                    + " covariate-binary, sea (the SEA concepts: linear, 10%% of labels flipped,"
                    + " three abrupt changes), hyperplane (a rotating hyperplane in 10"
                    + " dimensions, 5%% flipped), circling (three classes whose centres turn"
                    + " half a circle), few-labels (400 keys with 50 labels each: a model per key"
                    + " that never sees many).",
            "",
            "Models: kan (replay's defaults; fit's for toy), kan-refit-off (no grid refits),"
                    + " kan-drift-off (no drift detector; same as kan on toy, which has none),"
                    + " kan+extension (grid extension up to G = 20), kan-batch-32 (a step per 32"
                    + " labels), kan-calibration-off (raw logits; same as kan on regressions),"
                    + " kan-average-off (no average of the model's recent parameters beside it),"
                    + " kan-population-off (no model shared by the keys; same as kan on toy),"
                    + " kan-initial-rate-off (a constant rate from a model's first step; same as kan"
                    + " on toy, which fit trains at a constant rate),"
                    + " each its own replay of the same sequence; and the baselines of the kan"
                    + " replay: no_change (the key's last label), majority (majority class or"
                    + " running mean), linear (online logistic/linear regression), frozen (the KAN"
                    + " after learning from the first 1,000 labels only). On toy: kan-one-pass (the"
                    + " kan trained in one pass in order at a constant rate) and linear.",
            "",
            "Columns, each mean ± sample sd over the seeds (prequential: every example is",
            "predicted before it is learned from, over the whole stream):",
            "  accuracy      fraction of correct classes; higher is better",
            "  kappa_t       temporal kappa, 1 - (1 - acc) / (1 - acc of no_change):",
            "                below 0 is worse than repeating the key's last label",
            "  log_loss      mean -ln p(true class); lower is better, and it punishes",
            "                overconfidence that accuracy hides",
            "  rmse (preq.)  root mean squared error (toy: each mini-batch of the first",
            "                pass is scored before the model learns from it)",
            "  test rmse     toy only: RMSE on the held-out rows after training",
            "The JSON also holds kappa and auc (classification), mae and r2 (regression), and for"
                    + " each KAN the grid refits and drift detections (rows where a key's"
                    + " detector fired) per seed: a variant can only differ where what it switches"
                    + " off happened.",
            ""
        })
public final class EvaluateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
            names = "--seeds",
            description = "Number of seeds, 1..N (default 5, or 2 with --quick).")
    Integer seeds;

    @Option(
            names = "--streams",
            split = ",",
            description = "Streams to run, comma-separated (default: all, in table order).")
    List<String> streams;

    @Option(
            names = "--variants",
            split = ",",
            description =
                    "KAN variants to run besides kan (the reference, always run), comma-separated:"
                            + " the suite's, or the extra ones docs/learning.md reports"
                            + " (kan+companions, kan+momentum, kan-momentum-off,"
                            + " kan+companion-1, kan+companions-0.33-3,"
                            + " kan-normalizer-off,"
                            + " kan-normalizer-off-refit-off, kan-normalizer-frozen,"
                            + " kan-normalizer-frozen-refit-off). Default: the suite's.")
    List<String> variants;

    @Option(
            names = "--quick",
            description =
                    "Short streams (toy 5,000 rows, ELEC2's first 5,000, synthetic 3,000) and 2"
                            + " seeds: a smoke run, not a measurement.")
    boolean quick;

    @Option(
            names = "--out",
            defaultValue = "reports/evaluate/evaluate.json",
            description = "JSON file (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--jobs",
            description =
                    "Seeds of a stream replayed at once, each its own local job (default: the"
                            + " machine's cores, here ${DEFAULT-VALUE}). Figures do not depend on"
                            + " it; 1 runs one replay at a time.")
    int jobs = Runtime.getRuntime().availableProcessors();

    @Option(
            names = "--elec2",
            description = "ELEC2 CSV (default: data/electricity/electricity.csv of the checkout).")
    Path elec2;

    /** The reference and the variants {@code --variants} names, in the suite's order. */
    private List<KanVariant> chosenVariants() {
        if (variants == null) {
            return KanVariant.SUITE;
        }
        List<String> names = KanVariant.all().stream().map(KanVariant::name).toList();
        for (String name : variants) {
            if (!names.contains(name.trim())) {
                throw new IllegalArgumentException(
                        "--variants: no variant '" + name + "'; the variants are " + names);
            }
        }
        List<KanVariant> chosen = new ArrayList<>();
        for (KanVariant variant : KanVariant.all()) {
            if (chosen.isEmpty()
                    || variants.stream().anyMatch(v -> v.trim().equals(variant.name()))) {
                chosen.add(variant);
            }
        }
        return chosen;
    }

    @Override
    public Integer call() throws Exception {
        Instant date = Instant.now();
        String commit = Checkout.commit(EvaluateCommand.class);
        int seedCount = seeds != null ? seeds : quick ? 2 : 5;
        if (seedCount < 1) {
            throw new IllegalArgumentException("--seeds must be at least 1, got " + seedCount);
        }
        if (jobs < 1) {
            throw new IllegalArgumentException("--jobs must be at least 1, got " + jobs);
        }
        Path elec2File =
                elec2 != null
                        ? elec2
                        : LocalBroker.repoDir().resolve("data/electricity/electricity.csv");
        Map<String, SuiteStream> catalog = SuiteStreams.catalog(elec2File, quick);
        List<SuiteStream> chosen = new ArrayList<>();
        for (String name : streams == null ? List.copyOf(catalog.keySet()) : streams) {
            SuiteStream stream = catalog.get(name.trim());
            if (stream == null) {
                throw new IllegalArgumentException(
                        "--streams: no stream '" + name + "'; the streams are " + catalog.keySet());
            }
            if (chosen.contains(stream)) {
                throw new IllegalArgumentException("--streams names " + name + " twice");
            }
            chosen.add(stream);
        }
        List<Long> seedList = new ArrayList<>();
        for (long s = 1; s <= seedCount; s++) {
            seedList.add(s);
        }
        List<KanVariant> models = chosenVariants();
        // the parse result's original arguments start with the subcommand's name
        String command =
                "kanstream " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        System.out.printf(
                "evaluating %d streams x %d seeds x %d models...%n",
                chosen.size(), seedCount, models.size());
        SuiteResult result = Suite.run(chosen, seedList, models, jobs, System.out);
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("command", command.trim());
        run.put("date", date.toString());
        run.put("git_commit", commit);
        run.put("quick", quick);
        run.put("processors", Runtime.getRuntime().availableProcessors());
        run.put("jobs", jobs);
        SuiteReport.writeJson(out, result, models, run);
        System.out.println();
        SuiteReport.printTable(result, System.out);
        SuiteReport.printPaired(result, models.get(0).name(), System.out);
        System.out.printf("json: %s%n", out.toAbsolutePath());
        return 0;
    }
}
