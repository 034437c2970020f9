package io.kanstream.jobs.cli;

import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.jobs.kafka.KafkaPreflight;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The Kafka options of every command that talks to Kafka, declared once: where the brokers are and
 * the client settings of a secured cluster.
 */
public final class KafkaOptions {
    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT[,...]",
            description =
                    "Kafka's bootstrap servers (default "
                            + KafkaConnection.DEFAULT_BOOTSTRAP_SERVERS
                            + ", or bootstrap.servers of --kafka-properties; bench without"
                            + " either: a private broker it starts).")
    String bootstrapServers;

    @Option(
            names = "--kafka-properties",
            paramLabel = "FILE",
            description =
                    "Kafka client settings, a Java properties file as for Kafka tools'"
                            + " --command-config: security.protocol, sasl.mechanism,"
                            + " sasl.jaas.config, ssl.truststore.*... Applied to every Kafka client"
                            + " the command makes, and carried with the job to a cluster. Secret"
                            + " values are never printed.")
    Path kafkaProperties;

    private KafkaConnection connection;

    /** Whether the command line names a Kafka at all (--bootstrap-servers or a properties file). */
    public boolean given() {
        return bootstrapServers != null || kafkaProperties != null;
    }

    /** The servers and client settings; the file is read once. */
    public KafkaConnection connection() {
        if (connection == null) {
            connection =
                    kafkaProperties == null
                            ? KafkaConnection.of(
                                    bootstrapServers != null
                                            ? bootstrapServers
                                            : KafkaConnection.DEFAULT_BOOTSTRAP_SERVERS)
                            : KafkaConnection.load(bootstrapServers, kafkaProperties);
        }
        return connection;
    }

    /**
     * The connection, once a broker has answered with it within {@link KafkaPreflight#TIMEOUT}.
     *
     * @throws KafkaPreflight.KafkaUnavailableException naming the servers and the cause
     */
    public KafkaConnection checkedConnection() {
        KafkaPreflight.check(connection(), KafkaPreflight.TIMEOUT);
        return connection();
    }
}
