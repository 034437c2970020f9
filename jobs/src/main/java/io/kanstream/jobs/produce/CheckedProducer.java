package io.kanstream.jobs.produce;

import io.kanstream.jobs.kafka.KafkaConnection;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The producer every kanstream sender writes input with: idempotent, acknowledged by all replicas,
 * and checked: a record the broker did not take fails {@link #flush} with the count and the first
 * error, instead of leaving a silent gap in the topic.
 */
public final class CheckedProducer implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<Exception> firstError = new AtomicReference<>();

    public CheckedProducer(KafkaConnection kafka) {
        Properties props = kafka.clientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // One request in flight per partition: with five, a batch refused while a new partition's
        // leader came up was retried behind later ones, and the broker (Kafka 4.1) then refused
        // every retry as out of order, for ever.
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        // a backlog sent as fast as possible to a broker on busy cores can queue for minutes:
        // wait rather than fail (Kafka's default gives up after two)
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "600000");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(props);
    }

    public void send(ProducerRecord<byte[], byte[]> record) {
        sent.incrementAndGet();
        producer.send(record, this::delivered);
    }

    /**
     * Waits until the broker has answered for every record sent.
     *
     * @throws IllegalStateException when it refused any, naming how many and the first error
     */
    public void flush() {
        producer.flush();
        Exception error = firstError.get();
        if (error != null) {
            throw new IllegalStateException(
                    failed.get() + " of " + sent.get() + " records were not delivered: " + error,
                    error);
        }
    }

    /** Parks until {@code nanoTime} (System.nanoTime): the pacing of a rate-limited sender. */
    public static void waitUntil(long nanoTime) {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

    private void delivered(RecordMetadata metadata, Exception e) {
        if (e != null) {
            failed.incrementAndGet();
            firstError.compareAndSet(null, e);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(30));
    }
}
