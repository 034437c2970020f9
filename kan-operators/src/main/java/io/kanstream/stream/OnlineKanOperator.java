package io.kanstream.stream;

import io.kanstream.eval.PrequentialWindow;
import io.kanstream.eval.Target;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.StepResult;
import io.kanstream.kan.Task;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The keyed online-learning operator: one KAN learner per model key, as Flink keyed state.
 *
 * <p>Input 1 is events, input 2 is labels that arrive later, both keyed by model key. For every
 * event it emits a {@link Score} at once; a labeled example is scored first and then learned from
 * (prequential). Examples collect in a mini-batch that is learned from when full or when its
 * timeout fires; grids are refit by the {@link io.kanstream.kan.RefitPolicy}. Per-key {@link
 * Metric}s go to {@link OnlineKan#METRICS}, labels the task cannot accept to {@link
 * OnlineKan#DEAD_LETTERS}.
 *
 * <p>State per key: the model ({@link LearnerStateCodec} bytes), its progress ({@link
 * KeyProgressSerializer}: pending batch, counters, metric window), and events and labels waiting
 * for each other ({@link AwaitingSerializer}). Decoded models stay resident in a bounded cache. A
 * model that changed (a step, a refit, a boost, a new key) is marked dirty and encoded into its
 * state when a checkpoint or savepoint is taken ({@link #snapshotState}) or when it leaves the
 * cache, whichever comes first: once per checkpoint interval instead of after every step, with the
 * same bytes in every snapshot.
 *
 * <p>State stays bounded: at most {@code maxLiveKeys} keys per subtask (a new key evicts the least
 * recently seen), keys idle for {@code idleKeyTtl} are dropped, waiting entries expire after {@code
 * labelTtl}; all counted.
 */
public class OnlineKanOperator extends AbstractStreamOperator<Score>
        implements TwoInputStreamOperator<Event, Label, Score>, Triggerable<String, VoidNamespace> {
    private static final long serialVersionUID = 1L;
    static final String MODEL_STATE = "kan-model";
    static final String PROGRESS_STATE = "kan-progress";
    static final String AWAITING_STATE = "kan-awaiting";

    private final OnlineKanConfig config;

    private transient ValueState<byte[]> model;
    private transient ValueState<KeyProgress> progress;
    private transient MapState<String, Awaiting> awaiting;
    private transient InternalTimerService<VoidNamespace> timers;
    private transient LinkedHashMap<String, KanLearner> resident; // access order
    private transient Set<String> dirty; // resident models newer than their state
    private transient LinkedHashMap<String, Long> live; // access order, key -> last seen
    private transient Counters counters;

    public OnlineKanOperator(OnlineKanConfig config) {
        this.config = config;
    }

    /** Subtask-level Flink metrics; per-key figures go to the metrics side output instead. */
    private static final class Counters {
        Counter events;
        Counter labeled;
        Counter steps;
        Counter skippedSteps;
        Counter refits;
        Counter evictions;
        Counter idleExpirations;
        Counter expiredAwaiting;
        Counter rejectedLabels;
        Counter drifts;
    }

    /**
     * The model state: {@link LearnerStateCodec} bytes per key. The one definition of its name and
     * serializer: the operator, {@code kanstream models} and {@code kanstream bootstrap} all take
     * it from here, so a savepoint written or read outside the job matches the job's.
     */
    public static ValueStateDescriptor<byte[]> modelStateDescriptor() {
        return new ValueStateDescriptor<>(MODEL_STATE, BytePrimitiveArraySerializer.INSTANCE);
    }

    /** The per-key progress state (counters, pending batch, metric window); see the model's. */
    public static ValueStateDescriptor<KeyProgress> progressStateDescriptor() {
        return new ValueStateDescriptor<>(PROGRESS_STATE, KeyProgressSerializer.INSTANCE);
    }

    /** Events and labels waiting for each other, by event id; see the model's. */
    static MapStateDescriptor<String, Awaiting> awaitingStateDescriptor() {
        return new MapStateDescriptor<>(
                AWAITING_STATE, StringSerializer.INSTANCE, AwaitingSerializer.INSTANCE);
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        model = getKeyedStateStore().getState(modelStateDescriptor());
        progress = getKeyedStateStore().getState(progressStateDescriptor());
        awaiting = getKeyedStateStore().getMapState(awaitingStateDescriptor());
    }

    @Override
    public void open() throws Exception {
        super.open();
        timers = getInternalTimerService("kan-timers", VoidNamespaceSerializer.INSTANCE, this);
        resident = new LinkedHashMap<>(16, 0.75f, true);
        dirty = new HashSet<>();
        live = new LinkedHashMap<>(16, 0.75f, true);
        counters = new Counters();
        var group = getMetricGroup();
        counters.events = group.counter("kanEvents");
        counters.labeled = group.counter("kanLabeled");
        counters.steps = group.counter("kanSteps");
        counters.skippedSteps = group.counter("kanSkippedSteps");
        counters.refits = group.counter("kanRefits");
        counters.evictions = group.counter("kanEvictions");
        counters.idleExpirations = group.counter("kanIdleExpirations");
        counters.expiredAwaiting = group.counter("kanExpiredAwaiting");
        counters.rejectedLabels = group.counter("kanRejectedLabels");
        counters.drifts = group.counter("kanDrifts");
        group.gauge("kanLiveKeys", () -> live.size());
        group.gauge("kanResidentModels", () -> resident.size());
        rebuildLiveKeys();
    }

    /** After a restore (or rescale) the live-key set is whatever keys this subtask now holds. */
    private void rebuildLiveKeys() throws Exception {
        List<String> keys = new ArrayList<>();
        try (var stream = getKeyedStateBackend().getKeys(PROGRESS_STATE, VoidNamespace.INSTANCE)) {
            stream.forEach(key -> keys.add((String) key));
        }
        List<Map.Entry<String, Long>> seen = new ArrayList<>();
        for (String key : keys) {
            setCurrentKey(key);
            KeyProgress p = progress.value();
            if (p != null) {
                seen.add(Map.entry(key, p.lastSeen));
            }
        }
        seen.sort(Map.Entry.comparingByValue());
        for (Map.Entry<String, Long> entry : seen) {
            live.put(entry.getKey(), entry.getValue());
        }
    }

    @Override
    public void processElement1(StreamRecord<Event> record) throws Exception {
        long started = System.nanoTime();
        Event event = record.getValue();
        String key = currentKey();
        long now = getProcessingTimeService().getCurrentProcessingTime();
        KeyProgress p = touch(key, now);
        KanLearner learner = learner(key);
        float[] features = event.features();
        float[] outputs = learner.score(features, 1);
        dirty.add(key); // scoring feeds the model's input summaries
        Task task = learner.config().task();
        p.events++;
        counters.events.inc();
        double latencyMs = (System.nanoTime() - started) / 1e6;
        output.collect(
                timestamped(
                        new Score(
                                event.id(),
                                key,
                                event.ts(),
                                task.score(outputs, 0, outputs.length),
                                task.prediction(outputs, 0, outputs.length),
                                learner.modelVersion(),
                                learner.gridEpoch(),
                                latencyMs),
                        record));
        if (event.label() != null) {
            learnFrom(
                    key, p, learner, features, outputs, event.label(), event.ts(), now, event.id());
        } else {
            Awaiting early = awaiting.get(event.id());
            if (early != null && !early.isEvent()) {
                awaiting.remove(event.id());
                p.awaitingCount--;
                learnFrom(
                        key,
                        p,
                        learner,
                        features,
                        outputs,
                        early.label(),
                        event.ts(),
                        now,
                        event.id());
            } else if (early == null) {
                await(
                        p,
                        event.id(),
                        Awaiting.event(features, outputs, now + config.labelTtl().toMillis()));
            }
        }
        progress.update(p);
    }

    @Override
    public void processElement2(StreamRecord<Label> record) throws Exception {
        Label label = record.getValue();
        String key = currentKey();
        long now = getProcessingTimeService().getCurrentProcessingTime();
        KeyProgress p = touch(key, now);
        Awaiting waiting = awaiting.get(label.id());
        if (waiting != null && waiting.isEvent()) {
            awaiting.remove(label.id());
            p.awaitingCount--;
            KanLearner learner = learner(key);
            learnFrom(
                    key,
                    p,
                    learner,
                    waiting.features(),
                    waiting.outputs(),
                    label.label(),
                    label.ts(),
                    now,
                    label.id());
        } else if (waiting == null) {
            // the label came first: keep it until its event arrives, or it expires
            await(p, label.id(), Awaiting.label(label.label(), now + config.labelTtl().toMillis()));
        }
        progress.update(p);
    }

    /** The rejected label as the labels topic would carry it (parsed labels are finite). */
    private static String rejectedLabelJson(String id, String key, double label, long ts) {
        if (!Double.isFinite(label)) {
            return null;
        }
        return new String(
                EventCodec.writeLabel(new Label(id, key, label, ts)),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    private void await(KeyProgress p, String id, Awaiting entry) throws Exception {
        if (p.awaitingCount >= config.maxAwaitingPerKey()) {
            p.awaitingDropped++;
            return;
        }
        awaiting.put(id, entry);
        p.awaitingCount++;
        timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, labelTimer(entry));
    }

    private void learnFrom(
            String key,
            KeyProgress p,
            KanLearner learner,
            float[] features,
            float[] outputs,
            double label,
            long ts,
            long now,
            String id)
            throws Exception {
        Task task = learner.config().task();
        try {
            task.checkLabel(label, outputs.length, 0);
        } catch (IllegalArgumentException e) {
            counters.rejectedLabels.inc();
            output.collect(
                    OnlineKan.DEAD_LETTERS,
                    new StreamRecord<>(
                            new DeadLetter(
                                    "label of event "
                                            + id
                                            + " for key "
                                            + key
                                            + " rejected: "
                                            + e.getMessage().replace("of row 0 ", ""),
                                    rejectedLabelJson(id, key, label, ts),
                                    null,
                                    -1,
                                    -1L),
                            ts));
            return;
        }
        p.labeled++;
        counters.labeled.inc();
        p.evaluate(task, outputs, label);
        boolean drifted = watchForDrift(p, learner, outputs, label);
        if (p.add(features, label)) {
            step(key, p, learner);
        } else if (!config.batchTimeout().isZero() && p.batchDeadline == 0) {
            p.batchDeadline = now + config.batchTimeout().toMillis();
            timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, p.batchDeadline);
        }
        if (drifted) {
            adapt(p, learner);
        }
        if (drifted || p.window.count() >= config.metricsEvery()) {
            emitMetric(key, p, learner, ts, drifted);
        }
    }

    /** Feeds the example's error to the key's detector; true on an upward change. */
    private boolean watchForDrift(
            KeyProgress p, KanLearner learner, float[] outputs, double label) {
        if (p.detector == null) {
            return false;
        }
        Task task = learner.config().task();
        double error =
                task == Task.REGRESSION
                        ? Math.min(1, Math.abs(outputs[0] - label) / (3 * learner.labelScale()))
                        : task.prediction(outputs, 0, outputs.length) == label ? 0 : 1;
        if (p.detector.add(error) && p.detector.lastChangeWasIncrease()) {
            p.drifts++;
            counters.drifts.inc();
            return true;
        }
        return false;
    }

    private void adapt(KeyProgress p, KanLearner learner) throws Exception {
        boolean changed = false;
        if (config.driftAction().refits() && learner.examplesSinceRefit() > 0) {
            learner.refitFromStatistics();
            counters.refits.inc();
            changed = true;
        }
        if (config.driftAction().boosts()) {
            learner.boostLearningRate(config.boostFactor(), config.boostSteps());
            changed = true;
        }
        if (config.driftAction().resets()) {
            learner.resetMomentum();
            changed = true;
        }
        if (config.driftAction().restarts()) {
            learner.restartOptimizer();
            changed = true;
        }
        if (changed) {
            dirty.add(currentKey());
        }
    }

    private void step(String key, KeyProgress p, KanLearner learner) throws Exception {
        StepResult result = learner.learn(p.takeRows(learner.inputs()), p.takeLabels());
        p.clearBatch();
        if (result.applied()) {
            counters.steps.inc();
        } else {
            counters.skippedSteps.inc();
        }
        if (learner.refitIfDue(config.refitPolicy()) != null) {
            counters.refits.inc();
        }
        dirty.add(key);
    }

    private void emitMetric(String key, KeyProgress p, KanLearner learner, long ts, boolean drift) {
        PrequentialWindow window = p.window;
        if (window.count() == 0) {
            return;
        }
        Task task = learner.config().task();
        Target target = KeyProgress.target(task, learner.outputs());
        output.collect(
                OnlineKan.METRICS,
                new StreamRecord<>(
                        new Metric(
                                key,
                                ts,
                                p.events,
                                p.labeled,
                                learner.steps(),
                                learner.skippedSteps(),
                                window.meanLoss(),
                                target.isClassification() ? Metric.ACCURACY : Metric.RMSE,
                                window.value(target),
                                window.referenceValue(target),
                                window.count(),
                                learner.gridEpoch(),
                                learner.rejectedRefits(),
                                p.awaitingDropped,
                                drift),
                        ts));
        window.clear();
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        String key = timer.getKey();
        long now = timer.getTimestamp();
        KeyProgress p = progress.value();
        if (p == null) {
            return; // evicted or expired meanwhile
        }
        if (!config.idleKeyTtl().isZero() && now - p.lastSeen >= config.idleKeyTtl().toMillis()) {
            clearKey(key, now);
            counters.idleExpirations.inc();
            return;
        }
        if (p.batchCount > 0 && p.batchDeadline > 0 && now >= p.batchDeadline) {
            step(key, p, learner(key));
        }
        if (p.awaitingCount > 0) {
            Iterator<Map.Entry<String, Awaiting>> entries = awaiting.iterator();
            while (entries.hasNext()) {
                Awaiting entry = entries.next().getValue();
                if (entry.expiresAt() <= now) {
                    if (entry.isEvent()) {
                        p.awaitingDropped++; // its label never came
                    }
                    entries.remove();
                    p.awaitingCount--;
                    counters.expiredAwaiting.inc();
                }
            }
        }
        progress.update(p);
    }

    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) {
        // no event-time timers
    }

    /** Marks the key as seen, making room for it first if it is new; returns its progress. */
    private KeyProgress touch(String key, long now) throws Exception {
        if (!live.containsKey(key)) {
            while (live.size() >= config.maxLiveKeys()) {
                String victim = live.keySet().iterator().next();
                setCurrentKey(victim);
                clearKey(victim, now);
                setCurrentKey(key);
                counters.evictions.inc();
            }
        }
        live.put(key, now);
        KeyProgress p = progress.value();
        if (p == null) {
            p = new KeyProgress(config.model().inputs(), config.batchSize());
            p.detector = config.drift() == null ? null : config.drift().create();
        }
        p.lastSeen = now;
        if (!config.idleKeyTtl().isZero()) {
            timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, idleTimer(now));
        }
        return p;
    }

    /** When a waiting entry's expiry is checked: coalesced per second. */
    private static long labelTimer(Awaiting entry) {
        return roundUp(entry.expiresAt(), 1000);
    }

    /** When the idle check for a key last seen at {@code seen} fires: coalesced per ttl/8. */
    private long idleTimer(long seen) {
        long ttl = config.idleKeyTtl().toMillis();
        return roundUp(seen + ttl, idleTimerStep());
    }

    private long idleTimerStep() {
        return Math.max(1000, config.idleKeyTtl().toMillis() / 8);
    }

    /**
     * Drops everything held for the key in the current key context, its timers included: a dropped
     * key leaves nothing in timer state either, so timers grow with the live keys, not with every
     * key ever seen.
     *
     * @param now the current processing time: timers at or before it have fired or are firing
     */
    private void clearKey(String key, long now) throws Exception {
        KeyProgress p = progress.value();
        if (p != null) {
            if (p.batchDeadline > now) {
                timers.deleteProcessingTimeTimer(VoidNamespace.INSTANCE, p.batchDeadline);
            }
            if (!config.idleKeyTtl().isZero()) {
                // one idle timer per step the key was touched in; deleting a missing one is a no-op
                long step = idleTimerStep();
                for (long t = roundUp(now + 1, step); t <= idleTimer(p.lastSeen); t += step) {
                    timers.deleteProcessingTimeTimer(VoidNamespace.INSTANCE, t);
                }
            }
            if (p.awaitingCount > 0) {
                for (Map.Entry<String, Awaiting> entry : awaiting.entries()) {
                    long t = labelTimer(entry.getValue());
                    if (t > now) {
                        timers.deleteProcessingTimeTimer(VoidNamespace.INSTANCE, t);
                    }
                }
            }
        }
        model.clear();
        progress.clear();
        awaiting.clear();
        live.remove(key);
        dirty.remove(key);
        KanLearner learner = resident.remove(key);
        if (learner != null) {
            learner.close();
        }
    }

    /** The key's model: resident, decoded from state, or new (warm start or fresh). */
    private KanLearner learner(String key) throws Exception {
        KanLearner learner = resident.get(key);
        if (learner != null) {
            return learner;
        }
        byte[] bytes = model.value();
        if (bytes != null) {
            learner = LearnerStateCodec.decode(bytes, config.model().device());
        } else {
            learner =
                    config.warmStart() != null
                            ? LearnerStateCodec.decode(config.warmStart(), config.model().device())
                            : KanLearner.create(config.model());
            dirty.add(key);
        }
        resident.put(key, learner);
        while (resident.size() > config.maxResidentModels()) {
            Iterator<Map.Entry<String, KanLearner>> eldest = resident.entrySet().iterator();
            Map.Entry<String, KanLearner> victim = eldest.next();
            if (dirty.remove(victim.getKey())) {
                setCurrentKey(victim.getKey());
                model.update(LearnerStateCodec.encode(victim.getValue()));
                setCurrentKey(key);
            }
            victim.getValue().close();
            eldest.remove();
        }
        return learner;
    }

    /** Writes every model that changed since its last write into its keyed state. */
    private void flushDirtyModels() throws Exception {
        if (dirty.isEmpty()) {
            return;
        }
        Object current = getCurrentKey();
        for (String key : dirty) {
            setCurrentKey(key);
            model.update(LearnerStateCodec.encode(resident.get(key)));
        }
        dirty.clear();
        if (current != null) {
            setCurrentKey(current);
        }
    }

    /** Runs before the keyed state backend is snapshot: the snapshot sees every model's bytes. */
    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        flushDirtyModels();
        super.snapshotState(context);
    }

    /** Keys holding model progress in this subtask's state backend. */
    long keysInState() throws Exception {
        try (var stream = getKeyedStateBackend().getKeys(PROGRESS_STATE, VoidNamespace.INSTANCE)) {
            return stream.count();
        }
    }

    /** Awaiting entries over all keys of this subtask. */
    long awaitingInState() throws Exception {
        List<String> keys = new ArrayList<>();
        try (var stream = getKeyedStateBackend().getKeys(AWAITING_STATE, VoidNamespace.INSTANCE)) {
            stream.forEach(key -> keys.add((String) key));
        }
        Object current = getCurrentKey();
        long count = 0;
        for (String key : keys) {
            setCurrentKey(key);
            for (var ignored : awaiting.keys()) {
                count++;
            }
        }
        if (current != null) {
            setCurrentKey(current);
        }
        return count;
    }

    long evictions() {
        return counters.evictions.getCount();
    }

    long idleExpirations() {
        return counters.idleExpirations.getCount();
    }

    long expiredAwaiting() {
        return counters.expiredAwaiting.getCount();
    }

    private String currentKey() {
        return (String) getCurrentKey();
    }

    private static long roundUp(long time, long granularity) {
        return (time + granularity - 1) / granularity * granularity;
    }

    private static <T> StreamRecord<T> timestamped(T value, StreamRecord<?> source) {
        return source.hasTimestamp()
                ? new StreamRecord<>(value, source.getTimestamp())
                : new StreamRecord<>(value);
    }

    @Override
    public void close() throws Exception {
        if (resident != null) {
            resident.values().forEach(KanLearner::close);
            resident.clear();
        }
        super.close();
    }
}
