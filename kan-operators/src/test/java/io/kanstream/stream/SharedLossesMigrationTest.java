package io.kanstream.stream;

import static io.kanstream.stream.OnlineKanOperatorTest.harness;
import static io.kanstream.stream.OnlineKanOperatorTest.scores;
import static io.kanstream.stream.SharedLossesFixture.FIXTURE;
import static io.kanstream.stream.SharedLossesFixture.KEYS;
import static io.kanstream.stream.SharedLossesFixture.OLD_LOSSES;
import static io.kanstream.stream.SharedLossesFixture.config;
import static io.kanstream.stream.SharedLossesFixture.events;
import static io.kanstream.stream.SharedLossesFixture.keyed;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;

/**
 * A savepoint of the layout in which each key's losses beside the shared model had a keyed state of
 * their own restores into today's, which keeps them in the key's progress: the committed snapshot
 * {@link SharedLossesFixture} describes, and the old layout written on both backends.
 */
class SharedLossesMigrationTest {
    private static Path fixture(String file) throws URISyntaxException {
        URL url = SharedLossesMigrationTest.class.getResource("/state/" + FIXTURE + "/" + file);
        assertThat(url).as("the committed fixture %s/%s", FIXTURE, file).isNotNull();
        return Path.of(url.toURI());
    }

    /** Per key: its two losses and its probe event's score, as the old code read them. */
    private static Map<String, String[]> expected() throws IOException, URISyntaxException {
        Map<String, String[]> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(fixture("expected.txt"))) {
            String[] f = line.split(" ");
            out.put(f[0], f);
        }
        return out;
    }

    @Test
    void lossesInTheirOwnStateMoveIntoEachKeysProgressAndScoreAsBefore() throws Exception {
        OperatorSubtaskState snapshot =
                OperatorSnapshotUtil.readStateHandle(fixture("snapshot").toString());
        Map<String, String[]> expected = expected();
        assertThat(expected).hasSize(KEYS);
        try (var h = harness(config())) {
            h.initializeState(snapshot);
            h.open();
            for (var e : expected.entrySet()) {
                KeyProgress p = keyed(h, e.getKey(), OnlineKanOperator.progressStateDescriptor());
                assertThat(p.sharedLosses())
                        .as("losses of %s", e.getKey())
                        .containsExactly(
                                Double.parseDouble(e.getValue()[1]),
                                Double.parseDouble(e.getValue()[2]));
                assertThat(keyed(h, e.getKey(), OLD_LOSSES))
                        .as("old state of %s", e.getKey())
                        .isNull();
            }
            // not fresh: the keys had learned which of their two models to trust
            assertThat(expected.values())
                    .anyMatch(f -> Double.parseDouble(f[1]) != Double.parseDouble(f[2]));

            for (Event e : events(40 * KEYS, 41 * KEYS, false)) {
                h.processElement1(e, e.ts());
            }
            for (Score s : scores(h)) {
                assertThat(s.score())
                        .as("score of %s's probe", s.key())
                        .isEqualTo(Double.parseDouble(expected.get(s.key())[3]));
            }

            // and every key goes on learning, its losses charged in its progress
            for (Event e : events(41 * KEYS, 50 * KEYS, true)) {
                h.processElement1(e, e.ts());
            }
            for (var e : expected.entrySet()) {
                KeyProgress p = keyed(h, e.getKey(), OnlineKanOperator.progressStateDescriptor());
                assertThat(p.sharedLosses()[0])
                        .as("own loss of %s", e.getKey())
                        .isNotEqualTo(Double.parseDouble(e.getValue()[1]));
            }
        }
    }

    /**
     * The old layout as a writer of it leaves it, on both backends (a checkpoint restores only into
     * the backend that wrote it): each key's progress, and its losses in their own state. Every
     * key's losses move into its progress, and a checkpoint taken afterwards holds none apart.
     */
    @Test
    void onBothBackendsTheOldStateIsMovedAndLeftEmpty() throws Exception {
        for (boolean rocks : new boolean[] {false, true}) {
            List<Event> written = new ArrayList<>();
            for (int k = 0; k < KEYS; k++) {
                written.add(new Event("w" + k, "card-" + k, k, new float[] {0, 0}));
            }
            OperatorSubtaskState old =
                    OnlineKanOperatorTest.checkpointOf(new OldLayoutWriter(), rocks, written);
            OperatorSubtaskState after;
            try (var h = harness(config())) {
                if (rocks) {
                    h.setStateBackend(new EmbeddedRocksDBStateBackend());
                }
                h.initializeState(old);
                h.open();
                assertThat(OnlineKanOperatorTest.operator(h).keysInState()).isEqualTo(KEYS);
                for (int k = 0; k < KEYS; k++) {
                    String key = "card-" + k;
                    assertThat(
                                    keyed(h, key, OnlineKanOperator.progressStateDescriptor())
                                            .sharedLosses())
                            .as("losses of %s, rocks %s", key, rocks)
                            .containsExactly(OldLayoutWriter.losses(k));
                    assertThat(keyed(h, key, OLD_LOSSES)).isNull();
                }
                after = h.snapshot(2L, 30L);
            }
            // read back by the old layout's writer, which moves nothing: none left apart
            try (var reader = OnlineKanOperatorTest.keyedHarness(new OldLayoutWriter(), rocks)) {
                reader.initializeState(after);
                reader.open();
                var backend = reader.getOperator().getKeyedStateBackend();
                try (var left =
                                backend.getKeys(
                                        OnlineKanOperator.LEGACY_LOSSES_STATE,
                                        VoidNamespace.INSTANCE);
                        var progressed =
                                backend.getKeys(
                                        OnlineKanOperator.PROGRESS_STATE, VoidNamespace.INSTANCE)) {
                    assertThat(left.count()).as("old entries, rocks %s", rocks).isZero();
                    assertThat(progressed.count()).isEqualTo(KEYS);
                }
            }
        }
    }

    /** What the operator kept before the losses moved: each key's progress and its losses apart. */
    static final class OldLayoutWriter extends AbstractStreamOperator<Object>
            implements OneInputStreamOperator<Event, Object> {
        private transient ValueState<KeyProgress> progress;
        private transient ValueState<double[]> losses;

        static double[] losses(int k) {
            return new double[] {0.5 + k, 0};
        }

        @Override
        public void initializeState(StateInitializationContext context) throws Exception {
            super.initializeState(context);
            progress = getKeyedStateStore().getState(OnlineKanOperator.progressStateDescriptor());
            losses = getKeyedStateStore().getState(OLD_LOSSES);
        }

        @Override
        public void processElement(StreamRecord<Event> record) throws Exception {
            Event e = record.getValue();
            KeyProgress p = new KeyProgress(2, 1);
            p.events = 3;
            p.lastSeen = e.ts();
            progress.update(p);
            losses.update(losses((int) e.ts()));
        }
    }
}
