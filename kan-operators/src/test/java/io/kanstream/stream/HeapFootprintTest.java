package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.kan.KanConfig;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * What a live key costs on the heap backend, measured: the operator's whole keyed state (learner,
 * progress with its drift detector, the state map's entries) for many keys in steady state, as the
 * growth of the live heap after a full collection. Against it, the task heap that Flink computes
 * for the TaskManager of {@code scripts/flink-local.sh} (1.6 GB process, 128 MB managed, 384 MB
 * task off-heap). Printed: the figures, including the share of each of that script's two slots.
 */
class HeapFootprintTest {
    private static final int KEYS = 1_000;

    /** Per key: enough labeled events that every summary is filled and the model has stepped. */
    private static final int EVENTS_PER_KEY = 40;

    @Test
    void tenThousandLiveKeysFitTheTaskHeapOfAOneSlot1600MbTaskManager() throws Exception {
        // the job's default learner: layers 4,8,1, a step per label, ADWIN per key
        OnlineKanConfig config =
                OnlineKanConfig.builder(KanConfig.builder(List.of(4, 8, 1)).device("cpu").build())
                        .maxLiveKeys(KEYS)
                        .build();
        long perKey;
        try (var h =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new OnlineKanOperator(config),
                        new OnlineKan.EventKey(),
                        new OnlineKan.LabelKey(),
                        Types.STRING)) {
            h.open();
            SplittableRandom random = new SplittableRandom(7);
            // one key through first: the classes, the engine and the JIT's allocations are in
            // the baseline, not in the keys
            feed(h, random, 0, 1);
            long before = liveHeap();
            feed(h, random, 1, KEYS);
            assertThat(OnlineKanOperatorTest.operator(h).keysInState()).isEqualTo(KEYS);
            long after = liveHeap();
            perKey = (after - before) / (KEYS - 1);
        }
        Configuration tm = new Configuration();
        tm.set(TaskManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse("1600m"));
        tm.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("128m"));
        tm.set(TaskManagerOptions.TASK_OFF_HEAP_MEMORY, MemorySize.parse("384m"));
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(tm);
        long taskHeap = spec.getTaskHeapSize().getBytes();
        long perSlot = taskHeap / 2;
        long tenThousand = 10_000L * perKey;
        System.out.printf(
                "heap per live key (learner, progress, state entries): %,d bytes over %,d keys;"
                        + " 10,000 keys: %,d MB; task heap of the 1.6 GB TaskManager: %,d MB,"
                        + " %,d MB per slot%n",
                perKey, KEYS, tenThousand >> 20, taskHeap >> 20, perSlot >> 20);
        assertThat(perKey).as("bytes per live key").isPositive();
        // one subtask per TaskManager: its state beside what the task allocates per event
        assertThat(tenThousand)
                .as("10,000 keys' state, bytes, within the task heap of a one-slot TaskManager")
                .isLessThanOrEqualTo(taskHeap);
    }

    private static void feed(
            KeyedTwoInputStreamOperatorTestHarness<String, Event, Label, Score> h,
            SplittableRandom random,
            int fromKey,
            int toKey)
            throws Exception {
        for (int e = 0; e < EVENTS_PER_KEY; e++) {
            for (int k = fromKey; k < toKey; k++) {
                float[] x = new float[4];
                for (int d = 0; d < 4; d++) {
                    x[d] = (float) random.nextDouble(-1, 1);
                }
                double label = x[0] * x[1] + 0.5 * x[2];
                h.processElement1(new Event("e" + k + "-" + e, "key-" + k, e, x, label), e);
            }
            // the harness keeps every output: drop them, they are not state
            h.getOutput().clear();
            var metrics = h.getSideOutput(OnlineKan.METRICS);
            if (metrics != null) {
                metrics.clear();
            }
        }
    }

    private static long liveHeap() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
