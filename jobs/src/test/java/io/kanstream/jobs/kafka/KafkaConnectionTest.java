package io.kanstream.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.jobs.online.OnlineJobConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Client settings read from a properties file: what is kept, refused, and never printed. */
class KafkaConnectionTest {
    private static final String PASSWORD = "s3cr3t-Pa55";

    @TempDir Path temp;

    private Path file(String text) throws Exception {
        Path file = temp.resolve("client.properties");
        Files.writeString(file, text);
        return file;
    }

    private Path scram() throws Exception {
        return file(
                "security.protocol=SASL_SSL\n"
                        + "sasl.mechanism=SCRAM-SHA-512\n"
                        + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule"
                        + " required username=\"alice\" password=\""
                        + PASSWORD
                        + "\";\n"
                        + "ssl.truststore.location=/etc/kafka/truststore.p12\n"
                        + "ssl.truststore.password=trust-"
                        + PASSWORD
                        + "\n");
    }

    @Test
    void readsAPropertiesFileAsKafkaToolsReadCommandConfig() throws Exception {
        KafkaConnection kafka = KafkaConnection.load("broker-1:9093,broker-2:9093", scram());
        assertThat(kafka.bootstrapServers()).isEqualTo("broker-1:9093,broker-2:9093");
        assertThat(kafka.securityProtocol()).isEqualTo("SASL_SSL");
        assertThat(kafka.user()).isEqualTo("alice");
        assertThat(kafka.clientProperties())
                .containsEntry("bootstrap.servers", "broker-1:9093,broker-2:9093")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.p12");
        // each client gets its own copy to add its settings to
        kafka.clientProperties().put("isolation.level", "read_uncommitted");
        assertThat(kafka.clientProperties()).doesNotContainKey("isolation.level");
    }

    @Test
    void secretsAreRedactedInItsTextAndInTheJobConfigsText() throws Exception {
        KafkaConnection kafka = KafkaConnection.load(null, scram());
        assertThat(kafka.toString())
                .contains("sasl.jaas.config=[redacted]", "ssl.truststore.password=[redacted]")
                .contains("ssl.truststore.location=/etc/kafka/truststore.p12")
                .doesNotContain(PASSWORD);
        OnlineJobConfig config =
                OnlineJobConfig.builder(OnlineJobConfig.defaultLearner()).kafka(kafka).build();
        assertThat(config.toString()).contains("SASL_SSL").doesNotContain(PASSWORD);
        // text that quotes the password alone, or the whole JAAS line, loses it too
        assertThat(kafka.redact("login with " + PASSWORD + " refused"))
                .isEqualTo("login with [redacted] refused");
        assertThat(KafkaConnection.isSecret("ssl.keystore.key")).isTrue();
        assertThat(KafkaConnection.isSecret("ssl.key.password")).isTrue();
        assertThat(KafkaConnection.isSecret("sasl.oauthbearer.client.credentials.client.secret"))
                .isTrue();
        assertThat(KafkaConnection.isSecret("ssl.keystore.location")).isFalse();
        assertThat(KafkaConnection.isSecret("sasl.mechanism")).isFalse();
    }

    @Test
    void travelsWithTheJobConfigWhenSerialized() throws Exception {
        OnlineJobConfig config =
                OnlineJobConfig.builder(OnlineJobConfig.defaultLearner())
                        .kafka(KafkaConnection.load("broker:9093", scram()))
                        .build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(config);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            OnlineJobConfig back = (OnlineJobConfig) in.readObject();
            assertThat(back.kafka()).isEqualTo(config.kafka());
            assertThat(back.kafka().clientProperties())
                    .containsEntry(
                            "sasl.jaas.config",
                            config.kafka().properties().get("sasl.jaas.config"));
        }
    }

    @Test
    void refusesSettingsItCannotHonourWithAMessageNamingThem() throws Exception {
        assertThatThrownBy(() -> KafkaConnection.load(null, temp.resolve("missing.properties")))
                .hasMessageContaining("--kafka-properties: no such file")
                .hasMessageContaining("missing.properties");
        Path isolation = file("security.protocol=SSL\nisolation.level=read_uncommitted\n");
        assertThatThrownBy(() -> KafkaConnection.load(null, isolation))
                .hasMessageContaining("--kafka-properties " + isolation)
                .hasMessageContaining("isolation.level")
                .hasMessageContaining("exactly-once");
        Path servers = file("bootstrap.servers=other:9093\nsecurity.protocol=SSL\n");
        assertThatThrownBy(() -> KafkaConnection.load("broker:9093", servers))
                .hasMessageContaining("--bootstrap-servers broker:9093")
                .hasMessageContaining("bootstrap.servers=other:9093")
                .hasMessageContaining("disagree");
        assertThat(KafkaConnection.load(null, servers).bootstrapServers()).isEqualTo("other:9093");
        assertThat(KafkaConnection.load(null, file("security.protocol=SSL\n")).bootstrapServers())
                .isEqualTo(KafkaConnection.DEFAULT_BOOTSTRAP_SERVERS);
    }
}
