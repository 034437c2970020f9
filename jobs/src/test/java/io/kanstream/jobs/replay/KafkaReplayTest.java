package io.kanstream.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.cli.KanstreamCli;
import io.kanstream.jobs.produce.SyntheticDrift;
import io.kanstream.kan.Task;
import io.kanstream.stream.EventCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalKafka.class)
class KafkaReplayTest {
    @TempDir Path temp;

    @Test
    void replaysAnEventsTopicBetweenTwoTimestampsAndLeavesOutWhatIsNotAnEvent(
            LocalKafka.Broker kafka) throws Exception {
        kafka.createTopics(2, "history");
        SyntheticDrift stream = new SyntheticDrift(2, 4, 10_000, Task.BINARY, 0.05, 3);
        List<Map.Entry<String, byte[]>> inside = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            var e = stream.event(i, 1_700_000_000_000L + i);
            inside.add(Map.entry(e.key(), EventCodec.writeEvent(e)));
        }
        inside.add(Map.entry("k", "{not json".getBytes(StandardCharsets.UTF_8)));
        long from = System.currentTimeMillis();
        Thread.sleep(5);
        kafka.send("history", inside);
        Thread.sleep(50);
        long to = System.currentTimeMillis();
        Thread.sleep(50);
        List<Map.Entry<String, byte[]>> later = new ArrayList<>();
        for (int i = 600; i < 700; i++) {
            var e = stream.event(i, 1_700_000_000_000L + i);
            later.add(Map.entry(e.key(), EventCodec.writeEvent(e)));
        }
        kafka.send("history", later);

        KafkaHistory.Result read = KafkaHistory.read(kafka.connection(), "history", from, to, null);
        assertThat(read.table().rows()).hasSize(600);
        assertThat(read.rejected()).isEqualTo(1);
        assertThat(read.firstReasons().get(0)).contains("history/", "malformed JSON");
        assertThat(read.table().task()).isEqualTo(Task.BINARY);
        for (int i = 1; i < read.table().rows().size(); i++) {
            assertThat(read.table().rows().get(i).ts())
                    .isGreaterThanOrEqualTo(read.table().rows().get(i - 1).ts());
        }

        Path report = temp.resolve("kafka-replay");
        int exit =
                KanstreamCli.execute(
                        "replay",
                        "--kafka-topic",
                        "history",
                        "--bootstrap-servers",
                        kafka.bootstrapServers(),
                        "--from",
                        Long.toString(from),
                        "--to",
                        Long.toString(to),
                        "--report",
                        report.toString());
        assertThat(exit).isZero();
        Map<String, Object> summary = ReplayTest.summary(report);
        assertThat(ReplayTest.figure(summary, "events")).isEqualTo(600);
        assertThat((Map<?, ?>) summary.get("per_key")).hasSize(2);
    }
}
