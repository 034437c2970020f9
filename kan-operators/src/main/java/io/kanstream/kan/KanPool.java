package io.kanstream.kan;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models of many keys of one shape, resident on a device, so that one call scores the rows of
 * hundreds of keys and one call takes a gradient step for the mini-batches of hundreds of keys.
 *
 * <p>Every parameter, Adam moment and grid table is one tensor with a leading slot dimension (C is
 * {@code [slots, out, in, G+k]}, the knots {@code [slots, in, G+2k+1]}: each key has its own grid).
 * A call gathers the slots of its rows by index and runs {@link KanLayer}'s arithmetic batched over
 * them, with per-row grids in the Cox–de Boor recursion; a step scatters the updated parameters and
 * moments back. The number of native ops per call depends on the shape, not on the number of keys:
 * through JNI each op costs microseconds, so that is where batching pays (see {@code docs/gpu.md}).
 *
 * <p>The math is {@link HostKan}'s: the same guarded knot reciprocals (each key's {@link
 * KnotGrid.Tables} are uploaded), the same SiLU and B-spline recursion, the same closed-form
 * gradients, Adam's update with each key's own step count, learning rate (drift boost included) and
 * clipping factor. What stays on the host, around the kernel, is what is per key and cheap: input
 * normalization, the loss and its gradient through the logit bound and the output calibration, the
 * NaN/Inf guards' decisions and the counters, all through the same {@link KanLearner} code as a
 * single-key step. Sums run in another order than the host's loops (a few ulps).
 *
 * <p>It is the batched form of {@link KanKernel}: the same step, with a slot per group of rows and
 * Adam's rates per key, which is why it does not implement that single-key interface.
 *
 * <p>A pool for learners with a parameter average ({@link KanConfig#averageHorizon()}) holds each
 * key's average in its slot too: a step blends the new parameters into it on the device, as {@link
 * ParameterAverage#stepped} does on the host; a score runs the network and the average in two
 * forward calls and mixes their finished outputs by the key's recent losses; a step first charges
 * both members their loss on the batch, as the host's step does, from two forward calls on the rows
 * as the key's normalizer saw them before the batch.
 *
 * <p>Residency: a learner enters a slot on its first call and stays until evicted (least recently
 * used, when a call needs a slot and none is free), {@link #release}d, or closed. While resident,
 * the slot is ahead of the learner's host copy after a pool step, and anything read from the
 * learner ({@link KanLearner#parameters}, its state encoding, a refit) reads the slot back first;
 * when the host copy changes (a step on the host, a refit) the slot is uploaded again before the
 * pool's next call. {@link #writeBack} brings every host copy up to date in one read per tensor:
 * what a checkpoint barrier calls before the keyed state is snapshotted.
 *
 * <p>Not thread-safe: one pool per task thread, like the learners it holds.
 */
public final class KanPool implements AutoCloseable {
    private final KanConfig shape;
    private final int capacity;
    private final Device device;
    private final NDManager manager;
    private final PoolLayer[] layers;
    private final int inputs;
    private final int outputs;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();

    /** Whether every learner here has a parameter average over the shape's horizon. */
    private final boolean averaging;

    // least recently used first
    private final LinkedHashMap<KanLearner, Integer> recent = new LinkedHashMap<>(16, 0.75f, true);
    private long evictions;
    private long uploads;

    private KanPool(KanConfig shape, int capacity, Device device) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a pool needs at least one slot, got " + capacity);
        }
        this.shape = shape;
        this.capacity = capacity;
        this.device = device;
        List<Integer> widths = shape.layers();
        this.inputs = widths.get(0);
        this.outputs = widths.get(widths.size() - 1);
        this.averaging = shape.averageHorizon() > 0;
        this.manager = NDManager.newBaseManager(device, "PyTorch");
        try {
            layers = new PoolLayer[widths.size() - 1];
            for (int l = 0; l < layers.length; l++) {
                layers[l] =
                        new PoolLayer(
                                widths.get(l),
                                widths.get(l + 1),
                                shape.gridSize(),
                                shape.splineOrder(),
                                capacity,
                                averaging,
                                manager);
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        for (int s = 0; s < capacity; s++) {
            free.add(s);
        }
    }

    /**
     * A pool for learners of {@code config}'s shape (layers, grid size, spline order), Adam
     * constants (β₁, β₂, weight decay) and parameter average horizon, on the device its {@code
     * device} setting names.
     */
    public static KanPool open(KanConfig config, int capacity) {
        return new KanPool(config, capacity, DeviceSetting.resolve(config.device()));
    }

    /** The same, on the given device string ({@code auto|cpu|gpu[:N]}). */
    public static KanPool open(KanConfig config, int capacity, String device) {
        return new KanPool(config, capacity, DeviceSetting.resolve(device));
    }

    public Device device() {
        return device;
    }

    public int capacity() {
        return capacity;
    }

    /** Learners resident in a slot now. */
    public int resident() {
        return recent.size();
    }

    /** Learners evicted to make room so far. */
    public long evictions() {
        return evictions;
    }

    /** Slot uploads (host → device) so far: first entries, re-entries and host-side changes. */
    public long uploads() {
        return uploads;
    }

    /**
     * Whether a learner can live in this pool: the same layers, grid size and spline order, the
     * same Adam constants and parameter average horizon, which the pool's update takes as scalars
     * (a learner restored from a format without an average has none, whatever its configuration
     * says: it goes on without one, outside a pool that averages); no companions (a pool steps one
     * network per learner).
     */
    public boolean accepts(KanLearner learner) {
        KanConfig c = learner.config();
        return learner.mixture == null
                && averagesAsThisPool(learner)
                && c.layers().equals(shape.layers())
                && c.gridSize() == shape.gridSize()
                && c.splineOrder() == shape.splineOrder()
                && c.beta1() == shape.beta1()
                && c.beta2() == shape.beta2()
                && c.weightDecay() == shape.weightDecay();
    }

    /** With a parameter average over this pool's horizon if the pool keeps them, else without. */
    private boolean averagesAsThisPool(KanLearner learner) {
        return (learner.average != null) == averaging
                && (!averaging || learner.config().averageHorizon() == shape.averageHorizon());
    }

    private void check(KanLearner learner) {
        if (learner.mixture != null) {
            throw new IllegalArgumentException(
                    "a learner with companions does not fit a pool: it steps "
                            + (learner.companions() + 1)
                            + " networks per label");
        }
        if (!averagesAsThisPool(learner)) {
            throw new IllegalArgumentException(
                    "a learner "
                            + (learner.average == null
                                    ? "without a parameter average"
                                    : "with a parameter average over "
                                            + learner.config().averageHorizon()
                                            + " steps")
                            + " does not fit a pool "
                            + (averaging
                                    ? "of averages over " + shape.averageHorizon() + " steps"
                                    : "without parameter averages"));
        }
        if (!accepts(learner)) {
            KanConfig c = learner.config();
            throw new IllegalArgumentException(
                    "learner of layers "
                            + c.layers()
                            + ", grid "
                            + c.gridSize()
                            + ", order "
                            + c.splineOrder()
                            + " (β₁ "
                            + c.beta1()
                            + ", β₂ "
                            + c.beta2()
                            + ", weight decay "
                            + c.weightDecay()
                            + ") does not fit a pool of layers "
                            + shape.layers()
                            + ", grid "
                            + shape.gridSize()
                            + ", order "
                            + shape.splineOrder()
                            + " (β₁ "
                            + shape.beta1()
                            + ", β₂ "
                            + shape.beta2()
                            + ", weight decay "
                            + shape.weightDecay()
                            + ")");
        }
    }

    /**
     * Scores events as they arrive, as {@link KanLearner#score} does for each row's own learner:
     * every layer's inputs enter the learner's running summaries, and the outputs come back through
     * its calibration. One device call for all rows.
     *
     * @param owners the learner of each row
     * @param rows (owners.length, inputs) row-major, raw features
     * @return (owners.length, outputs) row-major
     */
    public float[] score(KanLearner[] owners, float[] rows) {
        return outputs(owners, rows, true, null);
    }

    /**
     * {@link #score}, where the rows marked have their label with them and their learner steps on
     * them alone right after: those are standardized as that step will standardize them, as {@link
     * KanLearner#scoreBeforeItsStep} does.
     *
     * @param beforeItsStep (owners.length) whether a step on the row alone follows
     */
    public float[] score(KanLearner[] owners, float[] rows, boolean[] beforeItsStep) {
        if (beforeItsStep.length != owners.length) {
            throw new IllegalArgumentException(
                    owners.length + " rows need as many marks, got " + beforeItsStep.length);
        }
        return outputs(owners, rows, true, beforeItsStep);
    }

    /** {@link #score} without recording anything: probes and evaluation. */
    public float[] outputs(KanLearner[] owners, float[] rows) {
        return outputs(owners, rows, false, null);
    }

    private float[] outputs(
            KanLearner[] owners, float[] rows, boolean record, boolean[] beforeItsStep) {
        int n = owners.length;
        for (KanLearner owner : owners) {
            check(owner);
        }
        if (rows.length != n * inputs) {
            throw new IllegalArgumentException(
                    n
                            + " rows of "
                            + inputs
                            + " features need "
                            + (n * inputs)
                            + " values, got "
                            + rows.length);
        }
        float[] z = new float[n * inputs];
        for (int r = 0; r < n; r++) {
            float[] row = Arrays.copyOfRange(rows, r * inputs, (r + 1) * inputs);
            owners[r].checkRows(row, 1);
            InputNormalizer normalizer = owners[r].normalizer;
            float[] standardized =
                    beforeItsStep != null && beforeItsStep[r]
                            ? normalizer.applyAsObserved(row)
                            : normalizer.apply(row, 1);
            System.arraycopy(standardized, 0, z, r * inputs, inputs);
        }
        if (n == 0) {
            return new float[0];
        }
        admit(distinct(owners));
        long[] index = new long[n];
        for (int r = 0; r < n; r++) {
            index[r] = owners[r].poolSlot;
        }
        float[] result;
        float[] averaged = null;
        float[][] hidden = new float[layers.length][];
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray slotIndex = manager.create(index);
            NDArray x = manager.create(z, new Shape(n, 1, inputs));
            Pass pass = forward(slotIndex, x, false);
            result = lastOutput(pass);
            if (averaging) {
                averaged = lastOutput(forward(slotIndex, x, true));
            }
            if (record) {
                hidden[0] = z;
                for (int l = 1; l < layers.length; l++) {
                    hidden[l] = pass.layers[l].input.toFloatArray();
                }
            }
        }
        float[] out = new float[outputs];
        for (int r = 0; r < n; r++) {
            KanLearner owner = owners[r];
            if (record) {
                for (int l = 0; l < layers.length; l++) {
                    int width = layers[l].in;
                    float[] values = Arrays.copyOfRange(hidden[l], r * width, (r + 1) * width);
                    owner.statistics.record(l, values, owner.grid(l));
                }
                owner.statistics.advance();
            }
            System.arraycopy(result, r * outputs, out, 0, outputs);
            owner.finish(out);
            if (averaging) {
                float[] average = Arrays.copyOfRange(averaged, r * outputs, (r + 1) * outputs);
                owner.finish(average);
                out = owner.average.mix(out, average, 1);
            }
            System.arraycopy(out, 0, result, r * outputs, outputs);
        }
        return result;
    }

    private float[] lastOutput(Pass pass) {
        return pass.layers[layers.length - 1].output.toFloatArray();
    }

    /**
     * Charges each learner's network and parameter average their loss on its batch, as {@link
     * KanLearner#learn} does before a step: their finished outputs on the rows as the step sees
     * them (normalized after the normalizer learned from them). Two forward calls for all keys.
     */
    private void chargeAverages(
            KanLearner[] learners, float[][] normalized, double[][] labels, int longest) {
        int keys = learners.length;
        float[] x = new float[keys * longest * inputs];
        long[] index = new long[keys];
        for (int k = 0; k < keys; k++) {
            float[] z = normalized[k];
            System.arraycopy(z, 0, x, k * longest * inputs, z.length);
            index[k] = learners[k].poolSlot;
        }
        float[] own;
        float[] average;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray slotIndex = manager.create(index);
            NDArray batch = manager.create(x, new Shape(keys, longest, inputs));
            own = lastOutput(forward(slotIndex, batch, false));
            average = lastOutput(forward(slotIndex, batch, true));
        }
        for (int k = 0; k < keys; k++) {
            int at = k * longest * outputs;
            int size = labels[k].length * outputs;
            float[] mine = Arrays.copyOfRange(own, at, at + size);
            float[] theirs = Arrays.copyOfRange(average, at, at + size);
            learners[k].finish(mine);
            learners[k].finish(theirs);
            learners[k].average.learn(mine, theirs, labels[k], learners[k].labelScale());
        }
    }

    /**
     * One gradient step for each learner on its own mini-batch, as {@link KanLearner#learn} takes
     * it: the gradient of a key is the mean over its rows, clipped by its own norm, applied with
     * its own Adam step count and learning rate; a key whose loss or gradient is not finite is left
     * as it was and counted, the others step. One forward and one backward-and-update call on the
     * device for all keys.
     *
     * @param learners distinct learners
     * @param rows [k] (n_k, inputs) row-major, raw features
     * @param labels [k] (n_k) labels
     * @return [k] each learner's step
     */
    public StepResult[] learn(KanLearner[] learners, float[][] rows, double[][] labels) {
        int keys = learners.length;
        if (rows.length != keys || labels.length != keys) {
            throw new IllegalArgumentException(
                    keys
                            + " learners need as many row and label batches, got "
                            + rows.length
                            + " and "
                            + labels.length);
        }
        if (distinct(learners).size() != keys) {
            throw new IllegalArgumentException("a learner appears twice in one step");
        }
        if (keys > capacity) {
            throw tooMany(keys);
        }
        // everything is checked before any learner's normalizer sees a row
        int longest = 0;
        for (int k = 0; k < keys; k++) {
            check(learners[k]);
            if (labels[k].length < 1) {
                throw new IllegalArgumentException("learner " + k + " has no labeled rows");
            }
            try {
                learners[k].checkBatch(rows[k], labels[k]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("learner " + k + ": " + e.getMessage(), e);
            }
            longest = Math.max(longest, labels[k].length);
        }
        StepResult[] results = new StepResult[keys];
        if (keys == 0) {
            return results;
        }
        admit(Arrays.asList(learners));
        // as KanLearner#learn: the averages are charged on the rows as the step sees them
        float[][] normalized = new float[keys][];
        for (int k = 0; k < keys; k++) {
            normalized[k] = learners[k].observeRows(rows[k], labels[k]);
        }
        if (averaging) {
            chargeAverages(learners, normalized, labels, longest);
        }
        KanLearner.Batch[] batches = new KanLearner.Batch[keys];
        for (int k = 0; k < keys; k++) {
            batches[k] = new KanLearner.Batch(normalized[k], learners[k].observeTargets(labels[k]));
        }
        // each key's rows, padded with zero rows whose output gradient is zero
        float[] x = new float[keys * longest * inputs];
        long[] index = new long[keys];
        for (int k = 0; k < keys; k++) {
            float[] z = batches[k].inputs();
            System.arraycopy(z, 0, x, k * longest * inputs, z.length);
            index[k] = learners[k].poolSlot;
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray slotIndex = manager.create(index);
            Pass pass =
                    forward(slotIndex, manager.create(x, new Shape(keys, longest, inputs)), false);
            float[] raw = lastOutput(pass);
            float[] dOut = new float[raw.length];
            double[] losses = new double[keys];
            boolean[] alive = new boolean[keys];
            int living = 0;
            for (int k = 0; k < keys; k++) {
                int n = labels[k].length;
                int at = k * longest * outputs;
                float[] mine = Arrays.copyOfRange(raw, at, at + n * outputs);
                float[] gradient = new float[mine.length];
                losses[k] = learners[k].lossAndGradient(mine, batches[k].targets(), gradient);
                if (Double.isFinite(losses[k])) {
                    System.arraycopy(gradient, 0, dOut, at, gradient.length);
                    alive[k] = true;
                    living++;
                } else {
                    results[k] = learners[k].skipped(losses[k], Double.NaN);
                }
            }
            if (living == 0) {
                return results;
            }
            Gradients gradients =
                    backward(pass, manager.create(dOut, new Shape(keys, longest, outputs)));
            float[] squares = gradients.squares.toFloatArray();
            int[] applied = new int[keys];
            int count = 0;
            float[] learningRate = new float[keys];
            float[] biasCorrected = new float[keys];
            float[] epsilon = new float[keys];
            float[] scale = new float[keys];
            float[] keep = new float[keys];
            double[] norms = new double[keys];
            AdamOptimizer.Rates any = null;
            for (int k = 0; k < keys; k++) {
                if (!alive[k]) {
                    continue;
                }
                norms[k] = Math.sqrt(squares[k]);
                if (!Double.isFinite(norms[k])) {
                    results[k] = learners[k].skipped(losses[k], norms[k]);
                    continue;
                }
                KanLearner learner = learners[k];
                AdamOptimizer.Rates rates = learner.optimizer.advance(learner.learningRateScale);
                any = rates;
                learningRate[count] = rates.learningRate();
                biasCorrected[count] = rates.biasCorrected();
                epsilon[count] = rates.epsilon();
                scale[count] = (float) learner.clipScale(norms[k]);
                if (averaging) {
                    keep[count] =
                            ParameterAverage.keep(shape.averageHorizon(), learner.optimizer.step());
                }
                applied[count++] = k;
            }
            if (count > 0) {
                update(
                        pass,
                        gradients,
                        Arrays.copyOf(applied, count),
                        count == keys,
                        Arrays.copyOf(learningRate, count),
                        Arrays.copyOf(biasCorrected, count),
                        Arrays.copyOf(epsilon, count),
                        Arrays.copyOf(scale, count),
                        Arrays.copyOf(keep, count),
                        any);
                for (int q = 0; q < count; q++) {
                    int k = applied[q];
                    learners[k].poolStepped();
                    results[k] = learners[k].applied(losses[k], norms[k]);
                }
            }
        }
        return results;
    }

    /**
     * Brings every resident learner's host copy up to date with one read per tensor: what to call
     * before a checkpoint snapshots the learners.
     */
    public void writeBack() {
        List<KanLearner> ahead = new ArrayList<>();
        for (KanLearner learner : recent.keySet()) {
            if (learner.hostBehindPool) {
                ahead.add(learner);
            }
        }
        if (ahead.isEmpty()) {
            return;
        }
        long[] index = new long[ahead.size()];
        for (int q = 0; q < index.length; q++) {
            index[q] = ahead.get(q).poolSlot;
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray slotIndex = manager.create(index);
            for (int l = 0; l < layers.length; l++) {
                for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                    int q = ParameterIndex.of(l, p);
                    scatterToHosts(
                            layers[l].parameter[p].get(slotIndex), ahead, k -> k.host.parameter(q));
                    scatterToHosts(
                            layers[l].first[p].get(slotIndex), ahead, k -> k.host.moment(q, true));
                    scatterToHosts(
                            layers[l].second[p].get(slotIndex),
                            ahead,
                            k -> k.host.moment(q, false));
                    if (averaging) {
                        scatterToHosts(
                                layers[l].averaged[p].get(slotIndex),
                                ahead,
                                k -> k.average.parameters[q]);
                    }
                }
            }
        }
        for (KanLearner learner : ahead) {
            learner.hostBehindPool = false;
            learner.host.parametersWritten();
        }
    }

    private static void scatterToHosts(
            NDArray gathered,
            List<KanLearner> owners,
            java.util.function.Function<KanLearner, float[]> target) {
        float[] values = gathered.toFloatArray();
        int size = values.length / owners.size();
        for (int q = 0; q < owners.size(); q++) {
            System.arraycopy(values, q * size, target.apply(owners.get(q)), 0, size);
        }
    }

    /**
     * Takes a learner out of its slot, its host copy brought up to date first: eviction, or a
     * learner leaving for good. Does nothing for a learner that is not resident here.
     */
    public void release(KanLearner learner) {
        if (learner.pool != this) {
            return;
        }
        learner.host(); // reads the slot back if it is ahead
        int slot = learner.poolSlot;
        recent.remove(learner);
        free.add(slot);
        learner.pool = null;
        learner.poolSlot = -1;
        learner.poolBehind = false;
        learner.hostBehindPool = false;
    }

    /**
     * Takes every learner out of its slot after one read per tensor ({@link #writeBack}): what a
     * checkpoint barrier calls when the learners themselves are the state (the heap backend), so
     * that nothing the pool does later touches an object an asynchronous snapshot is reading.
     */
    public void releaseAll() {
        writeBack();
        for (KanLearner learner : new ArrayList<>(recent.keySet())) {
            release(learner);
        }
    }

    /**
     * Reads one slot into a host copy (same grids) and, in a pool that averages, into the learner's
     * parameter average: what {@link KanLearner#host} calls.
     */
    void read(int slot, HostKan host, ParameterAverage average) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDIndex at = new NDIndex(slot);
            for (int l = 0; l < layers.length; l++) {
                for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                    int q = ParameterIndex.of(l, p);
                    copy(layers[l].parameter[p].get(at), host.parameter(q));
                    copy(layers[l].first[p].get(at), host.moment(q, true));
                    copy(layers[l].second[p].get(at), host.moment(q, false));
                    if (averaging) {
                        copy(layers[l].averaged[p].get(at), average.parameters[q]);
                    }
                }
            }
        }
        host.parametersWritten();
    }

    private static void copy(NDArray from, float[] to) {
        float[] values = from.toFloatArray();
        System.arraycopy(values, 0, to, 0, to.length);
    }

    private static List<KanLearner> distinct(KanLearner[] learners) {
        Map<KanLearner, Boolean> seen = new IdentityHashMap<>();
        List<KanLearner> result = new ArrayList<>();
        for (KanLearner learner : learners) {
            if (seen.put(learner, Boolean.TRUE) == null) {
                result.add(learner);
            }
        }
        return result;
    }

    /**
     * Makes every learner of a call resident and current: slots for those that have none (evicting
     * the least recently used learners not in this call), and one upload per tensor for every
     * learner whose slot is new or behind its host copy.
     */
    private void admit(List<KanLearner> learners) {
        if (learners.size() > capacity) {
            throw tooMany(learners.size());
        }
        for (KanLearner learner : learners) {
            if (learner.pool == this) {
                recent.get(learner); // most recently used now
            }
        }
        List<KanLearner> upload = new ArrayList<>();
        for (KanLearner learner : learners) {
            if (learner.pool != this) {
                if (learner.pool != null) {
                    learner.pool.release(learner);
                }
                if (free.isEmpty()) {
                    Iterator<KanLearner> oldest = recent.keySet().iterator();
                    KanLearner victim = oldest.next(); // not in this call: those are the newest
                    release(victim);
                    evictions++;
                }
                int slot = free.poll();
                recent.put(learner, slot);
                learner.pool = this;
                learner.poolSlot = slot;
                learner.poolBehind = true;
            }
            if (learner.poolBehind) {
                upload.add(learner);
            }
        }
        if (!upload.isEmpty()) {
            upload(upload);
        }
    }

    private IllegalArgumentException tooMany(int keys) {
        return new IllegalArgumentException(
                "a call of "
                        + keys
                        + " keys does not fit a pool of "
                        + capacity
                        + " slots: split it, or open a larger pool");
    }

    /** Host → device for several learners: one indexed write per tensor. */
    private void upload(List<KanLearner> learners) {
        int u = learners.size();
        long[] index = new long[u];
        HostKan[] hosts = new HostKan[u];
        ParameterAverage[] averages = new ParameterAverage[u];
        for (int q = 0; q < u; q++) {
            hosts[q] = learners.get(q).host();
            index[q] = learners.get(q).poolSlot;
            averages[q] = learners.get(q).average;
            if (averages[q] != null) {
                averages[q].catchUp(hosts[q]); // steps a device mirror took before the pool
            }
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDIndex at = new NDIndex("{}", manager.create(index));
            for (int l = 0; l < layers.length; l++) {
                PoolLayer layer = layers[l];
                int ll = l;
                for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                    int q = ParameterIndex.of(l, p);
                    put(layer.parameter[p], at, hosts, h -> h.parameter(q));
                    put(layer.first[p], at, hosts, h -> h.moment(q, true));
                    put(layer.second[p], at, hosts, h -> h.moment(q, false));
                    if (averaging) {
                        put(layer.averaged[p], at, averages, a -> a.parameters[q]);
                    }
                }
                // each key's own grid: the host's tables, the very floats its loops use
                put(layer.knots, at, hosts, h -> tables(h, ll).knots);
                for (int p = 1; p <= layer.order; p++) {
                    int pp = p;
                    put(layer.leftInv[p], at, hosts, h -> tables(h, ll).leftInv[pp]);
                    put(layer.rightInv[p], at, hosts, h -> tables(h, ll).rightInv[pp]);
                }
                if (layer.order >= 1) {
                    put(layer.derivLeft, at, hosts, h -> tables(h, ll).derivLeft);
                    put(layer.derivRight, at, hosts, h -> tables(h, ll).derivRight);
                }
            }
        }
        for (KanLearner learner : learners) {
            learner.poolBehind = false;
        }
        uploads += u;
    }

    private static KnotGrid.Tables tables(HostKan host, int layer) {
        return host.layer(layer).grid.tables();
    }

    private <T> void put(
            NDArray pool, NDIndex at, T[] hosts, java.util.function.Function<T, float[]> source) {
        Shape shape = pool.getShape();
        int size = (int) (shape.size() / shape.get(0));
        float[] values = new float[hosts.length * size];
        for (int q = 0; q < hosts.length; q++) {
            float[] from = source.apply(hosts[q]);
            if (from.length != size) {
                throw new IllegalStateException(
                        "a host array of " + from.length + " values for a slot of " + size);
            }
            System.arraycopy(from, 0, values, q * size, size);
        }
        long[] dims = shape.getShape();
        dims[0] = hosts.length;
        pool.set(at, manager.create(values, new Shape(dims)));
    }

    /** One layer's share of a forward pass over G groups of n rows, kept for the backward pass. */
    private static final class LayerPass {
        NDArray input; // (G, n, in)
        NDArray sigmoid; // (G, n, in)
        NDArray silu; // (G, n, in)
        NDArray basesFlat; // (G, n, in·(G+k))
        NDArray previous; // (G, n, in, G+k+1) or null
        NDArray baseWeight; // (G, out, in)
        NDArray splineWeight; // (G, out, in, G+k)
        NDArray splineScaler; // (G, out, in)
        NDArray scaledFlat; // (G, out, in·(G+k))
        NDArray derivLeft; // (G, 1, in, G+k)
        NDArray derivRight;
        NDArray output; // (G, n, out)
    }

    private record Pass(NDArray slots, LayerPass[] layers) {}

    /**
     * @param slots (G) the slot of each group
     * @param x (G, n, in) each group's rows, normalized
     * @param average through each slot's parameter average instead of its network's parameters
     */
    private Pass forward(NDArray slots, NDArray x, boolean average) {
        LayerPass[] passes = new LayerPass[layers.length];
        NDArray input = x;
        for (int l = 0; l < layers.length; l++) {
            passes[l] = layers[l].forward(slots, input, average);
            input = passes[l].output;
        }
        return new Pass(slots, passes);
    }

    /** Every group's parameter gradients, and each group's sum of their squares. */
    private record Gradients(NDArray[][] byLayer, NDArray squares) {}

    private Gradients backward(Pass pass, NDArray dOut) {
        NDArray[][] byLayer = new NDArray[layers.length][];
        NDArray upstream = dOut;
        NDArray squares = null;
        for (int l = layers.length - 1; l >= 0; l--) {
            PoolLayer layer = layers[l];
            LayerPass a = pass.layers[l];
            byLayer[l] = layer.parameterGradients(a, upstream);
            for (NDArray g : byLayer[l]) {
                int[] axes = new int[g.getShape().dimension() - 1];
                for (int d = 0; d < axes.length; d++) {
                    axes[d] = d + 1;
                }
                NDArray s = g.square().sum(axes);
                squares = squares == null ? s : squares.add(s);
            }
            if (l > 0) {
                upstream = layer.inputGradient(a, upstream);
            }
        }
        return new Gradients(byLayer, squares);
    }

    /**
     * Adam on the gathered parameters of the applied groups, then scattered back into their slots.
     *
     * @param applied the groups that step, in order
     * @param all whether that is every group (no second gather needed)
     */
    private void update(
            Pass pass,
            Gradients gradients,
            int[] applied,
            boolean all,
            float[] learningRate,
            float[] biasCorrected,
            float[] epsilon,
            float[] scale,
            float[] keep,
            AdamOptimizer.Rates constants) {
        int g = applied.length;
        NDArray pick = null;
        NDArray slots = pass.slots;
        if (!all) {
            long[] positions = new long[g];
            for (int q = 0; q < g; q++) {
                positions[q] = applied[q];
            }
            pick = manager.create(positions);
            slots = slots.get(pick);
        }
        NDIndex at = new NDIndex("{}", slots);
        NDArray lr = manager.create(learningRate);
        NDArray bc = manager.create(biasCorrected);
        NDArray eps = manager.create(epsilon);
        NDArray gs = manager.create(scale);
        NDArray stay = averaging ? manager.create(keep) : null;
        NDArray take = averaging ? stay.neg().addi(1) : null;
        float b1 = constants.beta1();
        float b2 = constants.beta2();
        float wd = constants.weightDecay();
        for (int l = 0; l < layers.length; l++) {
            PoolLayer layer = layers[l];
            LayerPass a = pass.layers[l];
            NDArray[] current = {a.baseWeight, a.splineWeight, a.splineScaler};
            for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                NDArray w = current[p];
                NDArray grad = gradients.byLayer[l][p];
                if (pick != null) {
                    w = w.get(pick);
                    grad = grad.get(pick);
                }
                Shape perKey = perKeyShape(w.getShape());
                NDArray m = layer.first[p].get(at);
                NDArray v = layer.second[p].get(at);
                // in place on this call's own copies: fewer large temporaries for the allocator
                grad.muli(gs.reshape(perKey));
                if (constants.decoupled()) {
                    w.subi(w.mul(lr.reshape(perKey)).muli(wd));
                } else if (wd != 0) {
                    grad.addi(w.mul(wd));
                }
                m.muli(b1).addi(grad.mul(1 - b1));
                v.muli(b2).addi(grad.muli(grad).muli(1 - b2));
                w.subi(m.mul(bc.reshape(perKey)).divi(v.sqrt().addi(eps.reshape(perKey))));
                layer.parameter[p].set(at, w);
                layer.first[p].set(at, m);
                layer.second[p].set(at, v);
                if (averaging) {
                    // ParameterAverage.stepped, for every stepping slot at once
                    NDArray average = layer.averaged[p].get(at);
                    average.muli(stay.reshape(perKey)).addi(w.mul(take.reshape(perKey)));
                    layer.averaged[p].set(at, average);
                }
            }
        }
    }

    private static Shape perKeyShape(Shape shape) {
        long[] dims = new long[shape.dimension()];
        Arrays.fill(dims, 1);
        dims[0] = shape.get(0);
        return new Shape(dims);
    }

    /** One layer's tensors for every slot. */
    private static final class PoolLayer {
        final int in;
        final int out;
        final int order;
        final int coefficients;
        final int knotsPerFeature; // G + 2k + 1
        // Wb (S,out,in), C (S,out,in,G+k), S (S,out,in): positions as ParameterIndex numbers them
        final NDArray[] parameter = new NDArray[ParameterIndex.PER_LAYER];
        final NDArray[] first = new NDArray[ParameterIndex.PER_LAYER];
        final NDArray[] second = new NDArray[ParameterIndex.PER_LAYER];
        // each slot's parameter average (ParameterAverage.parameters), when the pool keeps them
        final NDArray[] averaged;
        final NDArray knots; // (S, in, G+2k+1)
        final NDArray[] leftInv; // [p] (S, in, G+2k−p)   1/(t_(j+p) − t_j), guarded
        final NDArray[] rightInv; // [p] (S, in, G+2k−p)   1/(t_(j+p+1) − t_(j+1)), guarded
        final NDArray derivLeft; // (S, in, G+k)   k/(t_(j+k) − t_j)
        final NDArray derivRight; // (S, in, G+k)   k/(t_(j+k+1) − t_(j+1))

        PoolLayer(
                int in,
                int out,
                int gridSize,
                int order,
                int slots,
                boolean averaging,
                NDManager manager) {
            this.in = in;
            this.out = out;
            this.order = order;
            this.coefficients = KnotGrid.coefficients(gridSize, order);
            this.knotsPerFeature = KnotGrid.knotCount(gridSize, order);
            Shape[] shapes = {
                new Shape(slots, out, in),
                new Shape(slots, out, in, coefficients),
                new Shape(slots, out, in)
            };
            averaged = averaging ? new NDArray[ParameterIndex.PER_LAYER] : null;
            for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                parameter[p] = manager.zeros(shapes[p]);
                first[p] = manager.zeros(shapes[p]);
                second[p] = manager.zeros(shapes[p]);
                if (averaging) {
                    averaged[p] = manager.zeros(shapes[p]);
                }
            }
            // an empty slot's grid: increasing, so a stray gather of it computes finite zeros
            float[] ramp = new float[slots * in * knotsPerFeature];
            for (int q = 0; q < ramp.length; q++) {
                ramp[q] = q % knotsPerFeature;
            }
            knots = manager.create(ramp, new Shape(slots, in, knotsPerFeature));
            leftInv = new NDArray[order + 1];
            rightInv = new NDArray[order + 1];
            for (int p = 1; p <= order; p++) {
                leftInv[p] = manager.zeros(new Shape(slots, in, knotsPerFeature - 1 - p));
                rightInv[p] = manager.zeros(new Shape(slots, in, knotsPerFeature - 1 - p));
            }
            derivLeft = order >= 1 ? manager.zeros(new Shape(slots, in, coefficients)) : null;
            derivRight = order >= 1 ? manager.zeros(new Shape(slots, in, coefficients)) : null;
        }

        /**
         * {@link KanLayer#forward}, per group with the group's own parameters (or their average)
         * and grid.
         */
        LayerPass forward(NDArray slots, NDArray x, boolean average) {
            NDArray[] weights = average ? averaged : parameter;
            LayerPass a = new LayerPass();
            long groups = x.getShape().get(0);
            long rows = x.getShape().get(1);
            NDIndex at = new NDIndex("{}", slots);
            a.input = x;
            a.sigmoid = Activation.sigmoid(x);
            a.silu = x.mul(a.sigmoid);
            a.baseWeight = weights[0].get(at);
            a.splineWeight = weights[1].get(at);
            a.splineScaler = weights[2].get(at);
            NDArray baseOut = a.silu.matMul(a.baseWeight.transpose(0, 2, 1)); // (G, n, out)
            // B-splines with each group's grid: (G, n, in, 1) against (G, 1, in, ·)
            NDArray xe = x.expandDims(3);
            NDArray t = knots.get(at).expandDims(1); // (G, 1, in, m)
            int m = knotsPerFeature;
            NDArray b =
                    xe.gte(t.get(new NDIndex("..., :{}", m - 1)))
                            .logicalAnd(xe.lt(t.get(new NDIndex("..., 1:"))))
                            .toType(DataType.FLOAT32, false); // (G, n, in, m−1)
            NDArray previous = null;
            for (int p = 1; p <= order; p++) {
                int width = m - 1 - p;
                NDArray head = b.get(new NDIndex("..., :{}", width));
                NDArray tail = b.get(new NDIndex("..., 1:"));
                NDArray leftKnot = t.get(new NDIndex("..., :{}", width));
                NDArray rightKnot = t.get(new NDIndex("..., {}:", p + 1));
                NDArray li = leftInv[p].get(at).expandDims(1);
                NDArray ri = rightInv[p].get(at).expandDims(1);
                NDArray left = xe.sub(leftKnot).mul(li).mul(head);
                NDArray right = xe.sub(rightKnot).mul(ri).mul(tail);
                previous = b;
                b = left.sub(right);
            }
            a.previous = previous;
            a.basesFlat = b.reshape(groups, rows, (long) in * coefficients);
            a.scaledFlat =
                    a.splineWeight
                            .mul(a.splineScaler.expandDims(3))
                            .reshape(groups, out, (long) in * coefficients);
            a.output = baseOut.add(a.basesFlat.matMul(a.scaledFlat.transpose(0, 2, 1)));
            if (order >= 1) {
                a.derivLeft = derivLeft.get(at).expandDims(1);
                a.derivRight = derivRight.get(at).expandDims(1);
            }
            return a;
        }

        /** {@link KanLayer#parameterGradients} per group: Wb, C, S. */
        NDArray[] parameterGradients(LayerPass a, NDArray dOut) {
            long groups = dOut.getShape().get(0);
            NDArray dOutT = dOut.transpose(0, 2, 1); // (G, out, n)
            NDArray gBase = dOutT.matMul(a.silu); // (G, out, in)
            NDArray gScaled = dOutT.matMul(a.basesFlat).reshape(groups, out, in, coefficients);
            NDArray gSpline = gScaled.mul(a.splineScaler.expandDims(3));
            NDArray gScaler = gScaled.mul(a.splineWeight).sum(new int[] {3});
            return new NDArray[] {gBase, gSpline, gScaler};
        }

        /** {@link KanLayer#inputGradient} per group. */
        NDArray inputGradient(LayerPass a, NDArray dOut) {
            long groups = dOut.getShape().get(0);
            long rows = dOut.getShape().get(1);
            NDArray siluGrad = a.sigmoid.mul(a.input.mul(a.sigmoid.neg().add(1)).add(1));
            NDArray dx = dOut.matMul(a.baseWeight).mul(siluGrad); // (G, n, in)
            if (order >= 1) {
                NDArray dBases = dOut.matMul(a.scaledFlat).reshape(groups, rows, in, coefficients);
                NDArray head = a.previous.get(new NDIndex("..., :{}", coefficients));
                NDArray tail = a.previous.get(new NDIndex("..., 1:"));
                NDArray derivative = head.mul(a.derivLeft).sub(tail.mul(a.derivRight));
                dx = dx.add(dBases.mul(derivative).sum(new int[] {3}));
            }
            return dx;
        }

        void close() {
            for (int p = 0; p < ParameterIndex.PER_LAYER; p++) {
                parameter[p].close();
                first[p].close();
                second[p].close();
                if (averaged != null) {
                    averaged[p].close();
                }
            }
            knots.close();
            for (int p = 1; p <= order; p++) {
                leftInv[p].close();
                rightInv[p].close();
            }
            if (derivLeft != null) {
                derivLeft.close();
                derivRight.close();
            }
        }
    }

    /** Writes every resident learner back and frees the device memory. */
    @Override
    public void close() {
        try {
            writeBack();
        } finally {
            for (KanLearner learner : new ArrayList<>(recent.keySet())) {
                learner.pool = null;
                learner.poolSlot = -1;
                learner.poolBehind = false;
                learner.hostBehindPool = false;
            }
            recent.clear();
            for (PoolLayer layer : layers) {
                layer.close();
            }
            manager.close();
        }
    }
}
