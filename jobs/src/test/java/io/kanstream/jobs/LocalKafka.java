package io.kanstream.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
import org.apache.kafka.clients.admin.AdminClientConfig;
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
        private final Path script;
        private final Path home;
        private final int port;
        private final Thread shutdownHook;

        private Broker(Path script, Path home, int port) {
            this.script = script;
            this.home = home;
            this.port = port;
            this.shutdownHook = new Thread(this::stop, "stop kafka-local");
        }

        static Broker start() {
            Path repo =
                    Path.of(System.getProperty("kanstream.repo.dir", ".."))
                            .toAbsolutePath()
                            .normalize();
            Path script = repo.resolve("scripts/kafka-local.sh");
            Path home = repo.resolve("jobs/target/kafka-it");
            Broker broker = new Broker(script, home, freePortPair());
            Runtime.getRuntime().addShutdownHook(broker.shutdownHook);
            long t0 = System.nanoTime();
            // first use resolves the broker's classpath with Maven: allow for that
            broker.script(Duration.ofMinutes(5), "start", "--port", "" + broker.port, "--clean");
            System.out.printf(
                    "kafka broker up on %s in %.1f s (state %s)%n",
                    broker.bootstrapServers(), (System.nanoTime() - t0) / 1e9, home);
            return broker;
        }

        public String bootstrapServers() {
            return "localhost:" + port;
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
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            return props;
        }

        /** Sends raw records (key, value; either may be null) and waits for the broker's ack. */
        public void send(String topic, List<Map.Entry<String, byte[]>> records) {
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
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
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
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
            stop();
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs stop() again, which is idempotent
            }
        }

        private void stop() {
            script(Duration.ofMinutes(1), "stop");
        }

        private void script(Duration timeout, String... args) {
            List<String> command = new ArrayList<>(List.of("bash", script.toString()));
            command.addAll(List.of(args));
            try {
                Files.createDirectories(home);
                Path log = home.resolve("kafka-local-" + args[0] + ".out");
                ProcessBuilder pb =
                        new ProcessBuilder(command)
                                .redirectErrorStream(true)
                                .redirectOutput(log.toFile());
                pb.environment().put("KANSTREAM_HOME", home.toString());
                pb.environment().put("KAFKA_PORT", "" + port);
                Process p = pb.start();
                if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(
                            "kafka-local.sh " + String.join(" ", args) + " timed out; see " + log);
                }
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(
                            "kafka-local.sh "
                                    + String.join(" ", args)
                                    + " exited "
                                    + p.exitValue()
                                    + ":\n"
                                    + Files.readString(log));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** A free port whose successor (the KRaft controller's) is free too. */
        private static int freePortPair() {
            for (int attempt = 0; attempt < 50; attempt++) {
                try (ServerSocket first =
                        new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    int port = first.getLocalPort();
                    if (port < 65535) {
                        try (ServerSocket second =
                                new ServerSocket(port + 1, 1, InetAddress.getLoopbackAddress())) {
                            return port;
                        } catch (IOException taken) {
                            // try another
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            throw new IllegalStateException("no two adjacent free ports found");
        }
    }
}
