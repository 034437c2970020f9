package io.kanstream.stream;

import static io.kanstream.stream.OnlineKanOperatorTest.config;
import static io.kanstream.stream.OnlineKanOperatorTest.harness;
import static io.kanstream.stream.OnlineKanOperatorTest.metrics;
import static io.kanstream.stream.OnlineKanOperatorTest.operator;
import static io.kanstream.stream.OnlineKanOperatorTest.scores;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.kan.KanConfig;
import io.kanstream.kan.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.externalresource.ExternalResourceInfoProvider;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.types.Either;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cross-key bundles: inputs of many keys collected and processed together, every wave's events
 * scored in one {@link io.kanstream.kan.KanPool} call and every wave's full mini-batches stepped in
 * one. What a key sees must not depend on bundling: its inputs in their order, scored by the model
 * as every earlier input of that key left it.
 */
class BundleTest {
    private static final int KEYS = 12;

    /**
     * Events of {@code KEYS} keys in an uneven interleaving (some keys run several events in a
     * row), most labeled inline, every fifth unlabeled with its label arriving later on input 2.
     */
    private static List<Object> stream(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Object> inputs = new ArrayList<>();
        List<Label> late = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String key = "k" + (random.nextInt(4) == 0 ? 0 : random.nextInt(KEYS));
            float a = (float) (random.nextDouble() * 2 - 1);
            float b = (float) (random.nextDouble() * 2 - 1);
            double radius = 0.4 + 0.03 * Integer.parseInt(key.substring(1));
            double label = Math.hypot(a, b) < radius ? 1 : 0;
            String id = "e" + i;
            if (i % 5 == 4) {
                inputs.add(new Event(id, key, i, new float[] {a, b}, null));
                late.add(new Label(id, key, label, i + 3));
            } else {
                inputs.add(new Event(id, key, i, new float[] {a, b}, label));
            }
            if (late.size() > 0 && random.nextInt(3) == 0) {
                inputs.add(late.remove(0));
            }
        }
        inputs.addAll(late);
        return inputs;
    }

    private static void feed(
            KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> h,
            List<Object> inputs)
            throws Exception {
        for (Object input : inputs) {
            if (input instanceof Event e) {
                h.processElement1(e, e.ts());
            } else {
                Label l = (Label) input;
                h.processElement2(l, l.ts());
            }
        }
    }

    private static OnlineKanConfig.Builder bundled(int size) {
        return bundled(size, 0);
    }

    /**
     * With the models' parameter average over {@code horizon} steps (0: none), and each key's score
     * its own model's: without bundles too, where the keys would share a model by default. At a
     * constant rate: the comparisons bound rounding's drift between the pool and the host at this
     * rate (KanPoolTest checks a young model's initial rate on the device).
     */
    private static OnlineKanConfig.Builder bundled(int size, double horizon) {
        return config(Task.BINARY, horizon, KanConfig.Builder::constantRate)
                .batchSize(1)
                .bundle(size, Duration.ofSeconds(1))
                .population(false);
    }

    private static Map<String, Score> byId(List<Score> scores) {
        Map<String, Score> map = new HashMap<>();
        for (Score s : scores) {
            map.put(s.id(), s);
        }
        return map;
    }

    /** Scores, model versions and each key's order are the unbundled run's. */
    private static void assertSameAsUnbundled(List<Score> bundled, List<Score> unbundled) {
        assertThat(bundled).hasSameSizeAs(unbundled);
        Map<String, Score> reference = byId(unbundled);
        double worst = 0;
        for (Score s : bundled) {
            Score r = reference.get(s.id());
            assertThat(s.modelVersion())
                    .as("model version of %s", s.id())
                    .isEqualTo(r.modelVersion());
            assertThat(s.gridEpoch()).as("grid epoch of %s", s.id()).isEqualTo(r.gridEpoch());
            worst = Math.max(worst, Math.abs(s.score() - r.score()));
        }
        // the pool sums in another order than the host's loops: ulps per step, compounding
        assertThat(worst).as("largest score difference").isLessThan(1e-4);
        for (int k = 0; k < KEYS; k++) {
            String key = "k" + k;
            assertThat(bundled.stream().filter(s -> s.key().equals(key)).map(Score::id).toList())
                    .as("order of %s's scores", key)
                    .isEqualTo(
                            unbundled.stream()
                                    .filter(s -> s.key().equals(key))
                                    .map(Score::id)
                                    .toList());
        }
    }

    /** Models without a parameter average, and with the default one. */
    @ParameterizedTest(name = "parameter average: {0}")
    @ValueSource(booleans = {false, true})
    void eachKeyGetsTheScoresAndStepsOfAnUnbundledRun(boolean averaged) throws Exception {
        double average = averaged ? OnlineKanOperatorTest.DEFAULT_AVERAGE : 0;
        List<Object> inputs = stream(1, 900);
        List<Score> unbundled;
        List<Metric> unbundledMetrics;
        try (var h = harness(bundled(0, average).build())) {
            h.open();
            feed(h, inputs);
            unbundled = scores(h);
            unbundledMetrics = metrics(h);
        }
        try (var h = harness(bundled(64, average).build())) {
            h.open();
            feed(h, inputs);
            h.prepareSnapshotPreBarrier(1); // the last, partial bundle
            assertSameAsUnbundled(scores(h), unbundled);
            List<Metric> metrics = metrics(h);
            assertThat(metrics).hasSameSizeAs(unbundledMetrics);
            for (int i = 0; i < metrics.size(); i++) {
                Metric m = metrics.get(i);
                Metric r =
                        unbundledMetrics.stream()
                                .filter(x -> x.key().equals(m.key()) && x.labeled() == m.labeled())
                                .findFirst()
                                .orElseThrow();
                assertThat(m.steps()).isEqualTo(r.steps());
                assertThat(m.metricValue()).isEqualTo(r.metricValue());
            }
            assertThat(unbundled.get(unbundled.size() - 1).modelVersion()).isPositive();
        }
    }

    @Test
    void aBundleWaitsForItsLatencyThenIsProcessed() throws Exception {
        OnlineKanConfig config = pooled(Task.BINARY).bundle(1000, Duration.ofMillis(50)).build();
        try (var h = harness(config)) {
            h.setProcessingTime(0);
            h.open();
            for (int i = 0; i < 5; i++) {
                h.processElement1(new Event("e" + i, "k" + i, i, new float[] {0.1f, 0.2f}, 1.0), i);
            }
            assertThat(scores(h)).isEmpty();
            h.setProcessingTime(49);
            assertThat(scores(h)).isEmpty();
            h.setProcessingTime(50);
            assertThat(scores(h)).hasSize(5);
            h.processElement1(new Event("e5", "k0", 5, new float[] {0.1f, 0.2f}, 1.0), 5);
            h.setProcessingTime(100);
            assertThat(scores(h)).hasSize(6);
        }
    }

    /**
     * A checkpoint taken while a bundle is half full: the inputs before the barrier are processed
     * and in the snapshot, so a restored operator given the inputs after the barrier produces what
     * the original does: nothing lost, nothing twice.
     */
    @ParameterizedTest(name = "parameter average: {0}")
    @ValueSource(booleans = {false, true})
    void aCheckpointProcessesThePartialBundleFirstAndARestoreGoesOnExactly(boolean averaged)
            throws Exception {
        double average = averaged ? OnlineKanOperatorTest.DEFAULT_AVERAGE : 0;
        OnlineKanConfig config = bundled(50, average).build();
        List<Object> inputs = stream(2, 700);
        List<Object> before = inputs.subList(0, 333);
        List<Object> after = inputs.subList(333, inputs.size());
        long eventsBefore = before.stream().filter(Event.class::isInstance).count();
        OperatorSubtaskState snapshot;
        List<Score> original;
        try (var h = harness(config)) {
            h.open();
            feed(h, before);
            assertThat(scores(h).size()).isLessThan((int) eventsBefore);
            // what the task does at a barrier: the chain's operators first, then the snapshot
            h.prepareSnapshotPreBarrier(1);
            snapshot = h.snapshot(1, 1_000);
            assertThat(scores(h)).hasSize((int) eventsBefore);
            h.getOutput().clear();
            feed(h, after);
            h.prepareSnapshotPreBarrier(2);
            original = scores(h);
        }
        try (var h = harness(config)) {
            h.initializeState(snapshot);
            h.open();
            feed(h, after);
            h.prepareSnapshotPreBarrier(2);
            List<Score> restored = scores(h);
            assertThat(restored).hasSameSizeAs(original);
            for (int i = 0; i < original.size(); i++) {
                assertThat(restored.get(i).id()).isEqualTo(original.get(i).id());
                assertThat(restored.get(i).score())
                        .as("score of %s", original.get(i).id())
                        .isEqualTo(original.get(i).score());
                assertThat(restored.get(i).modelVersion())
                        .isEqualTo(original.get(i).modelVersion());
            }
        }
    }

    /** RocksDB hands out a copy per read: a bundle reads each key once and writes it once. */
    @ParameterizedTest(name = "parameter average: {0}")
    @ValueSource(booleans = {false, true})
    void onRocksDbABundledRunScoresAsOnTheHeap(boolean averaged) throws Exception {
        double average = averaged ? OnlineKanOperatorTest.DEFAULT_AVERAGE : 0;
        List<Object> inputs = stream(3, 500);
        List<List<Score>> runs = new ArrayList<>();
        for (boolean rocks : new boolean[] {false, true}) {
            try (var h = harness(bundled(40, average).build())) {
                if (rocks) {
                    h.setStateBackend(new EmbeddedRocksDBStateBackend());
                }
                h.open();
                feed(h, inputs);
                h.prepareSnapshotPreBarrier(1);
                runs.add(scores(h));
                assertThat(operator(h).modelsInState(false)).isEqualTo(KEYS);
            }
        }
        assertThat(runs.get(1)).hasSameSizeAs(runs.get(0));
        for (int i = 0; i < runs.get(0).size(); i++) {
            assertThat(runs.get(1).get(i).score())
                    .as("score of %s", runs.get(0).get(i).id())
                    .isEqualTo(runs.get(0).get(i).score());
        }
    }

    /** The operator tests' settings with a model a pool can hold: no parameter average. */
    private static OnlineKanConfig.Builder pooled(Task task) {
        return config(task, 0);
    }

    @Test
    void aModelWithTheDefaultParameterAverageTakesBundlesAndAutoGivesThemOnAGpu() {
        OnlineKanConfig auto = config(Task.BINARY).build();
        assertThat(auto.model().averageHorizon()).isPositive();
        assertThat(auto.bundleSizeOn(true)).isEqualTo(OnlineKanConfig.GPU_BUNDLE_SIZE);
        assertThat(auto.bundleSizeOn(false)).isZero();
        assertThat(
                        config(Task.BINARY)
                                .bundle(64, Duration.ofSeconds(1))
                                .build()
                                .bundleSizeOn(false))
                .isEqualTo(64);
    }

    @Test
    void autoBundlesOnAGpuOnlyWhereOneDeviceCallPerInputWouldBeTheAlternative() {
        OnlineKanConfig auto = pooled(Task.BINARY).build();
        assertThat(auto.bundleSize()).isEqualTo(OnlineKanConfig.AUTO_BUNDLE_SIZE);
        assertThat(auto.bundleSizeOn(false)).isZero();
        assertThat(auto.bundleSizeOn(true)).isEqualTo(OnlineKanConfig.GPU_BUNDLE_SIZE);
        assertThat(pooled(Task.BINARY).maxLiveKeys(100).build().bundleSizeOn(true)).isEqualTo(100);
        assertThat(bundled(64).build().bundleSizeOn(false)).isEqualTo(64);
        assertThat(bundled(0).build().bundleSizeOn(true)).isZero();
    }

    /** One GPU of Flink's external resource framework, as the GPU plugin describes it. */
    private record Gpu(String index) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return key.equals("index") ? Optional.of(index) : Optional.empty();
        }

        @Override
        public Collection<String> getKeys() {
            return List.of("index");
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, Either<Event, Label>, Score>
            onTaskManager(String device, int subtask, Set<ExternalResourceInfo> gpus)
                    throws Exception {
        KanConfig model =
                KanConfig.builder(List.of(2, 4, 1)).device(device).averageHorizon(0).build();
        ExternalResourceInfoProvider provider = name -> name.equals("gpu") ? gpus : Set.of();
        MockEnvironment environment =
                new MockEnvironmentBuilder()
                        .setParallelism(4)
                        .setMaxParallelism(128)
                        .setSubtaskIndex(subtask)
                        .setExternalResourceInfoProvider(provider)
                        .build();
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new SequencedOnlineKanOperator(OnlineKanConfig.builder(model).build()),
                new OnlineKan.SequenceKey(),
                Types.STRING,
                environment);
    }

    /** A key that subtask {@code subtask} of 4 (max parallelism 128) owns. */
    private static String keyOfSubtask(int subtask) {
        for (int i = 0; ; i++) {
            String key = "k" + i;
            int group = KeyGroupRangeAssignment.assignToKeyGroup(key, 128);
            if (KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(128, 4, group) == subtask) {
                return key;
            }
        }
    }

    /**
     * A TaskManager that Flink gave GPUs 3 and 5: subtask 1 takes the second. This machine has no
     * GPU, so opening fails, naming the GPU the subtask took; with no GPUs given, {@code auto} runs
     * on the CPU, and an explicit device is kept as it is.
     */
    @Test
    void aSubtaskTakesOneOfTheGpusFlinksExternalResourceFrameworkGaveItsTaskManager()
            throws Exception {
        assertThatThrownBy(
                        () -> {
                            try (var h =
                                    onTaskManager("auto", 1, Set.of(new Gpu("5"), new Gpu("3")))) {
                                h.open();
                            }
                        })
                .hasStackTraceContaining("gpu:5");
        assertThatThrownBy(
                        () -> {
                            try (var h =
                                    onTaskManager("gpu", 2, Set.of(new Gpu("5"), new Gpu("3")))) {
                                h.open();
                            }
                        })
                .hasStackTraceContaining("gpu:3");
        try (var h = onTaskManager("auto", 1, Set.of())) {
            h.open();
            String key = keyOfSubtask(1);
            h.processElement(Either.Left(new Event("e", key, 1, new float[] {0.1f, 0.2f})), 1);
            assertThat(h.extractOutputValues()).hasSize(1);
        }
        try (var h = onTaskManager("cpu", 1, Set.of(new Gpu("5")))) {
            h.open();
            String key = keyOfSubtask(1);
            h.processElement(Either.Left(new Event("e", key, 1, new float[] {0.1f, 0.2f})), 1);
            assertThat(h.extractOutputValues()).hasSize(1);
        }
    }

    @Test
    void aBundleLargerThanTheLiveKeysIsRefused() {
        assertThatThrownBy(
                        () ->
                                pooled(Task.BINARY)
                                        .maxLiveKeys(10)
                                        .bundle(11, Duration.ofSeconds(1))
                                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bundle size 11 must not exceed max live keys 10");
    }
}
