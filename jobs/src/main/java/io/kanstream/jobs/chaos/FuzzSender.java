package io.kanstream.jobs.chaos;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends {@link FuzzRecords} to the events topic, each marked with the {@link FuzzRecords#HEADER}.
 */
public final class FuzzSender {
    private FuzzSender() {}

    /**
     * Sends {@code count} records at {@code rate} per second (0: as fast as the broker takes them)
     * and waits until the broker has them all.
     *
     * @return records sent per kind
     */
    public static Map<FuzzRecords.Kind, Long> send(
            String bootstrapServers, String topic, FuzzRecords fuzz, long count, double rate) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        Map<FuzzRecords.Kind, Long> sent = new EnumMap<>(FuzzRecords.Kind.class);
        long started = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (long i = 0; i < count; i++) {
                if (rate > 0) {
                    long due = started + (long) (i * 1e9 / rate);
                    long left;
                    while ((left = due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
                    }
                }
                FuzzRecords.Fuzz record = fuzz.record(i);
                ProducerRecord<byte[], byte[]> out =
                        new ProducerRecord<>(
                                topic,
                                record.key().getBytes(StandardCharsets.UTF_8),
                                record.value());
                out.headers()
                        .add(
                                FuzzRecords.HEADER,
                                record.kind().label().getBytes(StandardCharsets.UTF_8));
                producer.send(out);
                sent.merge(record.kind(), 1L, Long::sum);
            }
            producer.flush();
        }
        return sent;
    }
}
