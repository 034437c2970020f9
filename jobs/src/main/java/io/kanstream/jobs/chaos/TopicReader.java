package io.kanstream.jobs.chaos;

import io.kanstream.jobs.kafka.KafkaConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads topics the way the tools check the job's output: {@code read_committed} (a transactional
 * producer's open or aborted records are never seen, and the end is the last stable offset), every
 * partition assigned directly from the beginning, no consumer group.
 */
public final class TopicReader {
    private TopicReader() {}

    /** A consumer of raw records that reads committed records only and commits no offsets. */
    public static KafkaConsumer<byte[], byte[]> consumer(KafkaConnection kafka, String clientId) {
        Properties props = kafka.clientProperties();
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(4 << 20));
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return new KafkaConsumer<>(props);
    }

    /**
     * Assigns every partition of {@code topic} at its beginning, waiting up to {@code wait} for the
     * topic to exist.
     */
    public static List<TopicPartition> assignFromBeginning(
            KafkaConsumer<byte[], byte[]> consumer, String topic, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        List<PartitionInfo> infos;
        while ((infos = consumer.partitionsFor(topic, Duration.ofSeconds(10))) == null
                || infos.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + topic + " does not exist after " + wait);
            }
            Thread.sleep(500);
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : infos) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return partitions;
    }

    /** Reads {@code topic} from its beginning up to its end offsets at the time of the call. */
    public static void readAll(
            KafkaConnection kafka,
            String topic,
            Duration timeout,
            Consumer<ConsumerRecord<byte[], byte[]>> each) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka, "kanstream-topic-reader")) {
            List<TopicPartition> partitions;
            try {
                partitions = assignFromBeginning(consumer, topic, Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + topic, e);
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "reading " + topic + " to " + end + " took longer than " + timeout);
                }
                consumer.poll(Duration.ofMillis(500)).forEach(each);
            }
        }
    }
}
