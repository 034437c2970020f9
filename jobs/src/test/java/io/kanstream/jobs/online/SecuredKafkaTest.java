package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kanstream.jobs.CliRun;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.jobs.kafka.KafkaPreflight;
import io.kanstream.jobs.kafka.KafkaPreflight.KafkaUnavailableException;
import io.kanstream.stream.Score;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job against a secured broker: {@code scripts/kafka-local.sh start --secure} (SASL_SSL with
 * SCRAM-SHA-512, a CA and broker certificate made by keytool, the SCRAM user created at format
 * time), and the client properties file it writes. Without credentials a client is refused; with
 * them the job scores every event exactly once; with a wrong password the commands fail at once,
 * naming the user and the broker, and no password appears in any output or log.
 */
class SecuredKafkaTest {
    private static final String APPENDER = "secured-kafka-test";

    @TempDir static Path temp;

    private static Broker broker;
    private static StringWriter logs;
    private static String password;

    @BeforeAll
    static void startSecuredBrokerAndCaptureLogs() throws Exception {
        captureLogs();
        Path repo =
                Path.of(System.getProperty("kanstream.repo.dir", ".."))
                        .toAbsolutePath()
                        .normalize();
        // beside the shared broker's state, so the broker's classpath is resolved once per checkout
        broker = Broker.startSecure(repo.resolve("jobs/target/kafka-secure-it"));
        Matcher m =
                Pattern.compile("password=\"([^\"]+)\"")
                        .matcher(Files.readString(broker.clientProperties()));
        assertThat(m.find()).as("a password in %s", broker.clientProperties()).isTrue();
        password = m.group(1);
    }

    @AfterAll
    static void stopBrokerAndCheckNoLogNamesThePassword() {
        try {
            if (broker != null) {
                broker.close();
            }
        } finally {
            stopCapturingLogs();
        }
    }

    @Test
    void aClientWithoutCredentialsIsRefusedWithinTheTimeout() {
        long t0 = System.nanoTime();
        assertThatThrownBy(
                        () ->
                                KafkaPreflight.check(
                                        KafkaConnection.of(broker.bootstrapServers()),
                                        Duration.ofSeconds(3)))
                .isInstanceOf(KafkaUnavailableException.class)
                .hasMessageContaining("no broker reachable at " + broker.bootstrapServers())
                .hasMessageContaining("security.protocol PLAINTEXT")
                .hasMessageContaining("--kafka-properties FILE");
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("plaintext client refused by the SASL_SSL listener in %.1f s%n", seconds);
        // bounded: left alone, a Kafka client retries for default.api.timeout.ms (60 s) or, when
        // producing, for ever; the margin is for a cold JVM on a busy machine
        assertThat(seconds).isLessThan(30);
    }

    @Test
    void withTheScriptsClientPropertiesTheJobScoresEveryEventExactlyOnce() throws Exception {
        JobFixture f = new JobFixture(broker, "secured", temp.resolve("checkpoints"));
        int n = 400;
        CliRun produce =
                cli(
                        "produce",
                        "--synthetic",
                        "drift",
                        "--bootstrap-servers",
                        broker.bootstrapServers(),
                        "--kafka-properties",
                        broker.clientProperties().toString(),
                        "--events-topic",
                        f.events,
                        "--count",
                        "" + n,
                        "--keys",
                        "" + JobFixture.KEYS,
                        "--rate",
                        "0");
        assertThat(produce.exit()).as(produce.output()).isZero();

        long t0 = System.nanoTime();
        CliRun run = cli(job(f, broker.clientProperties()));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(run.exit()).as(run.output()).isZero();
        assertThat(run.output()).contains("(SASL_SSL, user kanstream)", "job finished");

        List<Score> scores = f.committedScores();
        assertThat(scores).hasSize(n);
        assertThat(scores.stream().map(Score::id).collect(Collectors.toSet()))
                .isEqualTo(
                        java.util.stream.IntStream.range(0, n)
                                .mapToObj(i -> "s42-" + i)
                                .collect(Collectors.toSet()));
        assertThat(produce.output() + run.output()).doesNotContain(password);
        System.out.printf(
                "secured: %d events in, %d scores out read_committed (%d distinct), bounded run"
                        + " %.1f s%n",
                n, scores.size(), n, seconds);
    }

    @Test
    void aWrongPasswordFailsAtOnceNamingTheUserAndBrokerAndNeverThePassword() throws Exception {
        String wrong = "wrong-" + Long.toHexString(System.nanoTime());
        Path file = temp.resolve("wrong.properties");
        Files.writeString(
                file,
                Files.readString(broker.clientProperties())
                        .replace("password=\"" + password + "\"", "password=\"" + wrong + "\""));
        JobFixture f = new JobFixture(broker, "wrong-password", temp.resolve("wrong-checkpoints"));

        for (String[] args :
                List.of(
                        job(f, file),
                        new String[] {
                            "produce",
                            "--synthetic",
                            "drift",
                            "--bootstrap-servers",
                            broker.bootstrapServers(),
                            "--kafka-properties",
                            file.toString(),
                            "--events-topic",
                            f.events
                        })) {
            long t0 = System.nanoTime();
            CliRun refused = cli(args);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(
                    "%s with a wrong password: exit %d in %.1f s%n",
                    args[0], refused.exit(), seconds);
            assertThat(refused.exit()).as(refused.output()).isEqualTo(2);
            assertThat(refused.output())
                    .contains(
                            "error: authentication failed for user kanstream at "
                                    + broker.bootstrapServers())
                    .contains("check the user and password in --kafka-properties " + file)
                    .doesNotContain(wrong)
                    .doesNotContain(password);
            assertThat(seconds)
                    .as("refused at once, not after the check's timeout")
                    .isLessThan(KafkaPreflight.TIMEOUT.toSeconds() / 2.0);
        }
        // Kafka logs every client's settings at INFO, sasl.jaas.config among them as [hidden]
        assertThat(logs.toString())
                .contains("sasl.jaas.config = [hidden]")
                .contains("invalid credentials")
                .doesNotContain(wrong)
                .doesNotContain(password);
        assertThat(Files.readString(file)).contains(wrong);
    }

    /** A bounded run of the job on the fixture's topics with these client settings. */
    private static String[] job(JobFixture f, Path properties) {
        return new String[] {
            "run",
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--kafka-properties",
            properties.toString(),
            "--events-topic",
            f.events,
            "--labels-topic",
            f.labels,
            "--scores-topic",
            f.scores,
            "--metrics-topic",
            f.metrics,
            "--dead-letter-topic",
            f.deadLetters,
            "--checkpoint-dir",
            f.checkpoints.toString(),
            "--checkpoint-interval",
            "500ms",
            "--transaction-timeout",
            "1m",
            "--transactional-id-prefix",
            "it-" + f.events,
            "--parallelism",
            "2",
            "--batch-size",
            "" + JobFixture.BATCH,
            "--batch-timeout",
            "0s",
            "--bounded",
            "--fresh",
            "--no-create-topics",
            "--progress-every",
            "0s"
        };
    }

    static CliRun cli(String... args) {
        return CliRun.echoed(args);
    }

    /**
     * Every log event of this JVM (the MiniCluster's tasks included) into {@link #logs}: Kafka's
     * clients at INFO, where they print their settings, and everything else at the test config's
     * level. Kafka's INFO goes to the capture only, not to the console.
     */
    private static void captureLogs() {
        logs = new StringWriter();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        WriterAppender appender =
                WriterAppender.newBuilder()
                        .setName(APPENDER)
                        .setTarget(logs)
                        .setLayout(
                                PatternLayout.newBuilder()
                                        .withPattern("%p %c - %m%n%throwable")
                                        .build())
                        .build();
        appender.start();
        config.addAppender(appender);
        config.getRootLogger().addAppender(appender, Level.ALL, null);
        LoggerConfig kafka = new LoggerConfig("org.apache.kafka", Level.INFO, false);
        kafka.addAppender(appender, Level.ALL, null);
        config.addLogger("org.apache.kafka", kafka);
        context.updateLoggers();
    }

    private static void stopCapturingLogs() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        config.removeLogger("org.apache.kafka");
        config.getRootLogger().removeAppender(APPENDER);
        context.updateLoggers();
    }
}
