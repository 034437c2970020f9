package io.kanstream.jobs;

import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.jobs.kafka.LocalBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real Kafka broker for tests: {@code scripts/kafka-local.sh} on a free port, with its own state
 * under {@code jobs/target/kafka-it}. One broker per test JVM, shared by every class that uses the
 * extension; it is stopped when the test run ends, and by a shutdown hook if the JVM ends first
 * (the broker is a separate process that would outlive us).
 *
 * <p>Test classes declare a {@link Broker} parameter (constructor, {@code @BeforeAll} or test
 * method) to get it.
 */
public final class LocalKafka implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(LocalKafka.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        broker(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Broker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return broker(context);
    }

    private static Broker broker(ExtensionContext context) {
        return context.getRoot()
                .getStore(NAMESPACE)
                .getOrComputeIfAbsent(Broker.class, k -> Broker.start(), Broker.class);
    }

    /** The running broker, and the client calls tests need. */
    public static final class Broker implements AutoCloseable {
        private final LocalBroker broker;

        private Broker(LocalBroker broker) {
            this.broker = broker;
        }

        static Broker start() {
            long t0 = System.nanoTime();
            LocalBroker broker = LocalBroker.start(repo(), repo().resolve("jobs/target/kafka-it"));
            System.out.printf(
                    "kafka broker up on %s in %.1f s (state %s)%n",
                    broker.bootstrapServers(), (System.nanoTime() - t0) / 1e9, broker.home());
            return new Broker(broker);
        }

        /**
         * A broker of its own whose listener speaks SASL_SSL (SCRAM-SHA-512 over TLS), state under
         * {@code home}; the caller closes it. Its client calls use the script's client settings.
         */
        public static Broker startSecure(Path home) {
            long t0 = System.nanoTime();
            LocalBroker broker = LocalBroker.startSecure(repo(), home);
            System.out.printf(
                    "secured kafka broker up on %s in %.1f s (state %s)%n",
                    broker.bootstrapServers(), (System.nanoTime() - t0) / 1e9, broker.home());
            return new Broker(broker);
        }

        private static Path repo() {
            return Path.of(System.getProperty("kanstream.repo.dir", ".."))
                    .toAbsolutePath()
                    .normalize();
        }

        public String bootstrapServers() {
            return broker.bootstrapServers();
        }

        /** How clients reach it, client settings included. */
        public KafkaConnection connection() {
            return broker.connection();
        }

        /** The client settings file of a secured broker (password included). */
        public Path clientProperties() {
            return broker.clientProperties();
        }

        /** Creates topics with {@code partitions} partitions each. */
        public void createTopics(int partitions, String... topics) {
            try (Admin admin = Admin.create(adminProps())) {
                List<NewTopic> wanted = new ArrayList<>();
                for (String t : topics) {
                    wanted.add(new NewTopic(t, Optional.of(partitions), Optional.empty()));
                }
                admin.createTopics(wanted).all().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(
                        "cannot create topics " + Arrays.toString(topics), e);
            }
        }

        private Properties adminProps() {
            return connection().clientProperties();
        }

        /** Sends raw records (key, value; either may be null) and waits for the broker's ack. */
        public void send(String topic, List<Map.Entry<String, byte[]>> records) {
            Properties props = connection().clientProperties();
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "2000000");
            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(
                            props, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (Map.Entry<String, byte[]> r : records) {
                    byte[] key =
                            r.getKey() == null ? null : r.getKey().getBytes(StandardCharsets.UTF_8);
                    producer.send(new ProducerRecord<>(topic, key, r.getValue()));
                }
                producer.flush();
            }
        }

        /**
         * Reads a topic from the beginning as a {@code read_committed} consumer until {@code done}
         * holds for what was read, or {@code timeout} passes; returns what was read.
         */
        public List<ConsumerRecord<byte[], byte[]>> readCommitted(
                String topic,
                Predicate<List<ConsumerRecord<byte[], byte[]>>> done,
                Duration timeout) {
            List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
                List<TopicPartition> partitions = partitions(consumer, topic);
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                long deadline = System.nanoTime() + timeout.toNanos();
                while (!done.test(out) && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                }
            }
            return out;
        }

        /**
         * Everything committed on a topic: waits (up to 30 s) until no transaction is open on it,
         * then reads until the last stable offset of every partition (a {@code read_committed}
         * consumer's end offsets). A producer's commit returns before the broker has written its
         * markers to the partitions, so a job that has just finished or stopped may still hold the
         * stable offset back for a moment.
         */
        public List<ConsumerRecord<byte[], byte[]>> readAllCommitted(String topic) {
            List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> consumer = consumer("read_committed");
                    KafkaConsumer<byte[], byte[]> all = consumer("read_uncommitted")) {
                List<TopicPartition> partitions = partitions(consumer, topic);
                Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
                long settle = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!end.equals(all.endOffsets(partitions)) && System.nanoTime() < settle) {
                    sleep(100);
                    end = consumer.endOffsets(partitions);
                }
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (System.nanoTime() < deadline
                        && end.entrySet().stream()
                                .anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
                    consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                }
            }
            return out;
        }

        private static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private KafkaConsumer<byte[], byte[]> consumer() {
            return consumer("read_committed");
        }

        private KafkaConsumer<byte[], byte[]> consumer(String isolation) {
            Properties props = connection().clientProperties();
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "2000000");
            return new KafkaConsumer<>(
                    props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        private static List<TopicPartition> partitions(
                KafkaConsumer<byte[], byte[]> consumer, String topic) {
            return consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
        }

        @Override
        public void close() {
            broker.close();
        }
    }
}
