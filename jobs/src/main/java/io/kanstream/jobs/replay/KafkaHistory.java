package io.kanstream.jobs.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Parsed;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A historical stream read from an events topic between two record timestamps — what the live job
 * consumed — bounded, read_committed, validated by the live job's own parser and put in event-time
 * order. Records the parser rejects are counted and their first reasons kept, never dropped without
 * a word.
 */
public final class KafkaHistory {
    private KafkaHistory() {}

    /** The table and what was rejected on the way. */
    public record Result(HistoryTable table, long rejected, List<String> firstReasons) {}

    /**
     * @param fromMs first record timestamp included (epoch ms)
     * @param toMs first record timestamp excluded (epoch ms)
     * @param task the task, or null to infer it from the labels (0/1 only: binary)
     */
    public static Result read(
            KafkaConnection kafka, String topic, long fromMs, long toMs, Task task) {
        if (toMs <= fromMs) {
            throw new IllegalArgumentException(
                    "--to must be after --from, got " + fromMs + " .. " + toMs);
        }
        Properties props = kafka.clientProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        props.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalArgumentException(
                        "topic '" + topic + "' does not exist on " + kafka.bootstrapServers());
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : infos) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            Map<TopicPartition, Long> from = new HashMap<>();
            Map<TopicPartition, Long> to = new HashMap<>();
            for (TopicPartition tp : partitions) {
                from.put(tp, fromMs);
                to.put(tp, toMs);
            }
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(from);
            Map<TopicPartition, OffsetAndTimestamp> stops = consumer.offsetsForTimes(to);
            Map<TopicPartition, Long> stopAt = new HashMap<>();
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp start = starts.get(tp);
                OffsetAndTimestamp stop = stops.get(tp);
                long end = stop == null ? ends.get(tp) : stop.offset();
                long begin = start == null ? end : start.offset();
                consumer.seek(tp, begin);
                if (begin < end) {
                    stopAt.put(tp, end);
                }
            }
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (!stopAt.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "reading " + topic + " did not finish in 10 minutes");
                }
                for (ConsumerRecord<byte[], byte[]> record :
                        consumer.poll(Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    Long end = stopAt.get(tp);
                    if (end != null && record.offset() < end) {
                        records.add(record);
                    }
                }
                for (TopicPartition tp : new ArrayList<>(stopAt.keySet())) {
                    if (consumer.position(tp) >= stopAt.get(tp)) {
                        stopAt.remove(tp);
                    }
                }
            }
        }
        return toTable(records, task);
    }

    static Result toTable(List<ConsumerRecord<byte[], byte[]>> records, Task task) {
        int width = firstWidth(records);
        EventCodec codec = new EventCodec();
        List<Event> events = new ArrayList<>();
        long rejected = 0;
        List<String> reasons = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            if (record.value() == null) {
                rejected++;
                continue;
            }
            Parsed<Event> parsed = codec.parseEvent(record.value(), width, record.timestamp());
            if (parsed instanceof Parsed.Accepted<Event> accepted) {
                events.add(accepted.value());
            } else if (parsed instanceof Parsed.Rejected<Event> rejection) {
                rejected++;
                if (reasons.size() < 5) {
                    reasons.add(
                            record.topic()
                                    + "/"
                                    + record.partition()
                                    + "@"
                                    + record.offset()
                                    + ": "
                                    + rejection.reason());
                }
            }
        }
        if (events.isEmpty()) {
            throw new IllegalArgumentException(
                    "no valid events in the time range ("
                            + rejected
                            + " rejected"
                            + (reasons.isEmpty() ? "" : ", e.g. " + reasons.get(0))
                            + ")");
        }
        events.sort(Comparator.comparingLong(Event::ts)); // stable: partition order within a ts
        TreeSet<Double> labels = new TreeSet<>();
        for (Event e : events) {
            if (e.label() != null) {
                labels.add(e.label());
            }
        }
        Task resolved = task;
        if (resolved == null) {
            resolved =
                    labels.stream().allMatch(l -> l == 0 || l == 1) ? Task.BINARY : Task.REGRESSION;
        }
        List<String> classes = new ArrayList<>();
        if (resolved == Task.BINARY) {
            classes = List.of("0", "1");
        } else if (resolved == Task.MULTICLASS) {
            int max = (int) labels.stream().mapToDouble(Double::doubleValue).max().orElse(1);
            for (int c = 0; c <= Math.max(1, max); c++) {
                classes.add(Integer.toString(c));
            }
        }
        List<HistoryRow> rows = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            rows.add(
                    new HistoryRow(
                            i,
                            e.key(),
                            e.ts(),
                            e.features(),
                            e.label() == null ? Double.NaN : e.label()));
        }
        List<String> names = new ArrayList<>();
        for (int f = 0; f < width; f++) {
            names.add("f" + f);
        }
        return new Result(
                new HistoryTable(List.copyOf(rows), names, resolved, List.copyOf(classes)),
                rejected,
                reasons);
    }

    /** The feature count of the first record that has a features array. */
    private static int firstWidth(List<ConsumerRecord<byte[], byte[]>> records) {
        ObjectMapper mapper = new ObjectMapper();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            try {
                JsonNode features = mapper.readTree(record.value()).get("features");
                if (features != null && features.isArray() && features.size() > 0) {
                    return features.size();
                }
            } catch (Exception e) {
                // not an event; the parser will say why
            }
        }
        throw new IllegalArgumentException(
                "none of the "
                        + records.size()
                        + " records in the time range is an event with features");
    }
}
