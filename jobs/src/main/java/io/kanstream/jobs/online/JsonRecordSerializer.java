package io.kanstream.jobs.online;

import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes one output record (score, metric, dead letter) as a Kafka record: JSON value, and the
 * model key as record key where there is one (so a key's scores stay in order on one partition).
 *
 * <p>The Kafka timestamp is left to the producer (the time of writing), not the event time the
 * element carries: a replay of last month's events would otherwise write records that the topic's
 * retention deletes at once. The event time is in the value's {@code ts}.
 *
 * @param <T> the output record type
 */
final class JsonRecordSerializer<T> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final SerializableFunction<T, String> key;
    private final SerializableFunction<T, byte[]> value;

    /**
     * @param key the record key of an element, or null for none
     * @param value the element's JSON bytes
     */
    JsonRecordSerializer(
            String topic,
            SerializableFunction<T, String> key,
            SerializableFunction<T, byte[]> value) {
        this.topic = topic;
        this.key = key;
        this.value = value;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            T element, KafkaSinkContext context, Long timestamp) {
        String k = key.apply(element);
        return new ProducerRecord<>(
                topic,
                null,
                null,
                k == null ? null : k.getBytes(StandardCharsets.UTF_8),
                value.apply(element));
    }
}
