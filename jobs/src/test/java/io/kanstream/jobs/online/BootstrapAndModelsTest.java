package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.jobs.CliRun;
import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.jobs.models.SavedKey;
import io.kanstream.jobs.models.SavepointModels;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.SharedModelMixture;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import io.kanstream.stream.Score;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kanstream bootstrap} → {@code run --restore-from} → savepoint → {@code kanstream models}:
 * the job starts every key from the model trained on its history, and the model a savepoint of the
 * running job holds for a key is the one the job scored that key's later events with.
 */
@ExtendWith(LocalKafka.class)
class BootstrapAndModelsTest {
    private static final int KEYS = 3;
    private static final int HISTORY_PER_KEY = 40; // batches of 16: 3 steps, the last partial
    private static final int LABELED_PER_KEY = 32; // 2 full batches in the job
    private static final int PROBES_PER_KEY = 3;

    @TempDir Path temp;

    @Test
    void aSavepointOfTheJobStartedFromBootstrappedModelsExportsTheModelItScoredWith(Broker broker)
            throws Exception {
        Path history = temp.resolve("history.csv");
        writeHistory(history);
        Path bootstrap = temp.resolve("bootstrap");
        CliRun boot =
                cli(
                        "bootstrap",
                        "--history",
                        history.toString(),
                        "--key-column",
                        "key",
                        "--time-column",
                        "ts",
                        "--batch-size",
                        String.valueOf(JobFixture.BATCH),
                        "--out",
                        bootstrap.toString());
        assertThat(boot.exit()).as(boot.output()).isZero();
        assertThat(boot.output()).contains("wrote the models of 3 keys (120 labeled examples)");

        JobFixture f = new JobFixture(broker, "bootstrap", temp.resolve("checkpoints"));
        // each key's score its exported model's alone, without the model the keys share
        OnlineJobConfig config =
                f.config(l -> l.population(false)).restoringFrom(bootstrap.toUri().toString());
        List<Event> first = new ArrayList<>(probes("first"));
        first.addAll(labeled());
        List<Event> after = probes("after");
        Run run = savepointBetween(f, config, first, after);
        Map<String, Score> scores = run.scores();

        // the first events met the bootstrapped models: 3 steps each (a fresh model is at 0)
        for (int k = 0; k < KEYS; k++) {
            assertThat(scores.get("first-" + k).modelVersion())
                    .as("model version key-%d scored its first event with", k)
                    .isEqualTo(3);
        }

        Path saved = run.savepoint();
        CliRun list = cli("models", "list", saved.toString(), "--json");
        assertThat(list.exit()).as(list.output()).isZero();
        JsonNode keys =
                new ObjectMapper().readTree(list.output().substring(list.output().indexOf('[')));
        assertThat(keys).hasSize(KEYS);
        for (int k = 0; k < KEYS; k++) {
            JsonNode key = keys.get(k);
            assertThat(key.get("shared_weight").isNull()).as("no shared model").isTrue();
            assertThat(key.get("key").asText()).isEqualTo("key-" + k);
            assertThat(key.get("examples").asLong()).isEqualTo(HISTORY_PER_KEY + LABELED_PER_KEY);
            assertThat(key.get("steps").asLong()).isEqualTo(3 + 2);
            assertThat(key.get("events").asLong()).isEqualTo(PROBES_PER_KEY + LABELED_PER_KEY);
            assertThat(key.get("labeled").asLong()).isEqualTo(LABELED_PER_KEY);
            assertThat(key.get("task").asText()).isEqualTo("regression");
            assertThat(key.get("layers").asText()).isEqualTo("4,8,1");
        }

        Path exported = temp.resolve("key-1.kans");
        CliRun export = export(saved, "key-1", exported);
        assertThat(export.exit()).as(export.output()).isZero();
        int compared = 0;
        try (KanLearner model = LearnerStateCodec.decode(Files.readAllBytes(exported), "cpu")) {
            assertThat(model.steps()).isEqualTo(5);
            for (Event e : after) {
                if (!e.key().equals("key-1")) {
                    continue;
                }
                double expected = model.score(e.features(), 1)[0];
                Score scored = scores.get(e.id());
                assertThat(Double.doubleToRawLongBits(scored.score()))
                        .as("%s: job %s, exported model %s", e.id(), scored.score(), expected)
                        .isEqualTo(Double.doubleToRawLongBits(expected));
                compared++;
            }
        }
        assertThat(compared).isEqualTo(PROBES_PER_KEY);

        CliRun shown = cli("models", "show", saved.toString(), "--key", "key-1");
        assertThat(shown.exit()).as(shown.output()).isZero();
        assertThat(shown.output())
                .containsPattern(
                        "average +of its parameters over about 100 steps; weights:"
                                + " network \\d\\.\\d{3}, average \\d\\.\\d{3}");

        // a job run without the shared model wrote none
        CliRun noShared = export(saved, "key-1", temp.resolve("none.kans"), "--shared");
        assertThat(noShared.exit()).as(noShared.output()).isEqualTo(2);
        assertThat(noShared.output()).contains("holds no shared model");
        assertThat(shown.output()).doesNotContain("shared     ");

        CliRun missing = cli("models", "show", saved.toString(), "--key", "key-9");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.output()).contains("no key 'key-9' in");
    }

    /**
     * With the model a subtask's keys share (the default), a key's score mixes its own model with
     * its subtask's shared one: the two models {@code models export} and {@code models export
     * --shared} write, mixed by the weights {@code models show} prints, give the job's scores to
     * the bit.
     */
    @Test
    void aKeysOwnAndSharedModelsFromASavepointReproduceItsScores(Broker broker) throws Exception {
        JobFixture f = new JobFixture(broker, "shared-export", temp.resolve("checkpoints"));
        OnlineJobConfig config = f.config(l -> l);
        List<Event> after = probes("after");
        Run run = savepointBetween(f, config, labeled(), after);
        Map<String, Score> scores = run.scores();
        Path saved = run.savepoint();

        CliRun list = cli("models", "list", saved.toString(), "--json");
        assertThat(list.exit()).as(list.output()).isZero();
        JsonNode listed =
                new ObjectMapper().readTree(list.output().substring(list.output().indexOf('[')));
        int compared = 0;
        for (int k = 0; k < KEYS; k++) {
            String key = "key-" + k;
            SavedKey savedKey =
                    SavepointModels.key(saved, key, OnlineJobConfig.StateBackend.HASHMAP);
            assertThat(savedKey.hasSharedModel())
                    .as("%s scored beside a shared model", key)
                    .isTrue();
            double[] weights = SharedModelMixture.weights(savedKey.sharedLosses());
            assertThat(listed.get(k).get("shared_weight").asDouble()).isEqualTo(weights[1]);
            Path own = temp.resolve(key + ".kans");
            Path shared = temp.resolve(key + "-shared.kans");
            CliRun exportOwn = export(saved, key, own);
            assertThat(exportOwn.exit()).as(exportOwn.output()).isZero();
            CliRun exportShared = export(saved, key, shared, "--shared");
            assertThat(exportShared.exit()).as(exportShared.output()).isZero();
            assertThat(exportShared.output())
                    .contains("exported the shared model that scored key " + key);
            // the shared model learned from the labels of every key its subtask held
            long keysOnItsSubtask =
                    java.util.stream.IntStream.range(0, KEYS)
                            .filter(
                                    j ->
                                            KeyGroupRangeAssignment.assignKeyToParallelOperator(
                                                            "key-" + j,
                                                            savedKey.maxParallelism(),
                                                            config.parallelism())
                                                    == KeyGroupRangeAssignment
                                                            .assignKeyToParallelOperator(
                                                                    key,
                                                                    savedKey.maxParallelism(),
                                                                    config.parallelism()))
                            .count();
            try (KanLearner ownModel = LearnerStateCodec.decode(Files.readAllBytes(own), "cpu");
                    KanLearner sharedModel =
                            LearnerStateCodec.decode(Files.readAllBytes(shared), "cpu")) {
                assertThat(ownModel.examples()).isEqualTo(LABELED_PER_KEY);
                assertThat(sharedModel.examples())
                        .as("examples of the shared model that scored %s", key)
                        .isEqualTo(keysOnItsSubtask * LABELED_PER_KEY);
                for (Event e : after) {
                    if (!e.key().equals(key)) {
                        continue;
                    }
                    float[] mixed =
                            SharedModelMixture.mix(
                                    Task.REGRESSION,
                                    ownModel.score(e.features(), 1),
                                    sharedModel.score(e.features(), 1),
                                    1,
                                    savedKey.sharedLosses());
                    double expected = Task.REGRESSION.score(mixed, 0, 1);
                    Score scored = scores.get(e.id());
                    assertThat(Double.doubleToRawLongBits(scored.score()))
                            .as(
                                    "%s: job %s, exported models mixed %s",
                                    e.id(), scored.score(), expected)
                            .isEqualTo(Double.doubleToRawLongBits(expected));
                    compared++;
                }
            }
            CliRun shown = cli("models", "show", saved.toString(), "--key", key);
            assertThat(shown.exit()).as(shown.output()).isZero();
            assertThat(shown.output())
                    .contains(
                            String.format(
                                    Locale.ROOT,
                                    "weights own %.4f, shared %.4f",
                                    weights[0],
                                    weights[1]));
            CliRun shownShared = cli("models", "show", saved.toString(), "--key", key, "--shared");
            assertThat(shownShared.exit()).as(shownShared.output()).isZero();
            assertThat(shownShared.output())
                    .contains("the shared model that scored key " + key + " in ")
                    .contains(
                            "counters   "
                                    + keysOnItsSubtask * LABELED_PER_KEY
                                    + " examples learned from");
        }
        assertThat(compared).isEqualTo(KEYS * PROBES_PER_KEY);
    }

    /** A savepoint the job took between two lists of events, and every score it committed. */
    private record Run(Path savepoint, Map<String, Score> scores) {}

    /** Runs the job over {@code before}, takes a savepoint, then runs it over {@code after}. */
    private static Run savepointBetween(
            JobFixture f, OnlineJobConfig config, List<Event> before, List<Event> after)
            throws Exception {
        String savepoint;
        JobClient job = OnlineLearningJob.start(config, false, new Configuration());
        try {
            f.send(before);
            assertThat(f.awaitScores(before.size(), Duration.ofMinutes(2)))
                    .isGreaterThanOrEqualTo(before.size());
            savepoint =
                    job.triggerSavepoint(config.savepointUri(), SavepointFormatType.CANONICAL)
                            .get(2, TimeUnit.MINUTES);
            f.send(after);
            int all = before.size() + after.size();
            assertThat(f.awaitScores(all, Duration.ofMinutes(1))).isGreaterThanOrEqualTo(all);
        } finally {
            OnlineLearningJobTest.stop(job, config);
        }
        return new Run(
                Path.of(java.net.URI.create(savepoint)),
                f.committedScores().stream()
                        .collect(Collectors.toMap(Score::id, Function.identity())));
    }

    /** y = x0·x1 + x2 − x3² for 3 keys, rows interleaved in time. */
    private static void writeHistory(Path file) throws Exception {
        SplittableRandom random = new SplittableRandom(5);
        StringBuilder csv = new StringBuilder("key,ts,x0,x1,x2,x3,label\n");
        for (int i = 0; i < KEYS * HISTORY_PER_KEY; i++) {
            double[] x = new double[4];
            for (int j = 0; j < 4; j++) {
                x[j] = 2 * random.nextDouble() - 1;
            }
            csv.append(
                    String.format(
                            Locale.ROOT,
                            "key-%d,%d,%.5f,%.5f,%.5f,%.5f,%.5f%n",
                            i % KEYS,
                            1000 + i,
                            x[0],
                            x[1],
                            x[2],
                            x[3],
                            x[0] * x[1] + x[2] - x[3] * x[3]));
        }
        Files.writeString(file, csv);
    }

    private static List<Event> labeled() {
        SplittableRandom random = new SplittableRandom(6);
        List<Event> out = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (int i = 0; i < KEYS * LABELED_PER_KEY; i++) {
            float[] x = features(random);
            out.add(
                    new Event(
                            "labeled-" + i,
                            "key-" + (i % KEYS),
                            now + i,
                            x,
                            (double) (x[0] * x[1] + x[2] - x[3] * x[3])));
        }
        return out;
    }

    /** Unlabeled events, id prefix-i, keys in turn: scored, never learned from. */
    private static List<Event> probes(String prefix) {
        SplittableRandom random = new SplittableRandom(prefix.hashCode());
        List<Event> out = new ArrayList<>();
        for (int i = 0; i < KEYS * PROBES_PER_KEY; i++) {
            out.add(
                    new Event(
                            prefix + "-" + i,
                            "key-" + (i % KEYS),
                            System.currentTimeMillis(),
                            features(random)));
        }
        return out;
    }

    private static float[] features(SplittableRandom random) {
        float[] x = new float[4];
        for (int j = 0; j < x.length; j++) {
            x[j] = (float) (2 * random.nextDouble() - 1);
        }
        return x;
    }

    /** {@code kanstream models export} of one key to a .kans file, with extra options. */
    private static CliRun export(Path savepoint, String key, Path out, String... options) {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "models",
                                "export",
                                savepoint.toString(),
                                "--key",
                                key,
                                "--to",
                                "kans",
                                "--out",
                                out.toString()));
        args.addAll(List.of(options));
        return cli(args.toArray(String[]::new));
    }

    static CliRun cli(String... args) {
        return CliRun.echoed(args);
    }
}
