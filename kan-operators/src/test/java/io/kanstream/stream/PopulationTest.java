package io.kanstream.stream;

import static io.kanstream.stream.OnlineKanOperatorTest.config;
import static io.kanstream.stream.OnlineKanOperatorTest.harness;
import static io.kanstream.stream.OnlineKanOperatorTest.scores;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** A model the keys of a subtask share ({@link OnlineKanConfig#sharesModel}). */
class PopulationTest {

    /** Keys in turn, each with a few labels of one concept: inside a circle of radius 0.6. */
    private static List<Event> manyKeys(int keys, int perKey, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Event> events = new ArrayList<>();
        for (int n = 0; n < keys * perKey; n++) {
            float a = (float) (random.nextDouble() * 2 - 1);
            float b = (float) (random.nextDouble() * 2 - 1);
            double label = Math.hypot(a, b) < 0.6 ? 1 : 0;
            String key = "card-" + (n % keys);
            events.add(new Event("e" + n, key, n, new float[] {a, b}, label));
        }
        return events;
    }

    private static OnlineKanConfig.Builder oneStepPerLabel() {
        return config(Task.BINARY).batchSize(1);
    }

    /** Accuracy of the scores of the second half of the events, each scored before its label. */
    private static double lateAccuracy(boolean population, List<Event> events) throws Exception {
        try (var h = harness(oneStepPerLabel().population(population).build())) {
            h.open();
            for (Event e : events) {
                h.processElement1(e, e.ts());
            }
            List<Score> scores = scores(h);
            int right = 0;
            int from = events.size() / 2;
            for (int i = from; i < events.size(); i++) {
                boolean one = scores.get(i).score() > 0.5;
                right += one == (events.get(i).label() > 0.5) ? 1 : 0;
            }
            return right / (double) (events.size() - from);
        }
    }

    @Test
    void keysWithFewLabelsLearnFromEachOthersThroughTheSharedModel() throws Exception {
        // 300 keys with 8 labels each: alone, a key's model has barely moved by its last label
        List<Event> events = manyKeys(300, 8, 1);
        double alone = lateAccuracy(false, events);
        double shared = lateAccuracy(true, events);
        assertThat(shared).isGreaterThan(alone + 0.05);
    }

    @Test
    void theSharedModelAndEachKeysWeightsAreRestoredFromACheckpoint() throws Exception {
        OnlineKanConfig config = oneStepPerLabel().population(true).build();
        List<Event> events = manyKeys(40, 20, 2);
        List<Event> before = events.subList(0, 400);
        List<Event> after = events.subList(400, 800);
        OperatorSubtaskState snapshot;
        List<Score> original;
        try (var h = harness(config)) {
            h.open();
            for (Event e : before) {
                h.processElement1(e, e.ts());
            }
            snapshot = h.snapshot(1L, 400L);
            h.getOutput().clear();
            for (Event e : after) {
                h.processElement1(e, e.ts());
            }
            original = scores(h);
        }
        try (var h = harness(config)) {
            h.initializeState(snapshot);
            h.open();
            for (Event e : after) {
                h.processElement1(e, e.ts());
            }
            List<Score> restored = scores(h);
            assertThat(restored).hasSameSizeAs(original);
            for (int i = 0; i < original.size(); i++) {
                assertThat(restored.get(i).score())
                        .as("score of %s", original.get(i).id())
                        .isEqualTo(original.get(i).score());
            }
        }
        // without the shared model in the checkpoint the same events score differently
        try (var h = harness(config)) {
            h.open();
            for (Event e : after) {
                h.processElement1(e, e.ts());
            }
            assertThat(scores(h).get(0).score()).isNotEqualTo(original.get(0).score());
        }
    }

    /**
     * A job upgraded from a savepoint without a shared model starts one and keeps every key's own
     * model; one restored with {@code --no-population} from a savepoint with it scores each key
     * with its own model alone.
     */
    @Test
    void aSharedModelCanBeTurnedOnOrOffAcrossARestore() throws Exception {
        List<Event> events = manyKeys(30, 20, 5);
        List<Event> before = events.subList(0, 300);
        List<Event> after = events.subList(300, 600);
        for (boolean sharedBefore : new boolean[] {false, true}) {
            OnlineKanConfig written = oneStepPerLabel().population(sharedBefore).build();
            OnlineKanConfig restored = oneStepPerLabel().population(!sharedBefore).build();
            OperatorSubtaskState snapshot;
            try (var h = harness(written)) {
                h.open();
                for (Event e : before) {
                    h.processElement1(e, e.ts());
                }
                snapshot = h.snapshot(1L, 300L);
            }
            try (var h = harness(restored)) {
                h.initializeState(snapshot);
                h.open();
                OnlineKanOperator op = OnlineKanOperatorTest.operator(h);
                assertThat(op.keysInState()).isEqualTo(30);
                assertThat(op.population() != null).isEqualTo(!sharedBefore);
                for (Event e : after) {
                    h.processElement1(e, e.ts());
                }
                List<Score> scores = scores(h);
                assertThat(scores).hasSize(after.size());
                // every key goes on from the model it had: 20 labels, the last 10 after the restore
                assertThat(scores.get(scores.size() - 1).modelVersion()).isGreaterThan(10);
            }
        }
    }

    @Test
    void afterARescaleEachSubtaskTakesTheSharedModelOfMostOfItsKeys() throws Exception {
        OnlineKanConfig config = oneStepPerLabel().population(true).build();
        int maxParallelism = 8;
        OperatorSubtaskState[] states = new OperatorSubtaskState[2];
        byte[][] shared = new byte[2][];
        for (int subtask = 0; subtask < 2; subtask++) {
            try (var h = subtask(config, maxParallelism, 2, subtask)) {
                h.open();
                for (Event e : manyKeys(40, 10, 10 + subtask)) {
                    if (owner(e.key(), maxParallelism, 2) == subtask) {
                        h.processElement1(e, e.ts());
                    }
                }
                states[subtask] = h.snapshot(1L, 400L);
                shared[subtask] =
                        LearnerStateCodec.encode(OnlineKanOperatorTest.operator(h).population());
            }
        }
        assertThat(shared[0]).isNotEqualTo(shared[1]);
        OperatorSubtaskState both = AbstractStreamOperatorTestHarness.repackageState(states);
        for (int subtask = 0; subtask < 3; subtask++) {
            OperatorSubtaskState mine =
                    AbstractStreamOperatorTestHarness.repartitionOperatorState(
                            both, maxParallelism, 2, 3, subtask);
            try (var h = subtask(config, maxParallelism, 3, subtask)) {
                h.initializeState(mine);
                h.open();
                byte[] restored =
                        LearnerStateCodec.encode(OnlineKanOperatorTest.operator(h).population());
                // 8 key groups: the two subtasks held 0-3 and 4-7; the three hold 0-2 (3 of
                // them subtask 0's), 3-5 (2 of them subtask 1's) and 6-7 (subtask 1's)
                int heldMost = subtask == 0 ? 0 : 1;
                assertThat(restored).as("subtask %d", subtask).isEqualTo(shared[heldMost]);
            }
        }
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> subtask(
            OnlineKanConfig config, int maxParallelism, int parallelism, int index)
            throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new OnlineKanOperator(config),
                new OnlineKan.EventKey(),
                new OnlineKan.LabelKey(),
                Types.STRING,
                maxParallelism,
                parallelism,
                index);
    }

    private static int owner(String key, int maxParallelism, int parallelism) {
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(
                key, maxParallelism, parallelism);
    }

    /**
     * Each metric record says how much the key's scores lean on the shared model; without a shared
     * model the weight is undefined.
     */
    @Test
    void metricRecordsCarryTheWeightOfTheSharedModel() throws Exception {
        for (boolean shared : new boolean[] {true, false}) {
            try (var h = harness(oneStepPerLabel().population(shared).metricsEvery(10).build())) {
                h.open();
                for (Event e : manyKeys(20, 30, 4)) {
                    h.processElement1(e, e.ts());
                }
                List<Metric> metrics = OnlineKanOperatorTest.metrics(h);
                assertThat(metrics).hasSizeGreaterThanOrEqualTo(20 * 3);
                for (Metric m : metrics) {
                    if (shared) {
                        assertThat(m.sharedWeight()).as("%s", m).isBetween(0.0, 1.0);
                    } else {
                        assertThat(m.sharedWeight()).as("%s", m).isNaN();
                    }
                }
                if (shared) {
                    // the weights moved away from the even split a key starts with
                    assertThat(metrics).anyMatch(m -> Math.abs(m.sharedWeight() - 0.5) > 0.1);
                }
            }
        }
    }

    @Test
    void anEvictedKeyTakesItsWeightsWithIt() throws Exception {
        int maxLive = 5;
        OnlineKanConfig config =
                oneStepPerLabel()
                        .population(true)
                        .maxLiveKeys(maxLive)
                        .idleKeyTtl(Duration.ZERO)
                        .build();
        try (var h = harness(config)) {
            h.open();
            for (Event e : manyKeys(10 * maxLive, 2, 3)) {
                h.processElement1(e, e.ts());
            }
            // per live key: its model and its progress, which holds its two losses beside the
            // shared model
            assertThat(h.numKeyedStateEntries()).isEqualTo(2 * maxLive);
        }
    }

    @Test
    void byDefaultTheKeysShareAModelUnlessTheOperatorRunsBundles() throws Exception {
        OnlineKanConfig defaults = config(Task.BINARY).build();
        assertThat(defaults.population()).isEqualTo(OnlineKanConfig.Population.AUTO);
        assertThat(defaults.sharesModel(0)).isTrue();
        assertThat(defaults.sharesModel(64)).isFalse();
        assertThat(config(Task.BINARY).population(false).build().sharesModel(0)).isFalse();
        try (var h = harness(defaults)) {
            h.open();
            assertThat(OnlineKanOperatorTest.operator(h).population()).isNotNull();
        }
        OnlineKanConfig bundled = config(Task.BINARY).bundle(8, Duration.ofMillis(10)).build();
        try (var h = harness(bundled)) {
            h.open();
            for (Event e : manyKeys(20, 2, 4)) {
                h.processElement1(e, e.ts());
            }
            assertThat(OnlineKanOperatorTest.operator(h).population()).isNull();
            // per key: its model and its progress, no losses for a shared model
            assertThat(h.numKeyedStateEntries()).isEqualTo(2 * 20);
        }
    }

    /**
     * Asked for, the shared model learns beside a companion at a third of the rate (a slow member
     * for noisy labels, weighed on every key's labels); by default it learns alone. The keys' own
     * models have none either way.
     */
    @Test
    void theSharedModelLearnsBesideASlowCompanionWhenAskedTo() throws Exception {
        assertThat(oneStepPerLabel().build().sharedCompanion()).isZero();
        for (double factor : new double[] {OnlineKanConfig.SLOW_SHARED_COMPANION, 0}) {
            OnlineKanConfig config = oneStepPerLabel().sharedCompanion(factor).build();
            try (var h = harness(config)) {
                h.open();
                for (Event e : manyKeys(10, 30, 6)) {
                    h.processElement1(e, e.ts());
                }
                var shared = OnlineKanOperatorTest.operator(h).population();
                assertThat(shared.companions()).isEqualTo(factor > 0 ? 1 : 0);
                assertThat(shared.config().companionRates())
                        .isEqualTo(factor > 0 ? List.of(factor) : List.of());
                // both members were charged on the labels: their weights moved from an even split
                if (factor > 0) {
                    assertThat(shared.memberWeights()[1]).isNotEqualTo(0.5);
                }
                assertThat(config.model().companionRates()).isEmpty();
            }
        }
        // without the option the shared model is configured as a key's, companions included
        OnlineKanConfig keysWithCompanions =
                OnlineKanOperatorTest.config(
                                Task.BINARY,
                                OnlineKanOperatorTest.DEFAULT_AVERAGE,
                                m -> m.companionRates(List.of(3.0)))
                        .batchSize(1)
                        .build();
        try (var h = harness(keysWithCompanions)) {
            h.open();
            var shared = OnlineKanOperatorTest.operator(h).population();
            assertThat(shared.config().companionRates()).containsExactly(3.0);
        }
    }

    /**
     * On a stable concept with one label in five flipped, the shared model's mixture comes to lean
     * on its slow companion: a step at the full rate keeps the weights jittering on the flips.
     */
    @Test
    void onNoisyLabelsTheSlowCompanionTakesMostOfTheSharedModelsWeight() throws Exception {
        SplittableRandom random = new SplittableRandom(8);
        List<Event> events = new ArrayList<>();
        for (int n = 0; n < 6000; n++) {
            float a = (float) (random.nextDouble() * 2 - 1);
            float b = (float) (random.nextDouble() * 2 - 1);
            double label = a + b > 0 ? 1 : 0;
            if (random.nextDouble() < 0.2) {
                label = 1 - label;
            }
            events.add(new Event("e" + n, "card-" + (n % 4), n, new float[] {a, b}, label));
        }
        OnlineKanConfig config =
                oneStepPerLabel().sharedCompanion(OnlineKanConfig.SLOW_SHARED_COMPANION).build();
        try (var h = harness(config)) {
            h.open();
            for (Event e : events) {
                h.processElement1(e, e.ts());
            }
            assertThat(OnlineKanOperatorTest.operator(h).population().memberWeights()[1])
                    .isGreaterThan(0.5);
        }
    }

    @Test
    void aNegativeOrNonFiniteCompanionFactorIsRefusedNamingIt() {
        for (double factor : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> oneStepPerLabel().sharedCompanion(factor).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("shared model's companion rate factor")
                    .hasMessageContaining(String.valueOf(factor));
        }
    }

    /**
     * A shared model restored from a savepoint taken without a companion (every savepoint before
     * the option, the committed format-7 one included) keeps its own parameters and takes a fresh
     * companion when the job asks for one; one restored with its companion keeps both as they were;
     * and a job without the option drops it.
     */
    @Test
    void aRestoredSharedModelTakesTheJobsCompanionSetting() throws Exception {
        List<Event> events = manyKeys(20, 20, 7);
        double third = OnlineKanConfig.SLOW_SHARED_COMPANION;
        double[][] cases = {{0, third}, {third, third}, {third, 0}};
        for (double[] c : cases) {
            OperatorSubtaskState snapshot;
            byte[] before;
            var writtenParameters = new ArrayList<float[]>();
            try (var h = harness(oneStepPerLabel().sharedCompanion(c[0]).build())) {
                h.open();
                for (Event e : events.subList(0, 200)) {
                    h.processElement1(e, e.ts());
                }
                snapshot = h.snapshot(1L, 200L);
                var shared = OnlineKanOperatorTest.operator(h).population();
                before = LearnerStateCodec.encode(shared);
                shared.parameters().forEach(p -> writtenParameters.add(p.splineWeight()));
            }
            try (var h = harness(oneStepPerLabel().sharedCompanion(c[1]).build())) {
                h.initializeState(snapshot);
                h.open();
                var shared = OnlineKanOperatorTest.operator(h).population();
                assertThat(shared.companions()).as("%s", c).isEqualTo(c[1] > 0 ? 1 : 0);
                for (int l = 0; l < writtenParameters.size(); l++) {
                    assertThat(shared.parameters().get(l).splineWeight())
                            .isEqualTo(writtenParameters.get(l));
                }
                if (c[0] == c[1]) {
                    assertThat(LearnerStateCodec.encode(shared)).isEqualTo(before);
                }
                for (Event e : events.subList(200, 400)) {
                    h.processElement1(e, e.ts());
                }
                assertThat(scores(h)).hasSize(200);
            }
        }
    }

    @Test
    void aSharedModelAndBundlesAreRefusedTogether() {
        assertThatThrownBy(
                        () ->
                                oneStepPerLabel()
                                        .population(true)
                                        .bundle(64, Duration.ofMillis(10))
                                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("population")
                .hasMessageContaining("bundles of 64");
    }
}
