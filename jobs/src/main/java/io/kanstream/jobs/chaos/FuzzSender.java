package io.kanstream.jobs.chaos;

import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.jobs.produce.CheckedProducer;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Sends {@link FuzzRecords} to the events topic, each marked with the {@link FuzzRecords#HEADER}.
 */
public final class FuzzSender {
    private FuzzSender() {}

    /**
     * Sends {@code count} records at {@code rate} per second (0: as fast as the broker takes them)
     * and waits until the broker has them all (a record it refused fails the send).
     *
     * @return records sent per kind
     */
    public static Map<FuzzRecords.Kind, Long> send(
            KafkaConnection kafka, String topic, FuzzRecords fuzz, long count, double rate) {
        Map<FuzzRecords.Kind, Long> sent = new EnumMap<>(FuzzRecords.Kind.class);
        long started = System.nanoTime();
        try (CheckedProducer producer = new CheckedProducer(kafka)) {
            for (long i = 0; i < count; i++) {
                if (rate > 0) {
                    CheckedProducer.waitUntil(started + (long) (i * 1e9 / rate));
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
