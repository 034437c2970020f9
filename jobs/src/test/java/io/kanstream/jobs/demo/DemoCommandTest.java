package io.kanstream.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.cli.KanstreamCli;
import io.kanstream.jobs.produce.SyntheticDrift;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Metric;
import io.kanstream.stream.OutputCodec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalKafka.class)
class DemoCommandTest {
    @TempDir Path temp;

    private static String run(String... args) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            KanstreamCli.execute(args);
        } finally {
            System.setOut(original);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }

    @Test
    void dumpWritesTheLabeledEventsOfATopicInTheOrderTheyWereSent(LocalKafka.Broker kafka)
            throws Exception {
        kafka.createTopics(3, "demo-events");
        SyntheticDrift stream = new SyntheticDrift(2, 4, 1_000, Task.BINARY, 0.05, 5);
        List<Map.Entry<String, byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 90; i++) {
            Event e = stream.event(i, 1_700_000_000_000L + i);
            records.add(Map.entry(e.key(), EventCodec.writeEvent(e)));
        }
        records.add(Map.entry("k", "{not json".getBytes(StandardCharsets.UTF_8)));
        kafka.send("demo-events", records);

        Path csv = temp.resolve("stream.csv");
        String out =
                run(
                        "demo",
                        "dump",
                        "--bootstrap-servers",
                        kafka.bootstrapServers(),
                        "--topic",
                        "demo-events",
                        "--out",
                        csv.toString());

        assertThat(out).contains("90 events from topic demo-events");
        List<String> lines = Files.readAllLines(csv);
        assertThat(lines.get(0)).isEqualTo("id,key,ts,x0,x1,x2,x3,label");
        assertThat(lines).hasSize(91);
        for (int i = 0; i < 90; i++) {
            Event e = stream.event(i, 1_700_000_000_000L + i);
            assertThat(lines.get(i + 1))
                    .startsWith(e.id() + "," + e.key() + "," + e.ts() + ",")
                    .endsWith("," + e.label().intValue());
        }
    }

    @Test
    void summaryTellsPerKeyWhatItLearnedAroundItsDrift() throws Exception {
        Path file = temp.resolve("metrics.jsonl");
        List<String> lines = new ArrayList<>();
        double[] rmse = {0.9, 0.5, 0.3, 1.4, 0.6, 0.25};
        for (String key : List.of("key-0", "key-1")) {
            for (int r = 0; r < rmse.length; r++) {
                Metric m =
                        new Metric(
                                key,
                                r,
                                100L * (r + 1),
                                100L * (r + 1),
                                3L * (r + 1),
                                0,
                                rmse[r] * rmse[r],
                                Metric.RMSE,
                                rmse[r],
                                1.2,
                                100,
                                r >= 4 ? 1 : 0,
                                0,
                                0,
                                r == 3,
                                Double.NaN);
                lines.add(new String(OutputCodec.writeMetric(m), StandardCharsets.UTF_8));
            }
        }
        lines.add("not a metric record");
        Files.write(file, lines);

        String out = run("demo", "summary", "--metrics", file.toString());

        assertThat(out)
                .contains("key-0", "key-1", "0.900", "0.300", "1.400", "0.250")
                .contains("The models learned: on 2 of 2 keys")
                .contains("Drift: the detector fired on 2 of 2 keys");
        assertThat(
                        KanstreamCli.execute(
                                "demo", "summary", "--metrics", temp.resolve("none").toString()))
                .isEqualTo(1);
    }

    @Test
    void theLiveViewAnnouncesDriftSignalsAndRefitsOnce() {
        MetricHistory history = new MetricHistory();
        Metric calm = metric(100, 0, false);
        assertThat(history.add(calm)).isNull();
        assertThat(history.add(metric(200, 0, true))).startsWith("!! drift on k at 200 labels");
        assertThat(history.add(metric(300, 1, false)))
                .contains("drift signal over at 300 labels", "grids refit -> grid epoch 1");
        assertThat(history.add(metric(250, 1, false))).as("replayed after a restore").isNull();
    }

    private static Metric metric(long labeled, int gridEpoch, boolean drift) {
        return new Metric(
                "k",
                labeled,
                labeled,
                labeled,
                labeled / 8,
                0,
                0.1,
                Metric.ACCURACY,
                0.8,
                0.7,
                100,
                gridEpoch,
                0,
                0,
                drift,
                Double.NaN);
    }
}
