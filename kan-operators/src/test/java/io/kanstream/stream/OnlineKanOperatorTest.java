package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.kan.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.CheckpointStorageLocationReference;
import org.apache.flink.runtime.state.CheckpointStreamFactory;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFinalizer;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFutures;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OnlineKanOperatorTest {

    /** The models' default parameter average horizon. */
    static final double DEFAULT_AVERAGE = KanConfig.builder(List.of(1, 1)).build().averageHorizon();

    static OnlineKanConfig.Builder config(Task task) {
        return config(task, DEFAULT_AVERAGE);
    }

    /** {@link #config(Task)} with the model's parameter average over this many steps (0: none). */
    static OnlineKanConfig.Builder config(Task task, double averageHorizon) {
        return config(task, averageHorizon, m -> m);
    }

    /** {@link #config(Task, double)} with {@code model} changing the model's settings. */
    static OnlineKanConfig.Builder config(
            Task task,
            double averageHorizon,
            java.util.function.UnaryOperator<KanConfig.Builder> model) {
        KanConfig settings =
                model.apply(
                                KanConfig.builder(List.of(2, 4, task == Task.MULTICLASS ? 3 : 1))
                                        .task(task)
                                        .learningRate(0.03)
                                        .averageHorizon(averageHorizon)
                                        .device("cpu"))
                        .build();
        return OnlineKanConfig.builder(settings)
                .batchSize(8)
                .batchTimeout(Duration.ZERO)
                .metricsEvery(50)
                .refitPolicy(new RefitPolicy(0.2, 0.1, 400, 64, 5, 0.05, 0, 1000));
    }

    static KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> harness(
            OnlineKanConfig config) throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new OnlineKanOperator(config),
                new OnlineKan.EventKey(),
                new OnlineKan.LabelKey(),
                Types.STRING);
    }

    static OnlineKanOperator operator(
            KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> harness) {
        return (OnlineKanOperator) harness.getOperator();
    }

    /** A binary stream: class 1 inside a circle whose radius differs per key. */
    static Event labeled(SplittableRandom random, int n, String key) {
        float a = (float) (random.nextDouble() * 2 - 1);
        float b = (float) (random.nextDouble() * 2 - 1);
        double radius = key.equals("k0") ? 0.5 : 0.7;
        double label = Math.hypot(a, b) < radius ? 1 : 0;
        return new Event("e-" + key + "-" + n, key, 1_000L + n, new float[] {a, b}, label);
    }

    /** Labeled events {@code from} to {@code to} (exclusive), keys k0, k1, k2 in turn. */
    static List<Event> labeledEvents(SplittableRandom random, int from, int to) {
        List<Event> events = new ArrayList<>();
        for (int i = from; i < to; i++) {
            events.add(labeled(random, i, "k" + (i % 3)));
        }
        return events;
    }

    static List<Score> scores(
            KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> h) {
        List<Score> scores = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof Score s) {
                scores.add(s);
            }
        }
        return scores;
    }

    static List<Metric> metrics(
            KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> h) {
        List<Metric> metrics = new ArrayList<>();
        var side = h.getSideOutput(OnlineKan.METRICS);
        if (side != null) {
            for (StreamRecord<Metric> r : side) {
                metrics.add(r.getValue());
            }
        }
        return metrics;
    }

    @Test
    void scoresEveryEventAtOnceAndLearnsFromLabelsPrequentially() throws Exception {
        try (var h = harness(config(Task.BINARY).build())) {
            h.open();
            SplittableRandom random = new SplittableRandom(1);
            int n = 1200;
            for (int i = 0; i < n; i++) {
                h.processElement1(labeled(random, i, "k" + (i % 2)), 1_000L + i);
            }
            List<Score> scores = scores(h);
            assertThat(scores).hasSize(n);
            assertThat(scores.stream().map(Score::id).distinct().count()).isEqualTo(n);
            assertThat(scores.get(n - 1).modelVersion())
                    .isGreaterThan(scores.get(0).modelVersion());
            List<Metric> metrics = metrics(h);
            for (String key : List.of("k0", "k1")) {
                List<Metric> own = metrics.stream().filter(m -> m.key().equals(key)).toList();
                assertThat(own).hasSizeGreaterThanOrEqualTo(10);
                Metric first = own.get(0);
                Metric last = own.get(own.size() - 1);
                assertThat(last.steps()).isEqualTo(last.labeled() / 8);
                assertThat(last.loss()).as("%s prequential loss", key).isLessThan(first.loss());
                assertThat(last.metricValue()).as("%s accuracy", key).isGreaterThan(0.85);
                assertThat(last.gridEpoch()).as("%s refits", key).isGreaterThanOrEqualTo(1);
            }
        }
    }

    @Test
    void atTheEndOfInputEveryKeyReportsTheLabelsSinceItsLastRecord() throws Exception {
        var h = harness(config(Task.BINARY).build()); // metrics every 50 labels, batches of 8
        h.open();
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 50; i++) {
            h.processElement1(labeled(random, i, "even"), 1_000L + i);
        }
        for (int i = 0; i < 70; i++) {
            h.processElement1(labeled(random, 100 + i, "past"), 2_000L + i); // event time 1,100 + i
        }
        assertThat(metrics(h)).extracting(Metric::key).containsExactly("even", "past");
        h.endInput1();
        h.endInput2();
        h.close(); // finish(): the end of input
        List<Metric> metrics = metrics(h);
        assertThat(metrics).extracting(Metric::key).containsExactly("even", "past", "past");
        Metric last = metrics.get(2);
        assertThat(last.labeled()).isEqualTo(70);
        assertThat(last.steps()).isEqualTo(70 / 8);
        assertThat(last.metricSamples()).isEqualTo(20);
        assertThat(last.ts()).isEqualTo(1_169L); // the latest label's event time in the subtask
        assertThat(last.drift()).isFalse();
    }

    @Test
    void aMulticlassScoreCarriesEveryClassProbabilityAndOnlyMulticlassDoes() throws Exception {
        try (var h = harness(config(Task.MULTICLASS).build());
                var binary = harness(config(Task.BINARY).build())) {
            h.open();
            binary.open();
            SplittableRandom random = new SplittableRandom(3);
            for (int i = 0; i < 600; i++) {
                float a = (float) (random.nextDouble() * 2 - 1);
                float b = (float) (random.nextDouble() * 2 - 1);
                double label = a < -0.3 ? 0 : b < 0 ? 1 : 2;
                h.processElement1(
                        new Event("e-" + i, "k" + (i % 2), 1_000L + i, new float[] {a, b}, label),
                        1_000L + i);
                binary.processElement1(labeled(random, i, "k0"), 1_000L + i);
            }
            List<Score> scores = scores(h);
            assertThat(scores).hasSize(600);
            for (Score s : scores) {
                double[] p = s.probabilities();
                assertThat(p).as("probabilities of %s", s.id()).hasSize(3);
                assertThat(Arrays.stream(p).sum()).isCloseTo(1, within(1e-9));
                int best = 0;
                for (int c = 1; c < 3; c++) {
                    best = p[c] > p[best] ? c : best;
                }
                assertThat(s.prediction()).as("class of %s", s.id()).isEqualTo(best);
                assertThat(s.score()).isEqualTo(p[best]);
            }
            // learned: late scores put more than half their mass on some class
            assertThat(scores.get(599).score()).isGreaterThan(0.5);
            assertThat(scores(binary)).allSatisfy(s -> assertThat(s.probabilities()).isNull());
        }
    }

    @Test
    void restoredOperatorProducesIdenticalOutputsToTheOriginal() throws Exception {
        OnlineKanConfig config = config(Task.BINARY).build();
        SplittableRandom random = new SplittableRandom(2);
        List<Event> before = labeledEvents(random, 0, 300);
        List<Event> after = labeledEvents(random, 300, 600);
        OperatorSubtaskState snapshot;
        List<Score> originalScores;
        try (var original = harness(config)) {
            original.open();
            feed(original, before);
            original.processElement1(
                    new Event("pending", "k1", 2_000L, new float[] {0.1f, 0.2f}), 2_000L);
            snapshot = original.snapshot(1L, 2_000L);
            original.getOutput().clear();
            feed(original, after);
            original.processElement2(new Label("pending", "k1", 1, 3_000L), 3_000L);
            originalScores = scores(original);
        }
        try (var restored = harness(config)) {
            restored.initializeState(snapshot);
            restored.open();
            feed(restored, after);
            restored.processElement2(new Label("pending", "k1", 1, 3_000L), 3_000L);
            assertSameScores(scores(restored), originalScores);
            assertThat(operator(restored).awaitingInState()).isZero();
        }
    }

    /**
     * On the heap backend the operator changes a key's model and progress in place, the objects its
     * state holds. A checkpoint's asynchronous part that runs after later events have changed every
     * key must still hold the state of its barrier (the backend copies an object a running snapshot
     * holds before a read hands it out): restored, it gives what a checkpoint taken at once gives.
     * A learner kept across inputs outside state fails this.
     */
    @Test
    void aHeapCheckpointWrittenAfterLaterEventsHoldsTheStateOfItsBarrier() throws Exception {
        OnlineKanConfig config = config(Task.BINARY).build();
        SplittableRandom random = new SplittableRandom(4);
        List<Event> before = labeledEvents(random, 0, 300);
        List<Event> after = labeledEvents(random, 300, 600);
        OperatorSubtaskState atOnce;
        try (var h = harness(config)) {
            h.open();
            feed(h, before);
            atOnce = h.snapshot(1L, 2_000L);
        }
        OperatorSubtaskState deferred;
        try (var h = harness(config)) {
            h.open();
            feed(h, before);
            h.prepareSnapshotPreBarrier(1L);
            CheckpointStreamFactory storage =
                    new JobManagerCheckpointStorage()
                            .createCheckpointStorage(new JobID())
                            .resolveCheckpointStorageLocation(
                                    1L, CheckpointStorageLocationReference.getDefault());
            OperatorSnapshotFutures futures =
                    h.getOperator()
                            .snapshotState(
                                    1L,
                                    2_000L,
                                    CheckpointOptions.forCheckpointWithDefaultLocation(),
                                    storage);
            // every key scores and steps before the snapshot's asynchronous part writes it
            feed(h, after);
            deferred = OperatorSnapshotFinalizer.create(futures).getJobManagerOwnedState();
        }
        List<Score> expected = replay(config, atOnce, after);
        assertThat(expected).hasSameSizeAs(after);
        assertSameScores(replay(config, deferred, after), expected);
    }

    /** Each event to the operator at its own time. */
    private static void feed(
            KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> h,
            List<Event> events)
            throws Exception {
        for (Event e : events) {
            h.processElement1(e, e.ts());
        }
    }

    /** The same scores, event by event, from the same models (versions and grids). */
    private static void assertSameScores(List<Score> actual, List<Score> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            Score a = expected.get(i);
            Score b = actual.get(i);
            assertThat(b.id()).isEqualTo(a.id());
            assertThat(b.score()).as("score of %s", a.id()).isEqualTo(a.score());
            assertThat(b.modelVersion()).as("model of %s", a.id()).isEqualTo(a.modelVersion());
            assertThat(b.gridEpoch()).as("grid of %s", a.id()).isEqualTo(a.gridEpoch());
        }
    }

    /** The scores of {@code events} after a restore from {@code state}. */
    private static List<Score> replay(
            OnlineKanConfig config, OperatorSubtaskState state, List<Event> events)
            throws Exception {
        try (var h = harness(config)) {
            h.initializeState(state);
            h.open();
            feed(h, events);
            return scores(h);
        }
    }

    @Test
    void onRocksDbEveryAccessRoundTripsTheModelAndTheOutputsMatchTheHeap() throws Exception {
        SplittableRandom random = new SplittableRandom(4);
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            events.add(labeled(random, i, "k" + (i % 3)));
        }
        List<List<Score>> runs = new ArrayList<>();
        for (boolean rocks : new boolean[] {false, true}) {
            try (var h = harness(config(Task.BINARY).build())) {
                if (rocks) {
                    h.setStateBackend(new EmbeddedRocksDBStateBackend());
                }
                h.open();
                feed(h, events);
                runs.add(scores(h));
                assertThat(operator(h).modelsInState(false)).isEqualTo(3);
            }
        }
        assertSameScores(runs.get(1), runs.get(0));
        assertThat(runs.get(0).get(runs.get(0).size() - 1).modelVersion()).isPositive();
    }

    /** A harness of a one-input operator keyed by model key, on RocksDB or on the heap. */
    static KeyedOneInputStreamOperatorTestHarness<String, Event, Object> keyedHarness(
            OneInputStreamOperator<Event, Object> operator, boolean rocks) throws Exception {
        var h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        operator, new OnlineKan.EventKey(), Types.STRING);
        if (rocks) {
            h.setStateBackend(new EmbeddedRocksDBStateBackend());
        }
        return h;
    }

    /**
     * The checkpoint a writer of some earlier state layout takes after it saw {@code events}, each
     * at its own time (a checkpoint restores only into the backend that wrote it).
     */
    static OperatorSubtaskState checkpointOf(
            OneInputStreamOperator<Event, Object> writer, boolean rocks, List<Event> events)
            throws Exception {
        try (var h = keyedHarness(writer, rocks)) {
            h.open();
            for (Event e : events) {
                h.processElement(e, e.ts());
            }
            return h.snapshot(1L, 20L);
        }
    }

    /**
     * What the operator kept before models were typed state: each key's model as codec bytes in
     * {@code byte[]} state, beside its progress.
     */
    static final class LegacyStateWriter extends AbstractStreamOperator<Object>
            implements OneInputStreamOperator<Event, Object> {
        private transient ValueState<byte[]> model;
        private transient ValueState<KeyProgress> progress;

        @Override
        public void initializeState(StateInitializationContext context) throws Exception {
            super.initializeState(context);
            model = getKeyedStateStore().getState(OnlineKanOperator.legacyModelStateDescriptor());
            progress = getKeyedStateStore().getState(OnlineKanOperator.progressStateDescriptor());
        }

        @Override
        public void processElement(StreamRecord<Event> record) throws Exception {
            Event e = record.getValue();
            model.update(LearnerStateCodec.encode(LearnerSerializerTest.trained(e.ts())));
            KeyProgress p = new KeyProgress(2, 8);
            p.events = 7;
            p.lastSeen = e.ts();
            progress.update(p);
        }
    }

    @Test
    void modelsSavedAsBytesMoveIntoTypedStateOnRestoreAndGoOnFromWhereTheyWere() throws Exception {
        List<String> keys = List.of("a", "b", "c");
        // a checkpoint (not a savepoint) restores only into the backend that wrote it
        for (boolean rocks : new boolean[] {false, true}) {
            List<Event> written = new ArrayList<>();
            for (int k = 0; k < keys.size(); k++) {
                written.add(new Event("w" + k, keys.get(k), 10 + k, new float[] {0, 0}));
            }
            OperatorSubtaskState legacy = checkpointOf(new LegacyStateWriter(), rocks, written);
            // each key's restored model alone, as it scored when saved
            try (var h = harness(config(Task.REGRESSION).population(false).build())) {
                if (rocks) {
                    h.setStateBackend(new EmbeddedRocksDBStateBackend());
                }
                h.initializeState(legacy);
                h.open();
                OnlineKanOperator op = operator(h);
                assertThat(op.modelsInState(true)).as("legacy models left").isZero();
                assertThat(op.modelsInState(false)).isEqualTo(keys.size());
                assertThat(op.keysInState()).isEqualTo(keys.size());
                float[] probe = {0.3f, -0.6f};
                for (int k = 0; k < keys.size(); k++) {
                    KanLearner saved = LearnerSerializerTest.trained(10 + k);
                    h.processElement1(new Event("p" + k, keys.get(k), 30, probe), 30);
                    Score s = scores(h).get(k);
                    assertThat(s.score()).isEqualTo(saved.score(probe, 1)[0]);
                    assertThat(s.modelVersion()).isEqualTo(saved.modelVersion()).isPositive();
                }
                // and it keeps learning: the restored counters go on, a full batch steps it
                for (int i = 0; i < 8; i++) {
                    h.processElement1(
                            new Event("l" + i, "a", 40 + i, new float[] {0.1f * i, 0.2f}, 0.5),
                            40 + i);
                }
                h.processElement1(new Event("last", "a", 60, probe), 60);
                List<Score> all = scores(h);
                assertThat(all.get(all.size() - 1).modelVersion())
                        .isEqualTo(LearnerSerializerTest.trained(10).modelVersion() + 1);
                // a snapshot now holds typed models only, and restores as such
                OperatorSubtaskState typed = h.snapshot(2L, 70L);
                try (var again = harness(config(Task.REGRESSION).population(false).build())) {
                    if (rocks) {
                        again.setStateBackend(new EmbeddedRocksDBStateBackend());
                    }
                    again.initializeState(typed);
                    again.open();
                    assertThat(operator(again).modelsInState(true)).isZero();
                    assertThat(operator(again).modelsInState(false)).isEqualTo(keys.size());
                    again.processElement1(new Event("again", "a", 80, probe), 80);
                    assertThat(scores(again).get(0).score())
                            .isEqualTo(all.get(all.size() - 1).score());
                }
            }
        }
    }

    @Test
    void delayedLabelsTrainTheModelAndLabelsThatNeverComeExpire() throws Exception {
        OnlineKanConfig config = config(Task.REGRESSION).labelTtl(Duration.ofSeconds(10)).build();
        try (var h = harness(config)) {
            h.setProcessingTime(0);
            h.open();
            for (int i = 0; i < 40; i++) {
                h.processElement1(new Event("u" + i, "k", i, new float[] {i / 40f, 0.5f}), i);
            }
            // a label may also come before its event
            h.processElement2(new Label("early", "k", 0.25, 41), 41);
            h.processElement1(new Event("early", "k", 42, new float[] {0.3f, 0.1f}), 42);
            for (int i = 0; i < 23; i++) {
                h.processElement2(new Label("u" + i, "k", i / 40.0, 50 + i), 50 + i);
            }
            assertThat(scores(h)).hasSize(41);
            assertThat(operator(h).awaitingInState()).isEqualTo(17);
            h.setProcessingTime(11_000);
            assertThat(operator(h).awaitingInState()).isZero();
            assertThat(operator(h).expiredAwaiting()).isEqualTo(17);
            h.processElement1(new Event("probe", "k", 100, new float[] {0.5f, 0.5f}), 100);
            Score probe = scores(h).get(scores(h).size() - 1);
            // 24 labeled examples (23 late labels and one early), batches of 8: 3 steps
            assertThat(probe.modelVersion()).isEqualTo(3);
        }
    }

    @Test
    void aPartialBatchIsLearnedFromWhenItsTimeoutFires() throws Exception {
        OnlineKanConfig config =
                config(Task.REGRESSION).batchTimeout(Duration.ofMillis(500)).build();
        try (var h = harness(config)) {
            h.setProcessingTime(0);
            h.open();
            for (int i = 0; i < 3; i++) {
                h.processElement1(new Event("e" + i, "k", i, new float[] {i, 1}, 0.5 * i), i);
            }
            h.setProcessingTime(600);
            h.processElement1(new Event("probe", "k", 9, new float[] {0, 0}), 9);
            assertThat(scores(h).get(3).modelVersion()).isEqualTo(1);
        }
    }

    @Test
    void liveKeysStayBoundedAndIdleKeysExpireWithEvictionsCounted() throws Exception {
        OnlineKanConfig config =
                config(Task.REGRESSION).maxLiveKeys(5).idleKeyTtl(Duration.ofSeconds(60)).build();
        try (var h = harness(config)) {
            h.setProcessingTime(0);
            h.open();
            for (int i = 0; i < 50; i++) {
                h.processElement1(
                        new Event("e" + i, "key-" + i, i, new float[] {0.1f, 0.2f}, 1.0), i);
            }
            OnlineKanOperator op = operator(h);
            assertThat(op.keysInState()).isEqualTo(5);
            assertThat(op.evictions()).isEqualTo(45);
            assertThat(scores(h)).hasSize(50);
            h.setProcessingTime(120_000);
            assertThat(op.keysInState()).isZero();
            assertThat(op.idleExpirations()).isEqualTo(5);
        }
    }

    /**
     * Idle checks are coalesced per ttl/8 and a key registers each one once: inputs in the same
     * step share it, and an input in a later step still gets its own, so the key expires a ttl
     * after its last input, not after its first.
     */
    @Test
    void aKeySeenAgainInALaterIdleStepExpiresAfterItsLastInput() throws Exception {
        OnlineKanConfig config = config(Task.REGRESSION).idleKeyTtl(Duration.ofSeconds(60)).build();
        try (var h = harness(config)) {
            h.setProcessingTime(0);
            h.open();
            for (long t : new long[] {100, 200, 7_600}) { // checks at 67.5 s, 67.5 s, 75 s
                h.setProcessingTime(t);
                h.processElement1(new Event("e" + t, "k", t, new float[] {0.1f, 0.2f}, 1.0), t);
            }
            OnlineKanOperator op = operator(h);
            h.setProcessingTime(67_500);
            assertThat(op.keysInState()).isEqualTo(1);
            h.setProcessingTime(75_000);
            assertThat(op.keysInState()).isZero();
            assertThat(op.idleExpirations()).isEqualTo(1);
        }
    }

    /**
     * Without bundles, and with bundles as large as the live keys allow (evictions in a bundle).
     */
    @ParameterizedTest(name = "bundle size {0}")
    @ValueSource(ints = {0, 10})
    void tenTimesMoreKeysThanMayLiveLeaveStateAndTimersBoundedByTheLiveOnes(int bundleSize)
            throws Exception {
        int maxLive = 10;
        OnlineKanConfig config =
                config(Task.REGRESSION, DEFAULT_AVERAGE)
                        .maxLiveKeys(maxLive)
                        .idleKeyTtl(Duration.ofHours(1))
                        .batchTimeout(Duration.ofSeconds(5))
                        .labelTtl(Duration.ofMinutes(10))
                        .bundle(bundleSize, Duration.ofSeconds(1))
                        .build();
        try (var h = harness(config)) {
            h.setProcessingTime(0);
            h.open();
            for (int i = 0; i < 10 * maxLive; i++) {
                String key = "key-" + i;
                // spread over time, so each key's idle, batch and label timers differ
                h.setProcessingTime(i * 997L);
                // a labeled event leaves a partial batch and its deadline timer, an unlabeled one
                // waits for its label with a TTL timer, and the key gets an idle timer
                h.processElement1(new Event("l" + i, key, i, new float[] {0.1f, 0.2f}, 1.0), i);
                h.processElement1(new Event("u" + i, key, i, new float[] {0.3f, 0.4f}, null), i);
            }
            h.prepareSnapshotPreBarrier(1); // the last bundle, if any
            OnlineKanOperator op = operator(h);
            assertThat(scores(h)).hasSize(20 * maxLive);
            assertThat(op.keysInState()).isEqualTo(maxLive);
            assertThat(op.evictions()).isEqualTo(9L * maxLive);
            // per live key: model, progress, one waiting event, and without bundles the two losses
            // of the model the keys share; timers: idle, batch, label
            int perKey = config.sharesModel(bundleSize) ? 4 : 3;
            assertThat(h.numKeyedStateEntries()).isLessThanOrEqualTo(perKey * maxLive);
            assertThat(h.numProcessingTimeTimers()).isLessThanOrEqualTo(3 * maxLive);
            assertThat(h.numProcessingTimeTimers()).isGreaterThanOrEqualTo(maxLive);
        }
    }

    @Test
    void aLabelTheTaskCannotTakeGoesToTheDeadLettersWithItsReason() throws Exception {
        try (var h = harness(config(Task.BINARY).build())) {
            h.open();
            h.processElement1(new Event("bad", "k", 1, new float[] {0.1f, 0.2f}, 7.0), 1);
            assertThat(scores(h)).hasSize(1);
            var dead = h.getSideOutput(OnlineKan.DEAD_LETTERS);
            assertThat(dead).hasSize(1);
            assertThat(dead.peek().getValue().reason()).contains("bad", "binary labels are 0 or 1");
        }
    }
}
