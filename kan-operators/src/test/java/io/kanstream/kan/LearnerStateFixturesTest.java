package io.kanstream.kan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Model state written by every earlier format stays readable: the committed fixtures in {@code
 * state/v1/} (made by {@link FormatV1Fixtures} at commit 1e28b33), {@code state/v2/} (made by
 * {@link FormatV2Fixtures} at commit 42986c6), {@code state/v3/} (made by {@link FormatV3Fixtures}
 * at commit 9aeec8e, one with a companion KAN, one with two) and {@code state/v4/} (made by {@link
 * FormatV4Fixtures} at commit 1ce7f8a, Adam without momentum), {@code state/v5/} (made by {@link
 * FormatV5Fixtures} at commit 27b5114, with a parameter average) and {@code state/v6/} (made by
 * {@link FormatV6Fixtures}, with refits declined in a row) and {@code state/v7/} (made by {@link
 * FormatV7Fixtures}, with the calibration-bias flag) decode, predict what they predicted when they
 * were written, and keep learning. A later format must keep these passing through its migration of
 * the older ones, not by regenerating the fixtures; and format 4 writes a learner with momentum in
 * format 3's layout, byte for byte but the version.
 */
class LearnerStateFixturesTest {

    /** Every committed fixture: {@code v1/binary} names {@code state/v1/learner-4-8-1-binary.*}. */
    static List<String> fixtures() {
        return List.of(
                "v1/binary",
                "v1/regression",
                "v2/binary",
                "v2/regression",
                "v3/binary",
                "v3/regression",
                "v3/binary-companions",
                "v3/regression-mixture",
                "v4/binary",
                "v4/regression",
                "v5/binary",
                "v5/regression",
                "v6/binary",
                "v6/regression",
                "v7/binary",
                "v7/regression");
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void anOlderModelPredictsTheOutputsRecordedWhenItWasWritten(String task) {
        Probe probe = Probe.read(task);
        try (KanLearner learner = decode(task)) {
            float[] outputs = learner.outputs(probe.rows(), probe.size());

            assertThat(outputs).hasSize(probe.size());
            for (int s = 0; s < probe.size(); s++) {
                float expected = probe.outputs()[s];
                // relative, with an absolute floor for outputs near 0
                assertThat(outputs[s])
                        .as("%s probe row %d", task, s)
                        .isCloseTo(expected, within(1e-6f * Math.max(1f, Math.abs(expected))));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void anOlderModelKeepsItsStepExampleAndGridCounters(String task) {
        Probe probe = Probe.read(task);
        try (KanLearner learner = decode(task)) {
            assertThat(learner.steps()).isEqualTo(probe.counter("steps"));
            assertThat(learner.examples()).isEqualTo(probe.counter("examples"));
            assertThat(learner.gridEpoch()).isEqualTo(probe.counter("gridEpoch"));
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void anOlderModelLearnsOnAndItsStateRoundTripsAgain(String task) {
        Probe probe = Probe.read(task);
        String name = task.substring(task.indexOf('/') + 1);
        // v3/binary-companions has one companion, v3/regression-mixture two
        Task kind = Task.parse(name.split("-")[0]);
        int companions = name.endsWith("-companions") ? 1 : name.endsWith("-mixture") ? 2 : 0;
        SplittableRandom random = new SplittableRandom(5);
        byte[] again;
        long steps;
        try (KanLearner learner = decode(task)) {
            for (int b = 0; b < 4; b++) {
                float[] rows = FormatV1Fixtures.rows(random, FormatV1Fixtures.BATCH);
                learner.learn(rows, FormatV1Fixtures.labels(kind, rows, random));
            }
            steps = learner.steps();
            assertThat(steps).isEqualTo(probe.counter("steps") + 4);
            assertThat(learner.examples())
                    .isEqualTo(probe.counter("examples") + 4 * FormatV1Fixtures.BATCH);
            assertFinite(learner.outputs(probe.rows(), probe.size()));
            again = LearnerStateCodec.encode(learner);
        }
        assertThat(java.nio.ByteBuffer.wrap(again, 4, 4).getInt())
                .isEqualTo(LearnerStateCodec.CURRENT_VERSION);
        try (KanLearner reread = LearnerStateCodec.decode(again, "cpu")) {
            assertThat(reread.companions()).isEqualTo(companions);
            assertThat(reread.steps()).isEqualTo(steps);
            assertThat(reread.gridEpoch()).isEqualTo(probe.counter("gridEpoch"));
            assertFinite(reread.outputs(probe.rows(), probe.size()));
        }
    }

    /**
     * Formats 4 to 7 store a learner with momentum (beta1 > 0) as format 3 did, format 5 adds only
     * the parameter average's horizon (0 for a learner from an older format, which has none),
     * format 6 the refits declined in a row (0 for an older one) and format 7 the calibration-bias
     * flag (set for an older one) and the initial rate (constant for an older one): a learner
     * decoded from a format-3 fixture encodes to the very same bytes but the version and those
     * three fields, and does so again from the learner the first encoding left behind, so a faster
     * codec cannot change what checkpoints, savepoints and model files hold.
     */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "v3/binary",
                "v3/regression",
                "v3/binary-companions",
                "v3/regression-mixture"
            })
    void aFormat3LearnerEncodesToItsBytesButTheVersionAndTheNewerFields(String task) {
        byte[] fixture = resource(task, ".kans");
        byte[] expected = asCurrentFormat(fixture, 3);
        try (KanLearner learner = LearnerStateCodec.decode(fixture, "cpu")) {
            assertThat(LearnerStateCodec.encode(learner)).isEqualTo(expected);
            assertThat(LearnerStateCodec.encode(learner)).isEqualTo(expected);
        }
    }

    /**
     * A format-4 learner without momentum (no first moments in its bytes) encodes to the very same
     * bytes but the version, the average's horizon, 0, and the refits declined in a row, 0: a job
     * upgraded from format 4 keeps its keys' models as they were.
     */
    @ParameterizedTest
    @ValueSource(strings = {"v4/binary", "v4/regression"})
    void aFormat4LearnerEncodesToItsBytesButTheVersionAndTheNewerFields(String task) {
        byte[] fixture = resource(task, ".kans");
        byte[] expected = asCurrentFormat(fixture, 4);
        try (KanLearner learner = LearnerStateCodec.decode(fixture, "cpu")) {
            assertThat(learner.config().beta1()).isZero();
            assertThat(learner.config().averageHorizon()).isZero();
            assertThat(LearnerStateCodec.encode(learner)).isEqualTo(expected);
            assertThat(LearnerStateCodec.encode(learner)).isEqualTo(expected);
        }
    }

    /**
     * A format-5 learner with its parameter average encodes to its very bytes but the version and
     * the refits declined in a row, 0: its next look at the grids comes after the policy's minimum
     * interval.
     */
    @ParameterizedTest
    @ValueSource(strings = {"v5/binary", "v5/regression"})
    void aFormat5LearnerEncodesToItsBytesButTheVersionAndTheDeclinedInARow(String task) {
        byte[] fixture = resource(task, ".kans");
        try (KanLearner learner = LearnerStateCodec.decode(fixture, "cpu")) {
            assertThat(learner.config().averageHorizon()).isPositive();
            assertThat(learner.average).isNotNull();
            assertThat(learner.declinedInARow()).isZero();
            assertThat(LearnerStateCodec.encode(learner)).isEqualTo(asCurrentFormat(fixture, 5));
        }
    }

    /**
     * A format-6 learner encodes to its very bytes but the version, the calibration-bias flag, set,
     * and a constant rate: a key restored from it goes on learning as it did.
     */
    @ParameterizedTest
    @ValueSource(strings = {"v6/binary", "v6/regression"})
    void aFormat6LearnerEncodesToItsBytesButTheVersionAndTheNewerFields(String task) {
        byte[] fixture = resource(task, ".kans");
        try (KanLearner learner = LearnerStateCodec.decode(fixture, "cpu")) {
            assertThat(learner.declinedInARow())
                    .isEqualTo(Probe.read(task).counter("declinedInARow"));
            assertThat(learner.config().calibrationBias()).isTrue();
            // the flag asks for a bias; only a binary model's calibration has one to learn
            assertThat(learner.calibrationLearnsBias()).isEqualTo(task.endsWith("binary"));
            assertThat(learner.config().initialRate(1)).isEqualTo(1);
            assertThat(LearnerStateCodec.encode(learner)).isEqualTo(asCurrentFormat(fixture, 6));
        }
    }

    /**
     * A format-7 learner encodes to its very bytes; a default one learns no calibration bias and
     * started at three times its rate.
     */
    @ParameterizedTest
    @ValueSource(strings = {"v7/binary", "v7/regression"})
    void aFormat7LearnerEncodesToItsBytes(String task) {
        byte[] fixture = resource(task, ".kans");
        try (KanLearner learner = LearnerStateCodec.decode(fixture, "cpu")) {
            assertThat(learner.config().calibrationBias()).isFalse();
            assertThat(learner.calibrationLearnsBias()).isFalse();
            assertThat(learner.calibration.bias).containsOnly(0.0);
            assertThat(learner.config().initialRateFactor()).isEqualTo(3);
            assertThat(learner.config().initialRateSteps()).isEqualTo(300);
            assertThat(LearnerStateCodec.encode(learner)).isEqualTo(fixture);
        }
    }

    /**
     * An encoding of format {@code from} (3 to 6) as the current format writes the same learner:
     * the version fields set to the current one, an average horizon of 0.0 after each
     * configuration's mixture horizon where format {@code from} had none, the calibration-bias flag
     * set and a constant rate (factor 1.0 over 0 steps) after it, and 0 refits declined in a row
     * after the declined refits' count where format {@code from} had none, the nested companions'
     * too (whose length prefixes grow by as much).
     */
    private static byte[] asCurrentFormat(byte[] encoding, int from) {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(encoding);
        assertThat(in.getInt(0)).isEqualTo(LearnerStateCodec.MAGIC);
        assertThat(in.getInt(4)).isEqualTo(from);
        int configEnd = configEnd(in, 8);
        int bodyStart = configEnd + (from >= 5 ? Double.BYTES : 0);
        int companions = in.getInt(afterSeed(in, 8));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(8);
        head.putInt(LearnerStateCodec.MAGIC).putInt(LearnerStateCodec.CURRENT_VERSION);
        out.writeBytes(head.array());
        out.writeBytes(java.util.Arrays.copyOfRange(encoding, 8, bodyStart));
        if (from < 5) {
            out.writeBytes(new byte[Double.BYTES]); // 0.0: no average
        }
        out.write(1); // the calibration bias every binary model learned before format 7
        // and the constant rate: a factor of 1.0 over 0 steps
        out.writeBytes(java.nio.ByteBuffer.allocate(16).putDouble(1.0).putLong(0).array());
        // the companions close the encoding, each its length and then its own encoding
        int firstCompanion = encoding.length;
        int[] starts = new int[companions];
        for (int at = bodyStart, c = 0; c < companions && at + 8 <= encoding.length; at++) {
            if (in.getInt(at) == LearnerStateCodec.MAGIC && in.getInt(at + 4) == from) {
                starts[c] = at;
                if (c == 0) {
                    firstCompanion = at - Integer.BYTES;
                }
                at += in.getInt(at - Integer.BYTES) - 1;
                c++;
            }
        }
        int afterDeclined = bodyStart + 2 * Long.BYTES; // the examples, the declined refits
        out.writeBytes(java.util.Arrays.copyOfRange(encoding, bodyStart, afterDeclined));
        if (from < 6) {
            out.writeBytes(new byte[Integer.BYTES]); // none declined in a row
        }
        out.writeBytes(java.util.Arrays.copyOfRange(encoding, afterDeclined, firstCompanion));
        for (int start : starts) {
            int length = in.getInt(start - Integer.BYTES);
            byte[] migrated =
                    asCurrentFormat(
                            java.util.Arrays.copyOfRange(encoding, start, start + length), from);
            out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(migrated.length).array());
            out.writeBytes(migrated);
        }
        return out.toByteArray();
    }

    /** Where a configuration of format 3 or later ends, before format 5's average horizon. */
    private static int configEnd(java.nio.ByteBuffer in, int at) {
        int p = afterSeed(in, at);
        int count = in.getInt(p);
        return p + Integer.BYTES + Double.BYTES * count + Double.BYTES;
    }

    /** Where a configuration's companion count lies: after the seed, as {@code writeConfig}. */
    private static int afterSeed(java.nio.ByteBuffer in, int at) {
        int p = at;
        int widths = in.getInt(p);
        p += Integer.BYTES * (1 + widths);
        p += 2 * Integer.BYTES; // grid size, spline order
        p += Short.BYTES + in.getShort(p); // the task's name
        p += 14 * Double.BYTES; // optimizer, logit bound, grid and initialization settings
        p += 1; // normalize
        p += Integer.BYTES; // statistics horizon
        p += 3 * Double.BYTES; // refit settings
        p += 3 * Long.BYTES; // normalizer horizon and warm-up, seed
        return p;
    }

    private static void assertFinite(float[] outputs) {
        for (int s = 0; s < outputs.length; s++) {
            assertThat(outputs[s]).as("output %d", s).isFinite();
        }
    }

    /**
     * The fixture's learner, on the CPU: the fixture says {@code auto}, and a GPU's sums would not
     * match the recorded outputs to 1e-6.
     */
    private static KanLearner decode(String fixture) {
        return LearnerStateCodec.decode(resource(fixture, ".kans"), "cpu");
    }

    /** A fixture's file: {@code fixture} is {@code v1/binary} and the like. */
    private static byte[] resource(String fixture, String suffix) {
        return resource(fixture.replace("/", "/learner-4-8-1-") + suffix);
    }

    private static byte[] resource(String name) {
        try (InputStream in =
                LearnerStateFixturesTest.class.getResourceAsStream("/state/" + name)) {
            assertThat(in).as("test resource state/%s", name).isNotNull();
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A fixture's probe file: a {@code # name=value ...} line of counters, a header, then rows of
     * four inputs and the output the learner gave them.
     */
    private record Probe(Map<String, Long> counters, float[] rows, float[] outputs) {
        static Probe read(String task) {
            String text = new String(resource(task, ".probe.csv"), StandardCharsets.UTF_8);
            Map<String, Long> counters = new HashMap<>();
            List<float[]> lines = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.startsWith("#")) {
                    for (String pair : line.substring(1).trim().split("\\s+")) {
                        String[] kv = pair.split("=");
                        counters.put(kv[0], Long.parseLong(kv[1]));
                    }
                } else if (!line.isBlank() && !line.startsWith("x0")) {
                    String[] cells = line.split(",");
                    float[] values = new float[cells.length];
                    for (int c = 0; c < cells.length; c++) {
                        values[c] = Float.parseFloat(cells[c]);
                    }
                    lines.add(values);
                }
            }
            float[] rows = new float[lines.size() * 4];
            float[] outputs = new float[lines.size()];
            for (int s = 0; s < lines.size(); s++) {
                System.arraycopy(lines.get(s), 0, rows, 4 * s, 4);
                outputs[s] = lines.get(s)[4];
            }
            return new Probe(counters, rows, outputs);
        }

        int size() {
            return outputs.length;
        }

        long counter(String name) {
            assertThat(counters).as("counters in the probe file").containsKey(name);
            return counters.get(name);
        }
    }
}
