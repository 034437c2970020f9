package io.kanstream.stream;

import ai.djl.Device;
import io.kanstream.eval.PrequentialWindow;
import io.kanstream.eval.Target;
import io.kanstream.kan.DeviceSetting;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.KanLearner;
import io.kanstream.kan.KanPool;
import io.kanstream.kan.LearnerStateCodec;
import io.kanstream.kan.SharedModelMixture;
import io.kanstream.kan.StepResult;
import io.kanstream.kan.Task;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.api.common.typeutils.base.array.DoublePrimitiveArraySerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
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
 * <p>State per key, each described by one factory method here (tools that read or write a savepoint
 * use the same ones): the model, a live {@link KanLearner} ({@link #modelStateDescriptor}, {@link
 * LearnerSerializer}); its progress ({@link #progressStateDescriptor}: pending batch, counters,
 * metric window); and events and labels waiting for each other ({@link #awaitingStateDescriptor}).
 * On the heap backend the learner is the object in state, so an event decodes nothing; on RocksDB
 * every access deserializes and every write serializes it, as Flink does for any value. Every use
 * of a model writes it back ({@code update}): scoring feeds its input summaries, and on the heap
 * backend the write is what keeps copy-on-write snapshots right.
 *
 * <p>Savepoints written before models were typed state hold them as {@link LearnerStateCodec} bytes
 * in {@code byte[]} state ({@link #legacyModelStateDescriptor}). On restore every such model is
 * moved into the typed state when the operator opens, so the event path has one place to look and
 * the first checkpoint after the restore holds no legacy state.
 *
 * <p>State stays bounded: at most {@code maxLiveKeys} keys per subtask (a new key evicts the least
 * recently seen), keys idle for {@code idleKeyTtl} are dropped, waiting entries expire after {@code
 * labelTtl}; all counted.
 */
public class OnlineKanOperator extends AbstractStreamOperator<Score>
        implements TwoInputStreamOperator<Event, Label, Score>, Triggerable<String, VoidNamespace> {
    private static final long serialVersionUID = 1L;

    /** Each key's model, a {@link KanLearner} in {@link LearnerSerializer}'s format. */
    public static final String MODEL_STATE = "kan-learner";

    /** Each key's model as {@link LearnerStateCodec} bytes, as savepoints before typed state. */
    public static final String LEGACY_MODEL_STATE = "kan-model";

    public static final String PROGRESS_STATE = "kan-progress";
    public static final String AWAITING_STATE = "kan-awaiting";

    /** The model a subtask's keys share (operator state). */
    public static final String POPULATION_STATE = "kan-population";

    /**
     * Each key's losses beside the shared model, in savepoints from before they moved into its
     * progress ({@link KeyProgress#sharedLosses()}). Read on restore, never written.
     */
    public static final String LEGACY_LOSSES_STATE = "kan-population-losses";

    private final OnlineKanConfig config;

    private transient ValueState<KanLearner> model;
    private transient ValueState<byte[]> legacyModel;
    private transient ValueState<KeyProgress> progress;
    private transient MapState<String, Awaiting> awaiting;

    /** The latest label time this subtask took in since it opened (0 before any). */
    private transient long latestLabelTs;

    private transient InternalTimerService<VoidNamespace> timers;

    /**
     * The live keys in access order, each with the idle check it registered since this subtask
     * opened (0: none yet, as for every key after a restore): an input whose coalesced idle check
     * is that one skips the timer call, which on RocksDB is a write per input.
     */
    private transient LinkedHashMap<String, Long> live;

    private transient Counters counters;

    /** Where this subtask's models run: learners restored elsewhere are moved here on first use. */
    private transient Device device;

    /** The device setting this subtask decodes and creates models with ({@link #deviceSetting}). */
    private transient String deviceSetting;

    /** The model settings with that device. */
    private transient KanConfig modelConfig;

    /** Inputs collected and not yet processed, in arrival order; never in state (see flush). */
    private transient List<Pending> bundle;

    private transient boolean flushScheduled;

    /** The keys the current flush has read, by key; empty between flushes. */
    private transient LinkedHashMap<String, Open> open;

    /** Where bundled models are scored and stepped together; null when bundles are off. */
    private transient KanPool pool;

    /** Inputs per bundle on this subtask's device; 0 or 1 processes each input at once. */
    private transient int bundleSize;

    /** The model this subtask's keys share ({@link OnlineKanConfig#population}), or null. */
    private transient KanLearner population;

    /** The shared model as of the last checkpoint: one entry per subtask, each with its index. */
    private transient ListState<byte[]> populationState;

    /** The keys' losses beside the shared model as older savepoints hold them; never written. */
    private transient ValueState<double[]> legacyLosses;

    /**
     * True when state hands out copies (RocksDB): the operator then owns every learner it reads and
     * releases its device memory after use. False on the heap, where the learner is the state.
     */
    private transient boolean stateHoldsCopies;

    public OnlineKanOperator(OnlineKanConfig config) {
        this.config = config;
    }

    /**
     * The model state: a live learner per key, decoded onto {@code device} ({@code
     * auto|cpu|gpu[:N]}, the job's setting; never persisted).
     */
    public static ValueStateDescriptor<KanLearner> modelStateDescriptor(String device) {
        return new ValueStateDescriptor<>(MODEL_STATE, new LearnerSerializer(device));
    }

    /**
     * The model state of savepoints written before {@link #modelStateDescriptor}: {@link
     * LearnerStateCodec} bytes (format 1 or 2). Read on restore, never written.
     */
    public static ValueStateDescriptor<byte[]> legacyModelStateDescriptor() {
        return new ValueStateDescriptor<>(
                LEGACY_MODEL_STATE, BytePrimitiveArraySerializer.INSTANCE);
    }

    /** A key's pending batch, counters and metric window. */
    public static ValueStateDescriptor<KeyProgress> progressStateDescriptor() {
        return new ValueStateDescriptor<>(PROGRESS_STATE, KeyProgressSerializer.INSTANCE);
    }

    /**
     * The model a subtask's keys share, as {@link LearnerStateCodec} bytes after the subtask's
     * index (4 bytes): union state, so after a rescale every subtask reads all of them and takes
     * the one of the subtask that held most of its key groups ({@link #restoredPopulation}).
     */
    public static ListStateDescriptor<byte[]> populationStateDescriptor() {
        return new ListStateDescriptor<>(POPULATION_STATE, BytePrimitiveArraySerializer.INSTANCE);
    }

    /**
     * A key's decayed losses of its own model and of the shared one, as savepoints held them before
     * they moved into the key's progress. Read on restore, never written.
     */
    public static ValueStateDescriptor<double[]> legacyLossesDescriptor() {
        return new ValueStateDescriptor<>(
                LEGACY_LOSSES_STATE, DoublePrimitiveArraySerializer.INSTANCE);
    }

    /** Events waiting for their labels and labels waiting for their events, by event id. */
    static MapStateDescriptor<String, Awaiting> awaitingStateDescriptor() {
        return new MapStateDescriptor<>(
                AWAITING_STATE, StringSerializer.INSTANCE, AwaitingSerializer.INSTANCE);
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
        Counter bundles;
    }

    /** An input waiting in the bundle, with its key and when it arrived (for the latency). */
    private record Pending(
            String key, Object value, long timestamp, boolean hasTimestamp, long arrived) {}

    /** A key while a flush works on it: its state, read once, and what its wave left to do. */
    private final class Open {
        final String key;
        final KeyProgress progress;
        KanLearner learner;
        boolean stepDue;
        boolean learned;
        boolean drifted;
        long labelTs;
        // with a shared model, both members' outputs on the event whose label steps them right
        // after: the mixture's charge for that step is their loss on what was scored
        float[] scoredOwn;
        float[] scoredShared;

        Open(String key, KeyProgress progress) {
            this.key = key;
            this.progress = progress;
        }

        /** The key's model, read from state on first use in this flush (current key context). */
        KanLearner learner() {
            if (learner == null) {
                learner = OnlineKanOperator.this.learner();
            }
            return learner;
        }
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        deviceSetting = deviceSetting(config.model().device());
        modelConfig = config.model().toBuilder().device(deviceSetting).build();
        var store = getKeyedStateStore();
        model = store.getState(modelStateDescriptor(deviceSetting));
        legacyModel = store.getState(legacyModelStateDescriptor());
        progress = store.getState(progressStateDescriptor());
        awaiting = store.getMapState(awaitingStateDescriptor());
        legacyLosses = store.getState(legacyLossesDescriptor());
        device = DeviceSetting.resolve(deviceSetting);
        bundleSize = config.bundleSizeOn(device.isGpu());
        if (config.sharesModel(bundleSize)) {
            populationState =
                    context.getOperatorStateStore().getUnionListState(populationStateDescriptor());
            var task = getRuntimeContext().getTaskInfo();
            byte[] model =
                    restoredPopulation(
                            populationState.get(),
                            task.getMaxNumberOfParallelSubtasks(),
                            task.getNumberOfParallelSubtasks(),
                            task.getIndexOfThisSubtask());
            population = model == null ? null : LearnerStateCodec.decode(model, deviceSetting);
        }
    }

    /**
     * This subtask's shared model from the union of every subtask's (one entry each, its index
     * first): the one of the subtask that held most of the key groups this one holds now. With the
     * parallelism unchanged that is its own; after a rescale, most of its keys find the model they
     * were scored with. Null when nothing was restored.
     */
    static byte[] restoredPopulation(
            Iterable<byte[]> entries, int maxParallelism, int parallelism, int subtask) {
        List<byte[]> all = new ArrayList<>();
        entries.forEach(all::add);
        KeyGroupRange mine =
                KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                        maxParallelism, parallelism, subtask);
        byte[] best = null;
        int most = -1;
        for (byte[] entry : all) {
            int index = ByteBuffer.wrap(entry).getInt();
            int overlap =
                    index < all.size()
                            ? mine.getIntersection(
                                            KeyGroupRangeAssignment
                                                    .computeKeyGroupRangeForOperatorIndex(
                                                            maxParallelism, all.size(), index))
                                    .getNumberOfKeyGroups()
                            : 0;
            if (overlap > most) {
                best = Arrays.copyOfRange(entry, 4, entry.length);
                most = overlap;
            }
        }
        return best;
    }

    /**
     * The shared model that scored {@code key} when the state was taken, as {@link
     * LearnerStateCodec} bytes: from the entries of {@link #populationStateDescriptor} (one per
     * subtask of the job that wrote them; a reader may see each more than once), the one of the
     * subtask that held the key's key group. Null when there are none.
     */
    public static byte[] sharedModelOf(Iterable<byte[]> entries, int maxParallelism, String key) {
        Map<Integer, byte[]> bySubtask = new HashMap<>();
        for (byte[] entry : entries) {
            bySubtask.put(ByteBuffer.wrap(entry).getInt(), entry);
        }
        if (bySubtask.isEmpty()) {
            return null;
        }
        byte[] entry =
                bySubtask.get(
                        KeyGroupRangeAssignment.assignKeyToParallelOperator(
                                key, maxParallelism, bySubtask.size()));
        return entry == null ? null : Arrays.copyOfRange(entry, 4, entry.length);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        if (population != null) {
            byte[] model = LearnerStateCodec.encode(population);
            byte[] entry =
                    ByteBuffer.allocate(4 + model.length)
                            .putInt(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask())
                            .put(model)
                            .array();
            populationState.update(List.of(entry));
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        timers = getInternalTimerService("kan-timers", VoidNamespaceSerializer.INSTANCE, this);
        stateHoldsCopies = getKeyedStateBackend().isSafeToReuseKVState();
        live = new LinkedHashMap<>(16, 0.75f, true);
        bundle = new ArrayList<>();
        open = new LinkedHashMap<>();
        if (config.sharesModel(bundleSize) && population == null) {
            population = newLearner();
        }
        if (population != null) {
            // the job's setting, also for a shared model restored from before it (or without it)
            population.companionsAt(config.sharedCompanionRates());
        }
        if (bundleSize > 1) {
            pool = KanPool.open(modelConfig, poolSlots(), deviceSetting);
            LOG.info(
                    "bundles of up to {} inputs or {} ms, a pool of {} slots on {}",
                    bundleSize,
                    config.bundleLatency().toMillis(),
                    pool.capacity(),
                    pool.device());
        }
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
        counters.bundles = group.counter("kanBundles");
        group.gauge("kanLiveKeys", () -> live.size());
        moveLegacyModels();
        moveLegacyLosses();
        rebuildLiveKeys();
    }

    /**
     * Moves every model a restored savepoint holds as bytes ({@link #legacyModelStateDescriptor})
     * into the typed state. Once, at open: one decode per key, which the byte state cost on the
     * key's first event anyway, and afterwards the event path has one state to read.
     */
    private void moveLegacyModels() throws Exception {
        List<String> keys = keysOf(LEGACY_MODEL_STATE);
        int moved = 0;
        for (String key : keys) {
            setCurrentKey(key);
            byte[] bytes = legacyModel.value();
            if (bytes != null) {
                KanLearner learner = LearnerStateCodec.decode(bytes, deviceSetting);
                model.update(learner);
                release(learner);
                legacyModel.clear();
                moved++;
            }
        }
        if (moved > 0) {
            LOG.info(
                    "moved {} models from byte state '{}' to '{}'",
                    moved,
                    LEGACY_MODEL_STATE,
                    MODEL_STATE);
        }
    }

    /**
     * Moves every key's losses beside the shared model that a restored savepoint holds in their own
     * state ({@link #legacyLossesDescriptor}) into the key's progress, once, at open: afterwards an
     * event reads and writes one value fewer. A key whose progress is gone keeps nothing.
     */
    private void moveLegacyLosses() throws Exception {
        int moved = 0;
        for (String key : keysOf(LEGACY_LOSSES_STATE)) {
            setCurrentKey(key);
            double[] losses = legacyLosses.value();
            KeyProgress p = progress.value();
            if (losses != null && p != null) {
                p.sharedLosses = losses;
                progress.update(p);
                moved++;
            }
            legacyLosses.clear();
        }
        if (moved > 0) {
            LOG.info(
                    "moved {} keys' losses beside the shared model from '{}' into '{}'",
                    moved,
                    LEGACY_LOSSES_STATE,
                    PROGRESS_STATE);
        }
    }

    private List<String> keysOf(String state) throws Exception {
        List<String> keys = new ArrayList<>();
        try (var stream = getKeyedStateBackend().getKeys(state, VoidNamespace.INSTANCE)) {
            stream.forEach(key -> keys.add((String) key));
        }
        return keys;
    }

    /**
     * After a restore (or rescale) the live-key set is whatever keys this subtask now holds, least
     * recently seen first; each key's first input registers its idle check again.
     */
    private void rebuildLiveKeys() throws Exception {
        List<String> keys = keysOf(PROGRESS_STATE);
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
            live.put(entry.getKey(), 0L);
        }
    }

    /**
     * The device setting of this subtask: the job's, except that {@code auto} or {@code gpu} on a
     * TaskManager that Flink's external resource framework gave GPUs ({@code gpu} resource) takes
     * one of them, spread over the subtasks by their index.
     */
    private String deviceSetting(String configured) {
        String setting = configured.trim().toLowerCase(java.util.Locale.ROOT);
        if (!setting.equals("auto") && !setting.equals("gpu")) {
            return configured;
        }
        List<Integer> assigned = new ArrayList<>();
        for (var info : getRuntimeContext().getExternalResourceInfos("gpu")) {
            info.getProperty("index").ifPresent(index -> assigned.add(Integer.parseInt(index)));
        }
        if (assigned.isEmpty()) {
            return configured;
        }
        assigned.sort(null);
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        return "gpu:" + assigned.get(subtask % assigned.size());
    }

    /**
     * Slots of the pool: every live key when that is small, else enough for the keys a few bundles
     * touch (least recently used keys leave first).
     */
    private int poolSlots() {
        return Math.min(config.maxLiveKeys(), Math.max(10_000, 4 * bundleSize));
    }

    /**
     * Before the barrier: the bundle is processed, so the snapshot holds every input before it, and
     * the pool's learners are written back and leave it, so an asynchronous snapshot of heap state
     * reads host copies that nothing changes any more.
     */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        if (pool != null) {
            pool.releaseAll();
        }
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        flush(); // scores keep their place before the watermark
        super.processWatermark(mark);
    }

    @Override
    public void finish() throws Exception {
        flush();
        reportLastWindows();
        super.finish();
    }

    /**
     * At the end of input every key reports the labels it took since its last metric record,
     * however few, so that a bounded job's records (a replay's) count every step and every label. A
     * key keeps no time of its own, so the record carries the latest label time this subtask saw.
     */
    private void reportLastWindows() throws Exception {
        for (String key : List.copyOf(live.keySet())) {
            setCurrentKey(key);
            KeyProgress p = progress.value();
            if (p == null || p.window.count() == 0) {
                continue;
            }
            KanLearner learner = model.value();
            if (learner == null) {
                continue;
            }
            emitMetric(key, p, learner, latestLabelTs, false);
            progress.update(p);
            release(learner);
        }
    }

    @Override
    public void close() throws Exception {
        if (pool != null) {
            pool.close();
            pool = null;
        }
        if (population != null) {
            population.close();
            population = null;
        }
        super.close();
    }

    @Override
    public void processElement1(StreamRecord<Event> record) throws Exception {
        enqueue(record);
    }

    @Override
    public void processElement2(StreamRecord<Label> record) throws Exception {
        enqueue(record);
    }

    /**
     * Adds an input to the bundle, and processes the bundle when it is full (at once when bundles
     * are off) or, for the first input of a bundle, arranges for it to be processed after the
     * bundle latency.
     */
    private void enqueue(StreamRecord<?> record) throws Exception {
        bundle.add(
                new Pending(
                        currentKey(),
                        record.getValue(),
                        record.getTimestamp(),
                        record.hasTimestamp(),
                        System.nanoTime()));
        if (bundle.size() >= Math.max(1, bundleSize)) {
            flush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            var clock = getProcessingTimeService();
            clock.registerTimer(
                    clock.getCurrentProcessingTime() + config.bundleLatency().toMillis(),
                    time -> {
                        flushScheduled = false;
                        flush();
                    });
        }
    }

    /**
     * Processes the bundle: each key's inputs in their order, in waves that take the next input of
     * every key, so that all events of a wave are scored in one call and all keys whose mini-batch
     * fills in it step in one call (through the {@link KanPool} when bundles are on). A key's
     * progress and model are read once per bundle and written back once at its end.
     */
    private void flush() throws Exception {
        if (bundle.isEmpty()) {
            return;
        }
        List<Pending> inputs = bundle;
        bundle = new ArrayList<>();
        Object keyBefore = getCurrentKey();
        long now = getProcessingTimeService().getCurrentProcessingTime();
        if (inputs.size() == 1) {
            runWave(inputs, now); // without bundles every input is a wave of its own
        } else {
            runWaves(inputs, now);
        }
        if (pool != null && stateHoldsCopies) {
            pool.writeBack(); // one read per tensor instead of one per learner below
        }
        for (Open key : open.values()) {
            setCurrentKey(key.key);
            if (key.learner != null) {
                keep(key.learner);
            }
            progress.update(key.progress);
        }
        open.clear();
        counters.bundles.inc();
        if (keyBefore != null) {
            setCurrentKey(keyBefore);
        }
    }

    /** The bundle's waves, one after the other: each takes the next input of every key. */
    private void runWaves(List<Pending> inputs, long now) throws Exception {
        LinkedHashMap<String, ArrayDeque<Pending>> queues = new LinkedHashMap<>();
        for (Pending input : inputs) {
            queues.computeIfAbsent(input.key(), k -> new ArrayDeque<>()).add(input);
        }
        while (!queues.isEmpty()) {
            List<Pending> wave = new ArrayList<>(queues.size());
            Iterator<ArrayDeque<Pending>> each = queues.values().iterator();
            while (each.hasNext()) {
                ArrayDeque<Pending> queue = each.next();
                wave.add(queue.poll());
                if (queue.isEmpty()) {
                    each.remove();
                }
            }
            runWave(wave, now);
        }
    }

    /** One input of each of the wave's keys: score the events, take in labels, then step. */
    private void runWave(List<Pending> wave, long now) throws Exception {
        Open[] keys = new Open[wave.size()];
        for (int i = 0; i < keys.length; i++) {
            Pending input = wave.get(i);
            setCurrentKey(input.key());
            keys[i] = openKey(input.key(), now);
            if (input.value() instanceof Event) {
                keys[i].learner(); // read now: the scoring call below needs them all
            }
        }
        float[][] scores = scoreEvents(wave, keys);
        for (int i = 0; i < keys.length; i++) {
            Pending input = wave.get(i);
            setCurrentKey(input.key());
            if (input.value() instanceof Event event) {
                onEvent(keys[i], input, event, scores[i], now);
            } else {
                onLabel(keys[i], (Label) input.value(), now);
            }
        }
        stepWave(keys);
        for (Open key : keys) {
            key.scoredOwn = null; // only this wave's step may charge from them
            key.scoredShared = null;
            if (key.learned) {
                setCurrentKey(key.key);
                afterLearning(key);
            }
        }
    }

    /** The outputs of every event of the wave (null for labels): pooled models in one call. */
    private float[][] scoreEvents(List<Pending> wave, Open[] keys) {
        float[][] scores = new float[keys.length][];
        List<Integer> pooled = new ArrayList<>();
        for (int i = 0; i < keys.length; i++) {
            if (wave.get(i).value() instanceof Event event) {
                KanLearner learner = keys[i].learner;
                if (pool != null && pool.accepts(learner)) {
                    pooled.add(i);
                } else {
                    // its label steps the models right after: scored as that step will see it,
                    // each step starting from its model's scored pass (KanLearner.learn)
                    boolean stepsNext = stepsRightAfter(event);
                    float[] shared =
                            population == null ? null : score(population, event, stepsNext);
                    float[] own = score(learner, event, stepsNext);
                    scores[i] = withPopulation(keys[i], own, shared);
                    if (shared != null && stepsNext) {
                        keys[i].scoredOwn = own;
                        keys[i].scoredShared = shared;
                    }
                }
            }
        }
        if (!pooled.isEmpty()) {
            int inputs = config.model().inputs();
            KanLearner[] owners = new KanLearner[pooled.size()];
            float[] rows = new float[pooled.size() * inputs];
            boolean[] beforeItsStep = new boolean[owners.length];
            for (int q = 0; q < owners.length; q++) {
                int i = pooled.get(q);
                owners[q] = keys[i].learner;
                Event event = (Event) wave.get(i).value();
                System.arraycopy(event.features(), 0, rows, q * inputs, inputs);
                beforeItsStep[q] = stepsRightAfter(event);
            }
            float[] outputs = pool.score(owners, rows, beforeItsStep);
            int width = outputs.length / owners.length;
            for (int q = 0; q < owners.length; q++) {
                scores[pooled.get(q)] = Arrays.copyOfRange(outputs, q * width, (q + 1) * width);
            }
        }
        return scores;
    }

    private static float[] score(KanLearner learner, Event event, boolean stepsNext) {
        return stepsNext
                ? learner.scoreBeforeItsStep(event.features())
                : learner.score(event.features(), 1);
    }

    /** The model this subtask's keys share, or null: for tests. */
    KanLearner population() {
        return population;
    }

    /**
     * A key's outputs on one event, mixed with the shared model's ({@code shared}, null when the
     * subtask has none).
     */
    private float[] withPopulation(Open key, float[] own, float[] shared) {
        if (shared == null) {
            return own;
        }
        return SharedModelMixture.mix(
                population.config().task(), own, shared, 1, key.progress.sharedLosses);
    }

    /** Whether the event's own label steps its key's model on it alone, right after its score. */
    private boolean stepsRightAfter(Event event) {
        return event.label() != null && config.batchSize() == 1;
    }

    private void onEvent(Open key, Pending input, Event event, float[] outputs, long now)
            throws Exception {
        KeyProgress p = key.progress;
        KanLearner learner = key.learner;
        Task task = learner.config().task();
        p.events++;
        counters.events.inc();
        double latencyMs = (System.nanoTime() - input.arrived()) / 1e6;
        double prediction = task.prediction(outputs, 0, outputs.length);
        // multiclass: the softmax once, the score its predicted class's entry
        double[] probabilities =
                task == Task.MULTICLASS ? Task.softmax(outputs, 0, outputs.length) : null;
        Score score =
                new Score(
                        event.id(),
                        key.key,
                        event.ts(),
                        probabilities != null
                                ? probabilities[(int) prediction]
                                : task.score(outputs, 0, outputs.length),
                        prediction,
                        learner.modelVersion(),
                        learner.gridEpoch(),
                        latencyMs,
                        probabilities);
        output.collect(
                input.hasTimestamp()
                        ? new StreamRecord<>(score, input.timestamp())
                        : new StreamRecord<>(score));
        float[] features = event.features();
        if (event.label() != null) {
            learnFrom(key, features, outputs, event.label(), event.ts(), now, event.id());
        } else {
            Awaiting early = awaiting.get(event.id());
            if (early != null && !early.isEvent()) {
                awaiting.remove(event.id());
                p.awaitingCount--;
                learnFrom(key, features, outputs, early.label(), event.ts(), now, event.id());
            } else if (early == null) {
                await(
                        p,
                        event.id(),
                        Awaiting.event(features, outputs, now + config.labelTtl().toMillis()));
            }
        }
    }

    private void onLabel(Open key, Label label, long now) throws Exception {
        KeyProgress p = key.progress;
        Awaiting waiting = awaiting.get(label.id());
        if (waiting != null && waiting.isEvent()) {
            awaiting.remove(label.id());
            p.awaitingCount--;
            key.learner();
            learnFrom(
                    key,
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

    /**
     * Takes in a labeled example of the current key: checks the label, scores the prediction made
     * before it, watches for drift and adds it to the mini-batch. The step a full batch triggers,
     * the drift response and the metric record follow for the whole wave ({@link #afterLearning}).
     */
    private void learnFrom(
            Open key, float[] features, float[] outputs, double label, long ts, long now, String id)
            throws Exception {
        KeyProgress p = key.progress;
        KanLearner learner = key.learner;
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
                                            + key.key
                                            + " rejected: "
                                            + e.getMessage().replace("of row 0 ", ""),
                                    rejectedLabelJson(id, key.key, label, ts),
                                    null,
                                    -1,
                                    -1L),
                            ts));
            return;
        }
        p.labeled++;
        counters.labeled.inc();
        p.evaluate(task, outputs, label);
        key.drifted = watchForDrift(p, learner, outputs, label);
        key.learned = true;
        key.labelTs = ts;
        latestLabelTs = Math.max(latestLabelTs, ts);
        if (p.add(features, label)) {
            key.stepDue = true;
        } else if (!config.batchTimeout().isZero() && p.batchDeadline == 0) {
            p.batchDeadline = now + config.batchTimeout().toMillis();
            timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, p.batchDeadline);
        }
    }

    /** After the wave's steps: the drift response and the metric record of a key that learned. */
    private void afterLearning(Open key) {
        if (key.drifted) {
            adapt(key.progress, key.learner);
        }
        if (key.drifted || key.progress.window.count() >= config.metricsEvery()) {
            emitMetric(key.key, key.progress, key.learner, key.labelTs, key.drifted);
        }
        key.learned = false;
        key.drifted = false;
    }

    /** The steps of every key whose mini-batch filled in this wave: pooled models in one call. */
    private void stepWave(Open[] keys) {
        List<Open> pooled = new ArrayList<>();
        for (Open key : keys) {
            if (!key.stepDue) {
                continue;
            }
            if (pool != null && pool.accepts(key.learner)) {
                pooled.add(key);
            } else {
                step(
                        key.progress,
                        key.learner,
                        key.progress.sharedLosses,
                        key.scoredOwn,
                        key.scoredShared);
            }
            key.stepDue = false;
        }
        if (pooled.isEmpty()) {
            return;
        }
        int inputs = config.model().inputs();
        KanLearner[] learners = new KanLearner[pooled.size()];
        float[][] rows = new float[learners.length][];
        double[][] labels = new double[learners.length][];
        for (int q = 0; q < learners.length; q++) {
            KeyProgress p = pooled.get(q).progress;
            learners[q] = pooled.get(q).learner;
            rows[q] = p.takeRows(inputs);
            labels[q] = p.takeLabels();
        }
        StepResult[] results = pool.learn(learners, rows, labels);
        for (int q = 0; q < learners.length; q++) {
            pooled.get(q).progress.clearBatch();
            stepped(results[q], learners[q]);
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

    private void adapt(KeyProgress p, KanLearner learner) {
        if (config.driftAction().refits()
                && learner.examplesSinceRefit() > 0
                && learner.refitWithinTolerance(config.refitPolicy()) != null) {
            counters.refits.inc();
        }
        if (config.driftAction().boosts()) {
            learner.boostLearningRate(config.boostFactor(), config.boostSteps());
        }
        if (config.driftAction().resets()) {
            learner.resetMomentum();
        }
        if (config.driftAction().restarts()) {
            learner.restartOptimizer();
        }
    }

    /**
     * One step of the current key on its own (a full batch outside a pool, or a batch timeout).
     * With a shared model, both members are first charged their loss on the batch ({@code losses},
     * the key's, updated in place), and the shared model learns from it too.
     *
     * @param scoredOwn the key's model's outputs on the batch's one event when it was scored just
     *     before, its label inline; null to compute the members' outputs on the batch as they stand
     * @param scoredShared the shared model's outputs on that event, or null
     */
    private void step(
            KeyProgress p,
            KanLearner learner,
            double[] losses,
            float[] scoredOwn,
            float[] scoredShared) {
        float[] rows = p.takeRows(learner.inputs());
        double[] labels = p.takeLabels();
        if (population != null) {
            int n = labels.length;
            boolean scored = scoredOwn != null && scoredShared != null && n == 1;
            SharedModelMixture.charge(
                    learner,
                    losses,
                    scored ? scoredOwn : learner.outputs(rows, n),
                    scored ? scoredShared : population.outputs(rows, n),
                    labels);
            StepResult shared = population.learn(rows, labels);
            if (shared.applied() && population.refitIfDue(config.refitPolicy()) != null) {
                counters.refits.inc();
            }
        }
        StepResult result = learner.learn(rows, labels);
        p.clearBatch();
        stepped(result, learner);
    }

    private void stepped(StepResult result, KanLearner learner) {
        if (result.applied()) {
            counters.steps.inc();
        } else {
            counters.skippedSteps.inc();
        }
        if (learner.refitIfDue(config.refitPolicy()) != null) {
            counters.refits.inc();
        }
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
                                drift,
                                population != null && p.sharedLosses != null
                                        ? SharedModelMixture.weights(p.sharedLosses)[1]
                                        : Double.NaN),
                        ts));
        window.clear();
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        String key = timer.getKey();
        long now = timer.getTimestamp();
        flush(); // a timer decides on the key's state as of every input before it
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
            KanLearner learner = learner();
            step(p, learner, sharedLosses(p), null, null);
            learner.syncHost(); // it stepped outside the pool, on the host or its own mirror
            keep(learner);
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

    /**
     * Marks the current key as seen in this bundle, making room for it first if it is new; its
     * progress is read from state once per bundle.
     */
    private Open openKey(String key, long now) throws Exception {
        // one lookup of the live keys per input: in access order, this get makes it the newest
        Long registered = live.get(key);
        Open open = this.open.get(key);
        if (open == null) {
            if (registered == null) {
                while (live.size() >= config.maxLiveKeys()) {
                    String victim = live.keySet().iterator().next();
                    setCurrentKey(victim);
                    clearKey(victim, now);
                    setCurrentKey(key);
                    counters.evictions.inc();
                }
            }
            KeyProgress p = progress.value();
            if (p == null) {
                p = new KeyProgress(config.model().inputs(), config.batchSize());
                p.detector = config.drift() == null ? null : config.drift().create();
            }
            sharedLosses(p);
            open = new Open(key, p);
            this.open.put(key, open);
        }
        open.progress.lastSeen = now;
        long idle = config.idleKeyTtl().isZero() ? 0 : idleTimer(now);
        if (registered == null || registered != idle) {
            live.put(key, idle);
            if (idle != 0) {
                timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, idle);
            }
        }
        // Otherwise this key registered the same check before and it is still pending: a check
        // fires at or after its time, and a key seen since then has a later one.
        return open;
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
        Open held = open.remove(key); // a key of this bundle's earlier inputs
        KeyProgress p = held != null ? held.progress : progress.value();
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
        KanLearner learner =
                held != null && held.learner != null
                        ? held.learner
                        : stateHoldsCopies ? null : model.value();
        if (learner != null) {
            learner.close(); // its pool slot and device memory, which no collector frees
        }
        model.clear();
        progress.clear();
        awaiting.clear();
        live.remove(key);
    }

    /**
     * The current key's model: from state, or new (warm start or fresh). A learner restored by a
     * serializer that did not know the job's device (the heap backend reads a checkpoint before the
     * job registers its state) is moved onto it here, once.
     */
    private KanLearner learner() {
        KanLearner learner;
        try {
            learner = model.value();
        } catch (Exception e) {
            throw new IllegalStateException(
                    "the model state of key " + currentKey() + " could not be read: " + e, e);
        }
        if (learner == null) {
            return newLearner();
        }
        if (!learner.device().equals(device)) {
            KanLearner moved =
                    LearnerStateCodec.decode(LearnerStateCodec.encode(learner), deviceSetting);
            learner.close();
            return moved;
        }
        return learner;
    }

    /**
     * A key's decayed losses of its own model and the shared one, fresh the first time it meets a
     * shared model; null when the subtask has none.
     */
    private double[] sharedLosses(KeyProgress p) {
        if (population == null) {
            return null;
        }
        if (p.sharedLosses == null) {
            p.sharedLosses = SharedModelMixture.freshLosses();
        }
        return p.sharedLosses;
    }

    /** A new key's model: the warm start's, or a fresh one. */
    private KanLearner newLearner() {
        return config.warmStart() != null
                ? LearnerStateCodec.decode(config.warmStart(), deviceSetting)
                : KanLearner.create(modelConfig);
    }

    /**
     * Writes the current key's model back after it was used. A snapshot may encode it on another
     * thread while the task goes on, so its host copy is made current first, except for a learner
     * that stays in the pool and only stepped there: the pool writes all of them back before a
     * barrier, with one read per tensor.
     */
    private void keep(KanLearner learner) throws Exception {
        if (pool == null || stateHoldsCopies || !pool.accepts(learner)) {
            learner.syncHost();
        }
        model.update(learner);
        release(learner);
    }

    /** After the last use of a learner read from RocksDB: its device memory, if it took any. */
    private void release(KanLearner learner) {
        if (stateHoldsCopies) {
            learner.close();
        }
    }

    /** Keys holding model progress in this subtask's state backend. */
    long keysInState() throws Exception {
        return keysOf(PROGRESS_STATE).size();
    }

    /** Keys holding a model in this subtask's state backend, in the typed state or the legacy. */
    long modelsInState(boolean legacy) throws Exception {
        return keysOf(legacy ? LEGACY_MODEL_STATE : MODEL_STATE).size();
    }

    /** Awaiting entries over all keys of this subtask. */
    long awaitingInState() throws Exception {
        List<String> keys = keysOf(AWAITING_STATE);
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
}
