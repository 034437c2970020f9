package io.kanstream.jobs.chaos;

import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.stream.Metric;
import io.kanstream.stream.OutputCodec;
import io.kanstream.stream.Parsed;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The committed per-key step counters on the metrics topic: the newest per key, and every place
 * where a key's counter went backwards. Read {@code read_committed}, a key's metric records are
 * exactly the ones its state produced once, in order (one key, one partition), so after any restore
 * the counter continues from the checkpoint whose output was committed: it never goes back.
 */
public final class StepsByKey {
    /** A key's counter going from {@code from} down to {@code to} at a record's offset. */
    public record Regression(String key, long from, long to, int partition, long offset) {}

    private final Map<String, Long> latest = new TreeMap<>();
    private final Map<String, Long> highest = new TreeMap<>();
    private final List<Regression> regressions = new ArrayList<>();
    private long records;

    private StepsByKey() {}

    /** Reads the whole metrics topic as it is now. */
    public static StepsByKey read(KafkaConnection kafka, String metricsTopic) {
        StepsByKey steps = new StepsByKey();
        TopicReader.readAll(
                kafka,
                metricsTopic,
                Duration.ofMinutes(2),
                r -> {
                    Parsed<Metric> parsed = OutputCodec.parseMetric(r.value());
                    if (parsed instanceof Parsed.Accepted<Metric> ok) {
                        steps.add(ok.value(), r.partition(), r.offset());
                    }
                });
        return steps;
    }

    private void add(Metric m, int partition, long offset) {
        records++;
        Long top = highest.get(m.key());
        if (top != null && m.steps() < top) {
            regressions.add(new Regression(m.key(), top, m.steps(), partition, offset));
        }
        highest.merge(m.key(), m.steps(), Math::max);
        latest.put(m.key(), m.steps());
    }

    /** The newest committed step count per key. */
    public Map<String, Long> latest() {
        return latest;
    }

    public List<Regression> regressions() {
        return regressions;
    }

    public long records() {
        return records;
    }
}
