package io.kanstream.jobs.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SoakSummaryTest {
    @TempDir Path temp;

    private static String row(double t, long events, long live, long rssKib) {
        return "{\"t\":"
                + t
                + ",\"events\":"
                + events
                + ",\"restarts\":0,\"state\":\"RUNNING\",\"learner\":{\"kanEvents\":{\"sum\":"
                + events
                + ",\"max\":"
                + events
                + "},\"kanLiveKeys\":{\"sum\":"
                + live
                + ",\"max\":"
                + live
                + "}},\"rss_kib\":{\"tm-1\":"
                + rssKib
                + "}}";
    }

    @Test
    void warmUpEndsWhenTheLiveKeysReachTheLimitAndGrowthIsMeasuredFromThere() throws Exception {
        Path samples = temp.resolve("s.jsonl");
        Files.write(
                samples,
                List.of(
                        row(0, 0, 0, 400 * 1024),
                        row(10, 1000, 500, 800 * 1024),
                        row(20, 2000, 1000, 1000 * 1024),
                        row(30, 3000, 1000, 1010 * 1024),
                        row(40, 4000, 1000, 1020 * 1024)));
        ObjectNode byKeys = SoakSummary.summarize(samples, 0.2, 1000);
        assertThat(byKeys.path("warmup_until_events").asLong()).isEqualTo(2000);
        assertThat(byKeys.path("rss_mib").path("tm-1").path("after_warmup").asDouble())
                .isEqualTo(1000.0);
        assertThat(
                        byKeys.path("rss_mib")
                                .path("tm-1")
                                .path("growth_after_warmup_percent")
                                .asDouble())
                .isEqualTo(2.0);
        assertThat(byKeys.path("events_per_second").asLong()).isEqualTo(100);
        assertThat(byKeys.path("live_keys_per_subtask_peak").asDouble()).isEqualTo(1000.0);

        ObjectNode byShare = SoakSummary.summarize(samples, 0.2, 0);
        assertThat(byShare.path("warmup_until_events").asLong()).isEqualTo(1000);
    }
}
