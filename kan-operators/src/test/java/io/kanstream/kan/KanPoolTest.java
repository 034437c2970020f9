package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The batched kernel computes, for each of many keys, what that key's own learner computes on the
 * host: scores, statistics, and the parameters and moments after several steps. It runs on the
 * device the {@code kanstream.test.device} property names (cpu unless set), the same DJL code a GPU
 * runs.
 */
class KanPoolTest {
    private static final String DEVICE = System.getProperty("kanstream.test.device", "cpu");
    private static final List<Integer> SHAPE = List.of(8, 16, 1);

    /** The learners' defaults (Adam without momentum); a test may add momentum. */
    private static KanConfig config(long seed) {
        return config(seed, KanConfig.builder(SHAPE).build().beta1());
    }

    private static KanConfig config(long seed, double beta1) {
        return config(seed, beta1, 0);
    }

    /**
     * With a parameter average over {@code horizon} steps (0: none), at a constant rate: the
     * comparisons of hundreds of steps below bound how far the device's rounding carries the pool
     * from the host at this rate ({@link #aYoungKeysStepsOnThePoolAreTheHostsToo} covers the
     * initial rate).
     */
    private static KanConfig config(long seed, double beta1, double horizon) {
        return KanConfig.builder(SHAPE)
                .device(DEVICE)
                .seed(seed)
                .learningRate(0.02)
                .constantRate()
                .clipNorm(1.0)
                .beta1(beta1)
                .averageHorizon(horizon)
                .build();
    }

    private static float[] rows(SplittableRandom random, int n, double spread) {
        float[] x = new float[n * SHAPE.get(0)];
        for (int q = 0; q < x.length; q++) {
            x[q] = (float) ((2 * random.nextDouble() - 1) * spread);
        }
        return x;
    }

    private static double[] labels(float[] x, int n) {
        int in = SHAPE.get(0);
        double[] y = new double[n];
        for (int s = 0; s < n; s++) {
            y[s] = Math.sin(3 * x[s * in]) + 0.5 * x[s * in + 1];
        }
        return y;
    }

    /**
     * Keys that differ in every way the kernel must keep apart: seeds, normalizers, grids (some
     * refit to their own data), Adam step counts. Built twice from the same seeds: a host twin and
     * a pooled twin start equal.
     */
    private static KanLearner[] keys(int count, long seed) {
        return keys(count, seed, config(0).beta1());
    }

    private static KanLearner[] keys(int count, long seed, double beta1) {
        return keys(count, seed, beta1, 0);
    }

    private static KanLearner[] keys(int count, long seed, double beta1, double horizon) {
        SplittableRandom random = new SplittableRandom(seed);
        KanLearner[] learners = new KanLearner[count];
        for (int k = 0; k < count; k++) {
            learners[k] = KanLearner.create(config(1000 + k, beta1, horizon));
            int warm = k % 3;
            for (int step = 0; step < warm; step++) {
                float[] x = rows(random, 4, 1.5);
                learners[k].learn(x, labels(x, 4));
            }
            if (k % 50 == 0) {
                learners[k].refit(rows(random, 64, 0.5 + k % 7), 64, 5);
            }
        }
        return learners;
    }

    /** Exact copies, through the state codec: cheaper than building the keys again. */
    private static KanLearner[] twins(KanLearner[] learners) {
        KanLearner[] copies = new KanLearner[learners.length];
        for (int k = 0; k < learners.length; k++) {
            copies[k] = LearnerStateCodec.decode(LearnerStateCodec.encode(learners[k]));
        }
        return copies;
    }

    private static void closeAll(KanLearner[] learners) {
        for (KanLearner learner : learners) {
            learner.close();
        }
    }

    /**
     * Keys at their first steps, with the default initial rate (three times the rate, falling over
     * 300 steps): the pool steps each key as far as its host twin does, and that is farther than a
     * constant rate would have taken it.
     */
    @Test
    void aYoungKeysStepsOnThePoolAreTheHostsToo() {
        int keys = 8;
        KanLearner[] host = new KanLearner[keys];
        KanLearner[] pooled = new KanLearner[keys];
        KanLearner[] constant = new KanLearner[keys];
        for (int k = 0; k < keys; k++) {
            KanConfig young = config(2000 + k).toBuilder().initialRate(3, 300).build();
            host[k] = KanLearner.create(young);
            pooled[k] = KanLearner.create(young);
            constant[k] = KanLearner.create(young.toBuilder().constantRate().build());
        }
        SplittableRandom random = new SplittableRandom(21);
        try (KanPool pool = KanPool.open(config(0), keys)) {
            for (int step = 0; step < 3; step++) {
                float[][] x = new float[keys][];
                double[][] y = new double[keys][];
                for (int k = 0; k < keys; k++) {
                    x[k] = rows(random, 2, 1.5);
                    y[k] = labels(x[k], 2);
                    host[k].learn(x[k], y[k]);
                    constant[k].learn(x[k], y[k]);
                }
                pool.learn(pooled, x, y);
            }
            pool.writeBack();
            for (int k = 0; k < keys; k++) {
                assertThat(parameterGap(pooled[k], host[k])).isLessThan(1e-5);
                assertThat(parameterGap(host[k], constant[k])).isGreaterThan(1e-3);
            }
        } finally {
            closeAll(host);
            closeAll(pooled);
            closeAll(constant);
        }
    }

    @Test
    void scoringRecordsWhatTheHostRecords() {
        KanLearner[] host = keys(40, 7);
        KanLearner[] pooled = keys(40, 7);
        SplittableRandom random = new SplittableRandom(8);
        try (KanPool pool = KanPool.open(config(0), 40)) {
            for (int round = 0; round < 20; round++) {
                float[] x = rows(random, 40, 2);
                pool.score(pooled, x);
                for (int k = 0; k < 40; k++) {
                    host[k].score(java.util.Arrays.copyOfRange(x, k * 8, (k + 1) * 8), 1);
                }
            }
            for (int k = 0; k < 40; k++) {
                assertThat(pooled[k].examplesSinceRefit()).isEqualTo(host[k].examplesSinceRefit());
                for (int l = 0; l < 2; l++) {
                    assertThat(pooled[k].outsideGridFraction(l))
                            .isCloseTo(host[k].outsideGridFraction(l), within(1e-6));
                    assertThat(pooled[k].knotMisfit(l))
                            .isCloseTo(host[k].knotMisfit(l), within(1e-6));
                }
            }
        } finally {
            closeAll(host);
            closeAll(pooled);
        }
    }

    private static org.assertj.core.data.Offset<Double> within(double value) {
        return org.assertj.core.data.Offset.offset(value);
    }

    /** Largest |a − b| over every parameter and Adam moment of two learners. */
    /**
     * Largest difference of parameters and Adam moments; first moments only where β₁ > 0 (with β₁ =
     * 0 each step overwrites them, so a restored learner holds zeros there and is the same
     * learner).
     */
    private static double parameterGap(KanLearner a, KanLearner b) {
        double worst = 0;
        boolean firstMoments = a.config().beta1() > 0;
        for (int q = 0; q < 3 * a.layerCount(); q++) {
            float[][] pairs = {
                a.host().parameter(q), b.host().parameter(q),
                a.moment(q, false), b.moment(q, false),
                a.moment(q, true), b.moment(q, true)
            };
            for (int p = 0; p < (firstMoments ? 6 : 4); p += 2) {
                for (int i = 0; i < pairs[p].length; i++) {
                    worst = Math.max(worst, Math.abs(pairs[p][i] - pairs[p + 1][i]));
                }
            }
        }
        return worst;
    }

    /** Largest |pooled − host| of each row's score, each row scored by its own key's twins. */
    private static double scoreGap(
            KanPool pool, KanLearner[] pooled, KanLearner[] host, SplittableRandom random) {
        int keys = pooled.length;
        // one row per key, and a second row for every seventh key; some rows outside the grid
        int n = keys + keys / 7;
        KanLearner[] owners = new KanLearner[n];
        int[] key = new int[n];
        for (int r = 0; r < n; r++) {
            key[r] = r < keys ? r : (r - keys) * 7;
            owners[r] = pooled[key[r]];
        }
        float[] x = rows(random, n, 2.5);
        float[] batched = pool.outputs(owners, x);
        double worst = 0;
        int in = SHAPE.get(0);
        for (int r = 0; r < n; r++) {
            float[] own = java.util.Arrays.copyOfRange(x, r * in, (r + 1) * in);
            worst = Math.max(worst, Math.abs(host[key[r]].outputs(own, 1)[0] - batched[r]));
        }
        return worst;
    }

    /**
     * With momentum (β₁ 0.9), which averages the steps of coordinates whose gradients are at their
     * rounding noise: without it each such coordinate still takes up to a whole step, so sums in
     * another order move the losses of later steps by ~1e-4 and the comparison would say little.
     * The default, without momentum, is held to the host's steps by the eviction test below.
     */
    @Test
    void aThousandKeysScoreAndStepAsEachKeyOnTheHost() {
        int keys = 1000;
        KanLearner[] host = keys(keys, 9, 0.9);
        KanLearner[] pooled = twins(host);
        SplittableRandom random = new SplittableRandom(10);
        // drift boosts on some keys: each key's own learning rate must reach the device
        for (int k = 0; k < keys; k += 11) {
            host[k].boostLearningRate(3, 2);
            pooled[k].boostLearningRate(3, 2);
        }
        try (KanPool pool = KanPool.open(config(0, 0.9), keys)) {
            assertThat(scoreGap(pool, pooled, host, random)).isLessThan(1e-5);
            assertThat(pool.resident()).isEqualTo(keys);
            for (int step = 0; step < 5; step++) {
                float[][] x = new float[keys][];
                double[][] y = new double[keys][];
                for (int k = 0; k < keys; k++) {
                    int n = 1 + (k + step) % 4; // per-key mini-batches of 1 to 4 rows
                    x[k] = rows(random, n, 2);
                    y[k] = labels(x[k], n);
                }
                StepResult[] batched = pool.learn(pooled, x, y);
                for (int k = 0; k < keys; k++) {
                    StepResult own = host[k].learn(x[k], y[k]);
                    assertThat(batched[k].applied()).isEqualTo(own.applied());
                    // the device sums a key's rows in float, the host in double: a few ulps of
                    // a loss in the units (4.27 on one of these keys, 1.1e-5 apart on a Xeon)
                    assertThat(batched[k].loss())
                            .isCloseTo(own.loss(), within(1e-5 + 1e-5 * Math.abs(own.loss())));
                    assertThat(batched[k].gradientNorm())
                            .isCloseTo(
                                    own.gradientNorm(), within(1e-6 + 1e-3 * own.gradientNorm()));
                }
            }
            // the slots are ahead of the hosts now: scores come from the slots
            assertThat(scoreGap(pool, pooled, host, random)).isLessThan(1e-5);
            double worst = 0;
            for (int k = 0; k < keys; k++) {
                assertThat(pooled[k].steps()).isEqualTo(host[k].steps());
                assertThat(pooled[k].learningRateScale()).isEqualTo(host[k].learningRateScale());
                worst = Math.max(worst, parameterGap(pooled[k], host[k]));
            }
            // Adam divides by √v: where a gradient is near its rounding noise, sums in another
            // order move the step by a little; 1e-4 is 1/200 of one step at this learning rate
            assertThat(worst).isLessThan(1e-4);
        } finally {
            closeAll(host);
            closeAll(pooled);
        }
    }

    @Test
    void evictionHostStepsAndRefitsKeepSlotsAndHostsInStep() {
        int keys = 120;
        KanLearner[] host = keys(keys, 11);
        KanLearner[] pooled = keys(keys, 11);
        SplittableRandom random = new SplittableRandom(12);
        try (KanPool pool = KanPool.open(config(0), 50)) {
            for (int round = 0; round < 12; round++) {
                // calls of 40 keys walking over 120: every call evicts some
                int from = (round * 40) % keys;
                KanLearner[] a = new KanLearner[40];
                float[][] x = new float[40][];
                double[][] y = new double[40][];
                for (int q = 0; q < 40; q++) {
                    a[q] = pooled[(from + q) % keys];
                    x[q] = rows(random, 3, 2);
                    y[q] = labels(x[q], 3);
                }
                pool.learn(a, x, y);
                for (int q = 0; q < 40; q++) {
                    host[(from + q) % keys].learn(x[q], y[q]);
                }
                // between pool calls, a key learns on the host and another refits its grids
                KanLearner moved = a[round % 40];
                float[] extra = rows(random, 2, 2);
                moved.learn(extra, labels(extra, 2));
                host[(from + round % 40) % keys].learn(extra, labels(extra, 2));
                float[] sample = rows(random, 64, 1 + round % 3);
                // a refit's least squares magnify ulps: the host twin restarts from the pooled
                // learner's state, so what follows checks that the pool takes the new grids
                int refitted = (from + (round + 7) % 40) % keys;
                pooled[refitted].refit(sample, 64, 5);
                host[refitted].close();
                host[refitted] =
                        LearnerStateCodec.decode(LearnerStateCodec.encode(pooled[refitted]));
            }
            assertThat(pool.evictions()).isGreaterThan(0);
            assertThat(pool.resident()).isLessThanOrEqualTo(50);
            pool.writeBack();
            double worst = 0;
            for (int k = 0; k < keys; k++) {
                assertThat(pooled[k].steps()).isEqualTo(host[k].steps());
                worst = Math.max(worst, parameterGap(pooled[k], host[k]));
            }
            assertThat(worst).isLessThan(1e-5);
            // a checkpoint encodes the slot's parameters, not the host's stale copy
            KanLearner last = pooled[0];
            float[] x = rows(random, 2, 1);
            pool.learn(new KanLearner[] {last}, new float[][] {x}, new double[][] {labels(x, 2)});
            host[0].learn(x, labels(x, 2));
            KanLearner decoded = LearnerStateCodec.decode(LearnerStateCodec.encode(last));
            assertThat(parameterGap(decoded, host[0])).isLessThan(1e-5);
            decoded.close();
        } finally {
            closeAll(host);
            closeAll(pooled);
        }
    }

    /** Largest difference of two learners' parameter averages. */
    private static double averageGap(KanLearner a, KanLearner b) {
        double worst = 0;
        float[][] x = a.currentAverage().parameters;
        float[][] y = b.currentAverage().parameters;
        for (int q = 0; q < x.length; q++) {
            for (int i = 0; i < x[q].length; i++) {
                worst = Math.max(worst, Math.abs(x[q][i] - y[q][i]));
            }
        }
        return worst;
    }

    /**
     * Keys with a parameter average: the pool scores the network and the average and mixes them by
     * the key's losses, charges both their loss on each batch, blends each step into the average in
     * the slot, and hands the average back on eviction and write-back, all as each key's twin does
     * on the host. Calls of 50 keys over 150 in 100 slots: every call evicts some.
     */
    @Test
    void averagedKeysScoreStepAndAverageAsOnTheHost() {
        int keys = 150;
        int call = 50;
        KanLearner[] host = keys(keys, 15, 0.9, 20);
        KanLearner[] pooled = twins(host);
        SplittableRandom random = new SplittableRandom(16);
        int in = SHAPE.get(0);
        try (KanPool pool = KanPool.open(config(0, 0.9, 20), 100)) {
            for (int round = 0; round < 15; round++) {
                int from = (round * call) % keys;
                KanLearner[] a = new KanLearner[call];
                float[][] x = new float[call][];
                double[][] y = new double[call][];
                float[] scored = rows(random, call, 2);
                for (int q = 0; q < call; q++) {
                    a[q] = pooled[(from + q) % keys];
                    int n = 1 + (round + q) % 3;
                    x[q] = rows(random, n, 2);
                    y[q] = labels(x[q], n);
                }
                float[] batched = pool.score(a, scored);
                StepResult[] steps = pool.learn(a, x, y);
                for (int q = 0; q < call; q++) {
                    KanLearner twin = host[(from + q) % keys];
                    float[] own = twin.score(Arrays.copyOfRange(scored, q * in, (q + 1) * in), 1);
                    assertThat((double) batched[q]).isCloseTo(own[0], within(1e-5));
                    StepResult step = twin.learn(x[q], y[q]);
                    assertThat(steps[q].loss()).isCloseTo(step.loss(), within(1e-5));
                }
            }
            assertThat(pool.evictions()).isGreaterThan(0);
            assertThat(scoreGap(pool, Arrays.copyOf(pooled, 100), host, random)).isLessThan(1e-5);
            pool.writeBack();
            double parameters = 0;
            double averages = 0;
            double weights = 0;
            for (int k = 0; k < keys; k++) {
                assertThat(pooled[k].steps()).isEqualTo(host[k].steps());
                parameters = Math.max(parameters, parameterGap(pooled[k], host[k]));
                averages = Math.max(averages, averageGap(pooled[k], host[k]));
                weights =
                        Math.max(
                                weights,
                                Math.abs(
                                        pooled[k].averageWeights()[1]
                                                - host[k].averageWeights()[1]));
            }
            assertThat(parameters).isLessThan(1e-4);
            assertThat(averages).isLessThan(1e-5);
            assertThat(weights).isLessThan(1e-5);
            // the averages moved off the networks, so the comparison above says something
            assertThat(parameterDistance(pooled[0])).isGreaterThan(1e-3);
        } finally {
            closeAll(host);
            closeAll(pooled);
        }
    }

    /** Largest difference between a learner's parameters and its average's. */
    private static double parameterDistance(KanLearner learner) {
        double worst = 0;
        float[][] average = learner.currentAverage().parameters;
        for (int q = 0; q < average.length; q++) {
            float[] own = learner.host().parameter(q);
            for (int i = 0; i < own.length; i++) {
                worst = Math.max(worst, Math.abs(own[i] - average[q][i]));
            }
        }
        return worst;
    }

    @Test
    void refusesWhatItCannotHold() {
        KanLearner other =
                KanLearner.create(
                        KanConfig.builder(List.of(3, 4, 1))
                                .device("cpu")
                                .averageHorizon(0)
                                .build());
        KanLearner averaged = KanLearner.create(config(0).toBuilder().averageHorizon(100).build());
        KanLearner[] three = keys(3, 13);
        try (KanPool pool = KanPool.open(config(0), 2)) {
            assertThatThrownBy(() -> pool.outputs(new KanLearner[] {other}, new float[3]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("does not fit a pool of layers [8, 16, 1]");
            assertThat(pool.accepts(averaged)).isFalse();
            assertThatThrownBy(() -> pool.outputs(new KanLearner[] {averaged}, new float[8]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(
                            "with a parameter average over 100.0 steps does not fit a pool without"
                                    + " parameter averages");
            try (KanPool averaging = KanPool.open(config(0, config(0).beta1(), 30), 2)) {
                assertThat(averaging.accepts(averaged)).isFalse();
                assertThat(averaging.accepts(three[0])).isFalse();
                assertThatThrownBy(() -> averaging.outputs(three, new float[24]))
                        .hasMessageContaining("without a parameter average does not fit a pool");
            }
            assertThatThrownBy(() -> pool.outputs(three, new float[24]))
                    .hasMessageContaining("a call of 3 keys does not fit a pool of 2 slots");
            assertThatThrownBy(
                            () ->
                                    pool.learn(
                                            new KanLearner[] {three[0], three[0]},
                                            new float[][] {new float[8], new float[8]},
                                            new double[][] {{0}, {0}}))
                    .hasMessageContaining("appears twice");
            // a bad label of one key refuses the whole call before any normalizer learns
            double[] before = three[0].inputTransform()[0].clone();
            long examples = three[0].examples();
            assertThatThrownBy(
                            () ->
                                    pool.learn(
                                            new KanLearner[] {three[0], three[1]},
                                            new float[][] {new float[8], new float[8]},
                                            new double[][] {{0.5}, {Double.NaN}}))
                    .hasMessageContaining("learner 1");
            assertThat(three[0].inputTransform()[0]).containsExactly(before);
            assertThat(three[0].examples()).isEqualTo(examples);
        } finally {
            other.close();
            averaged.close();
            closeAll(three);
        }
    }
}
