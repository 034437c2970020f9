package io.kanstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.CliRun;
import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.stream.DriftAction;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Label;
import io.kanstream.stream.OutputCodec;
import io.kanstream.stream.Score;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code kanstream run} and {@code kanstream produce} from the command line, in process. */
@ExtendWith(LocalKafka.class)
class RunAndProduceCommandTest {
    @TempDir Path temp;

    static CliRun cli(String... args) {
        return CliRun.echoed(args);
    }

    @Test
    void runHelpListsEveryFlagWithTheDefaultsOfTheJobConfig() {
        CliRun help = cli("run", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.output().replaceAll("\\s+", " "))
                .contains("--bootstrap-servers", "default localhost:9092", "--kafka-properties")
                .contains("--layers", "default 4,8,1")
                .contains("--checkpoint-interval", "default 2s")
                .contains("--checkpoint-dir", "default .kanstream/checkpoints")
                .contains("--state-backend", "default hashmap")
                .contains("--start-from", "default earliest")
                .contains("--dead-letter-topic", "default dead-letters")
                .contains("--web-ui", "--duration", "--model", "--max-live-keys", "--label-ttl")
                .contains(
                        "--device",
                        "default auto",
                        "--refit",
                        "--drift-action",
                        "default refit+restart");
        // every action the parser takes, listed from the enum
        for (DriftAction action : DriftAction.values()) {
            assertThat(help.output()).contains(action.spelling());
        }
        assertThat(help.output().replaceAll("\\s+", " "))
                .contains("drift does: none, refit, boost, refit+boost, reset");
    }

    @Test
    void runRejectsABadSubmitTargetAndAModelCombinedWithLayersWithAMessage() throws Exception {
        CliRun target = cli("run", "--target", "http://flink:8081");
        assertThat(target.exit()).isEqualTo(2);
        assertThat(target.output()).contains("--target must be host:port", "localhost:8081");

        CliRun noJar =
                cli(
                        "run",
                        "--target",
                        "localhost:8081",
                        "--job-jar",
                        temp.resolve("missing.jar").toString());
        assertThat(noJar.exit()).isEqualTo(2);
        assertThat(noJar.output())
                .contains("missing.jar does not exist", "mvn -DskipTests package");

        CliRun detach = cli("run", "--detach");
        assertThat(detach.exit()).isEqualTo(2);
        assertThat(detach.output()).contains("--detach only applies with --target");

        Path model = temp.resolve("m.kans");
        Files.write(model, new byte[] {1, 2, 3});
        CliRun both = cli("run", "--model", model.toString(), "--layers", "2,3,1");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.output()).contains("--layers cannot be combined with --model");

        CliRun duration = cli("run", "--checkpoint-interval", "soon");
        assertThat(duration.exit()).isEqualTo(2);
        assertThat(duration.output()).contains("'soon' is not a duration");

        CliRun device = cli("run", "--device", "tpu");
        assertThat(device.exit()).isEqualTo(2);
        assertThat(device.output()).contains("device 'tpu' is not one of auto, cpu, gpu, gpu:N");
    }

    @Test
    void produceSendsASyntheticStreamWithLabelsDelayedOnTheLabelsTopic(Broker broker) {
        broker.createTopics(2, "produce-events", "produce-labels");
        CliRun produce =
                cli(
                        "produce",
                        "--synthetic",
                        "drift",
                        "--bootstrap-servers",
                        broker.bootstrapServers(),
                        "--events-topic",
                        "produce-events",
                        "--labels-topic",
                        "produce-labels",
                        "--label-delay",
                        "100ms",
                        "--label-fraction",
                        "0.5",
                        "--count",
                        "200",
                        "--keys",
                        "3",
                        "--rate",
                        "0");
        assertThat(produce.exit()).as(produce.output()).isZero();

        EventCodec codec = new EventCodec();
        List<Event> events =
                broker.readAllCommitted("produce-events").stream()
                        .map(r -> codec.parseEvent(r.value(), 4, r.timestamp()).orElseThrow())
                        .toList();
        List<Label> labels =
                broker.readAllCommitted("produce-labels").stream()
                        .map(r -> codec.parseLabel(r.value(), r.timestamp()).orElseThrow())
                        .toList();
        assertThat(events).hasSize(200).noneMatch(Event::isLabeled);
        assertThat(events.stream().map(Event::id).collect(Collectors.toSet()))
                .hasSize(200)
                .contains("s42-0", "s42-199");
        assertThat(events.stream().map(Event::key).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder("key-0", "key-1", "key-2");
        assertThat(labels.size()).isBetween(70, 130);
        assertThat(produce.output())
                .contains(
                        "sent 200 events to produce-events (0 labeled inline), "
                                + labels.size()
                                + " labels to produce-labels ("
                                + (200 - labels.size())
                                + " withheld)");
    }

    @Test
    void produceSendsACsvFileWithItsLabelColumnInline(Broker broker) throws Exception {
        broker.createTopics(1, "csv-events");
        Path csv = temp.resolve("rows.csv");
        Files.writeString(csv, "a,b,sensor,y\n0.5,1,s-1,3.5\n-1,2.25,s-2,0\n");
        CliRun produce =
                cli(
                        "produce",
                        "--file",
                        csv.toString(),
                        "--bootstrap-servers",
                        broker.bootstrapServers(),
                        "--events-topic",
                        "csv-events",
                        "--label-column",
                        "y",
                        "--key-column",
                        "sensor",
                        "--rate",
                        "0");
        assertThat(produce.exit()).as(produce.output()).isZero();
        EventCodec codec = new EventCodec();
        List<Event> events =
                broker.readAllCommitted("csv-events").stream()
                        .map(r -> codec.parseEvent(r.value(), 2, r.timestamp()).orElseThrow())
                        .toList();
        assertThat(events)
                .extracting(Event::id, Event::key, Event::label)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("rows-1", "s-1", 3.5),
                        org.assertj.core.groups.Tuple.tuple("rows-2", "s-2", 0.0));
        assertThat(events.get(1).features()).containsExactly(-1f, 2.25f);
    }

    @Test
    void aJobStartedAgainWithTheSameCheckpointDirResumesWhereItStoppedAndScoresEachEventOnce(
            Broker broker) throws Exception {
        String p = "cli-resume-";
        String[] job =
                concat(
                        concat(new String[] {"run"}, jobOptions(broker, p, 2, temp)),
                        "--parallelism",
                        "2",
                        "--progress-every",
                        "2s");
        String[] produce = {
            "produce",
            "--synthetic",
            "drift",
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--events-topic",
            p + "events",
            "--rate",
            "0"
        };

        assertThat(cli(concat(produce, "--count", "600")).exit()).isZero();
        // Durations leave room for a loaded 2-core machine: the job must drain what was sent.
        CliRun first = cli(concat(job, "--duration", "20s"));
        assertThat(first.exit()).as(first.output()).isZero();
        assertThat(first.output()).contains("no retained checkpoint under", "stopped; savepoint");

        assertThat(cli(concat(produce, "--start-index", "600", "--count", "400")).exit()).isZero();
        // it stops once it has caught up, however slow the machine; the cap only guards
        CliRun second = cli(concat(job, "--stop-when-idle", "10s", "--duration", "4m"));
        assertThat(second.exit()).as(second.output()).isZero();
        assertThat(second.output()).contains("resuming from savepoint", "(--stop-when-idle)");

        List<ConsumerRecord<byte[], byte[]>> records = broker.readAllCommitted(p + "scores");
        List<Score> scores =
                records.stream().map(r -> OutputCodec.parseScore(r.value()).orElseThrow()).toList();
        Set<String> ids = scores.stream().map(Score::id).collect(Collectors.toSet());
        assertThat(scores).hasSize(1_000);
        assertThat(ids).hasSize(1_000);
        assertThat(records)
                .allMatch(
                        r ->
                                new String(r.key(), StandardCharsets.UTF_8)
                                        .equals(
                                                OutputCodec.parseScore(r.value())
                                                        .orElseThrow()
                                                        .key()));
        System.out.printf(
                "cli resume: 600 events, run 1 (20 s), 400 more, run 2 resumed from its savepoint"
                        + " (until idle): %d scores committed, %d distinct ids%n",
                scores.size(), ids.size());
    }

    /**
     * The options of a job on five new topics named {@code prefix} + events, labels, scores,
     * metrics, dlq, with checkpoints every 500 ms under {@code dir} and short transactions.
     */
    static String[] jobOptions(Broker broker, String prefix, int partitions, Path dir) {
        broker.createTopics(
                partitions,
                prefix + "events",
                prefix + "labels",
                prefix + "scores",
                prefix + "metrics",
                prefix + "dlq");
        return new String[] {
            "--bootstrap-servers",
            broker.bootstrapServers(),
            "--events-topic",
            prefix + "events",
            "--labels-topic",
            prefix + "labels",
            "--scores-topic",
            prefix + "scores",
            "--metrics-topic",
            prefix + "metrics",
            "--dead-letter-topic",
            prefix + "dlq",
            "--checkpoint-dir",
            dir.resolve("checkpoints").toString(),
            "--checkpoint-interval",
            "500ms",
            "--transactional-id-prefix",
            "it-" + prefix,
            "--transaction-timeout",
            "1m"
        };
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
