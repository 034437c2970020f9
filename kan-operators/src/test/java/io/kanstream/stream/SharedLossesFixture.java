package io.kanstream.stream;

import static io.kanstream.stream.OnlineKanOperatorTest.harness;
import static io.kanstream.stream.OnlineKanOperatorTest.scores;

import io.kanstream.kan.Task;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.DoublePrimitiveArraySerializer;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Each key's losses beside the shared model lived in a keyed state of their own ({@code
 * kan-population-losses}) until they moved into the key's progress. The committed operator snapshot
 * {@code state/shared-losses-v6/} was written by the code before that move (main at 72d6f0b, heap
 * backend): 12 keys of a binary stream with the shared model on, one step per label. Beside it,
 * {@code expected.txt} holds what that code read for every key: its two losses, and the score it
 * gave a probe event of the key right after the snapshot (scored before any label, so it depends
 * only on the restored state).
 *
 * <p>{@code SharedLossesMigrationTest} restores it. The writer is a test that runs only when asked
 * (surefire does not pick this class by its name), with the code whose layout the fixture keeps; it
 * refuses to overwrite a fixture that exists:
 *
 * <pre>
 * mvn -B -o -pl kan-operators test -Dtest=SharedLossesFixture \
 *     -Dkanstream.fixtures.write=shared-losses-v6
 * </pre>
 */
class SharedLossesFixture {
    static final String FIXTURE = "shared-losses-v6";
    static final int KEYS = 12;

    /** The old layout's state, by name: the same descriptor before and after the move. */
    static final ValueStateDescriptor<double[]> OLD_LOSSES =
            new ValueStateDescriptor<>(
                    "kan-population-losses", DoublePrimitiveArraySerializer.INSTANCE);

    static OnlineKanConfig config() {
        return OnlineKanOperatorTest.config(Task.BINARY).batchSize(1).population(true).build();
    }

    /** Keys in turn, labels inline: inside a circle of radius 0.6, with a key-dependent shift. */
    static List<Event> events(int from, int to, boolean labeled) {
        SplittableRandom random = new SplittableRandom(11 + from);
        List<Event> events = new ArrayList<>();
        for (int n = from; n < to; n++) {
            float a = (float) (random.nextDouble() * 2 - 1);
            float b = (float) (random.nextDouble() * 2 - 1);
            int k = n % KEYS;
            double label = Math.hypot(a - 0.02 * k, b) < 0.6 ? 1 : 0;
            String key = "card-" + k;
            events.add(
                    labeled
                            ? new Event("e" + n, key, n, new float[] {a, b}, label)
                            : new Event("e" + n, key, n, new float[] {a, b}));
        }
        return events;
    }

    static <T> T keyed(
            KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> h,
            String key,
            ValueStateDescriptor<T> descriptor)
            throws Exception {
        OnlineKanOperator op = OnlineKanOperatorTest.operator(h);
        op.setCurrentKey(key);
        ValueState<T> state =
                op.getKeyedStateBackend()
                        .getPartitionedState(
                                VoidNamespace.INSTANCE,
                                VoidNamespaceSerializer.INSTANCE,
                                descriptor);
        return state.value();
    }

    @Test
    @EnabledIfSystemProperty(named = "kanstream.fixtures.write", matches = FIXTURE)
    void writesTheFixture() throws Exception {
        Path dir = Path.of("src/test/resources/state", FIXTURE);
        if (Files.exists(dir.resolve("snapshot"))) {
            throw new IllegalStateException(dir + " exists: a fixture keeps its layout");
        }
        Files.createDirectories(dir);
        OperatorSubtaskState snapshot;
        StringBuilder expected = new StringBuilder();
        try (var h = harness(config())) {
            h.open();
            for (Event e : events(0, 40 * KEYS, true)) {
                h.processElement1(e, e.ts());
            }
            snapshot = h.snapshot(1L, 40L * KEYS);
            Map<String, double[]> losses = new LinkedHashMap<>();
            for (int k = 0; k < KEYS; k++) {
                losses.put("card-" + k, keyed(h, "card-" + k, OLD_LOSSES));
            }
            h.getOutput().clear();
            for (Event e : events(40 * KEYS, 41 * KEYS, false)) {
                h.processElement1(e, e.ts());
            }
            for (Score s : scores(h)) {
                double[] l = losses.get(s.key());
                expected.append(s.key())
                        .append(' ')
                        .append(l[0])
                        .append(' ')
                        .append(l[1])
                        .append(' ')
                        .append(s.score())
                        .append('\n');
            }
        }
        OperatorSnapshotUtil.writeStateHandle(snapshot, dir.resolve("snapshot").toString());
        Files.writeString(dir.resolve("expected.txt"), expected);
    }
}
