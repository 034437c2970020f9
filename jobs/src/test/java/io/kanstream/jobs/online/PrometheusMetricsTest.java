package io.kanstream.jobs.online;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.kan.Task;
import io.kanstream.stream.Event;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's metrics reach Prometheus: the job runs with Flink's own Prometheus reporter (the one
 * {@code scripts/flink-local.sh}, the Docker image and the Kubernetes manifest switch on), its
 * endpoint is scraped while the job learns, and the learner's counters and gauges are there with
 * the values the job's work implies. The Grafana dashboard beside the image asks only for series
 * this scrape holds, and groups only by labels those series carry.
 */
@ExtendWith(LocalKafka.class)
class PrometheusMetricsTest {
    private static final Path REPO =
            Path.of(System.getProperty("kanstream.repo.dir", "..")).toAbsolutePath().normalize();
    private static final Path DASHBOARD = REPO.resolve("docker/grafana/kanstream-dashboard.json");
    private static final String OPERATOR = "flink_taskmanager_job_task_operator_";

    /** One sample of Prometheus's text format: name, optional {labels}, value. */
    private static final Pattern SAMPLE =
            Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)(?:\\s+\\d+)?$");

    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"");
    private static final Pattern METRIC_IN_EXPR = Pattern.compile("\\bflink_[A-Za-z0-9_]+");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");

    /** Events sent: 100 per key, labeled inline. */
    private static final int N = 400;

    /** Full batches of 16 per key: 6 steps for each of the 4 keys. */
    private static final double STEPS =
            (double) (N / JobFixture.KEYS / JobFixture.BATCH) * JobFixture.KEYS;

    @TempDir Path temp;

    @Test
    void reporterEndpointServesTheLearnersMetricsAndTheDashboardAsksOnlyForThose(Broker broker)
            throws Exception {
        JobFixture f = new JobFixture(broker, "prometheus", temp.resolve("checkpoints"));
        OnlineJobConfig config = f.config(l -> l);
        int port = freePort();
        Configuration flink = new Configuration();
        flink.setString(
                "metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        flink.setString("metrics.reporter.prom.port", String.valueOf(port));
        List<Event> sent = JobFixture.synthetic(0, N, Task.REGRESSION);

        JobClient job = OnlineLearningJob.start(config, false, flink);
        Scrape scrape;
        try {
            f.send(sent);
            assertThat(f.awaitScores(N, Duration.ofMinutes(2))).isGreaterThanOrEqualTo(N);
            // every event counted and learned from, and a checkpoint completed since
            scrape =
                    scrapeUntil(
                            port,
                            s ->
                                    s.sum(OPERATOR + "kanEvents") >= N
                                            && s.sum(OPERATOR + "kanSteps") >= STEPS
                                            && s.sum("flink_jobmanager_job_lastCheckpointDuration")
                                                    > 0,
                            Duration.ofSeconds(60));
        } finally {
            OnlineLearningJobTest.stop(job, config);
        }
        Path saved = REPO.resolve("jobs/target/prometheus-scrape.txt");
        Files.createDirectories(saved.getParent());
        Files.writeString(saved, scrape.text, StandardCharsets.UTF_8);
        scrape.samples.keySet().stream()
                .filter(name -> name.contains("_kan"))
                .forEach(name -> System.out.printf("  %s = %s%n", name, scrape.sum(name)));

        assertThat(scrape.sum(OPERATOR + "kanEvents")).isEqualTo(N);
        assertThat(scrape.sum(OPERATOR + "kanLabeled")).isEqualTo(N);
        assertThat(scrape.sum(OPERATOR + "kanSteps")).isEqualTo(STEPS);
        for (String counter :
                List.of(
                        "kanSkippedSteps",
                        "kanRefits",
                        "kanDrifts",
                        "kanEvictions",
                        "kanIdleExpirations",
                        "kanExpiredAwaiting",
                        "kanRejectedLabels")) {
            assertThat(scrape.has(OPERATOR + counter)).as(counter).isTrue();
        }
        // gauge: every key is live on one of the two subtasks
        assertThat(scrape.sum(OPERATOR + "kanLiveKeys")).isEqualTo(JobFixture.KEYS);
        assertThat(scrape.labels(OPERATOR + "kanSteps"))
                .contains("job_name", "operator_name", "subtask_index", "tm_id");

        checkDashboard(scrape);
    }

    /** Every series the dashboard queries, and every label it groups by, is in the scrape. */
    private static void checkDashboard(Scrape scrape) throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        assertThat(dashboard.path("title").asText()).isNotBlank();
        List<String> exprs = new ArrayList<>();
        dashboard.findValues("expr").forEach(e -> exprs.add(e.asText()));
        // the variables' queries too (label_values(...)); the datasource variable has none
        dashboard
                .path("templating")
                .path("list")
                .forEach(
                        v -> {
                            if (v.has("definition")) {
                                exprs.add(v.path("definition").asText());
                            }
                        });
        assertThat(exprs).as("PromQL in %s", DASHBOARD).hasSizeGreaterThanOrEqualTo(10);
        Set<String> asked = new TreeSet<>();
        for (String expr : exprs) {
            Set<String> names = new TreeSet<>();
            Matcher m = METRIC_IN_EXPR.matcher(expr);
            while (m.find()) {
                names.add(m.group());
            }
            assertThat(names).as("metrics in %s", expr).isNotEmpty();
            Set<String> labels = new TreeSet<>();
            for (String name : names) {
                assertThat(scrape.has(name))
                        .as("%s (in `%s`) is among the reporter's series", name, expr)
                        .isTrue();
                labels.addAll(scrape.labels(name));
            }
            Matcher g = GROUPING.matcher(expr);
            while (g.find()) {
                for (String label : g.group(1).split(",")) {
                    assertThat(labels)
                            .as("label %s grouped by in `%s`", label.strip(), expr)
                            .contains(label.strip());
                }
            }
            asked.addAll(names);
        }
        assertThat(asked)
                .as("the learner's metrics on the dashboard")
                .contains(
                        OPERATOR + "kanEvents",
                        OPERATOR + "kanSteps",
                        OPERATOR + "kanSkippedSteps",
                        OPERATOR + "kanRefits",
                        OPERATOR + "kanDrifts",
                        OPERATOR + "kanEvictions",
                        OPERATOR + "kanLiveKeys",
                        "flink_jobmanager_job_lastCheckpointDuration");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static Scrape scrapeUntil(
            int port, java.util.function.Predicate<Scrape> done, Duration timeout)
            throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request =
                HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(10))
                        .build();
        long deadline = System.nanoTime() + timeout.toNanos();
        Scrape last = null;
        while (true) {
            HttpResponse<String> response =
                    http.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as("GET /metrics on port %d", port).isEqualTo(200);
            last = Scrape.parse(response.body());
            if (done.test(last) || System.nanoTime() > deadline) {
                return last;
            }
            Thread.sleep(500);
        }
    }

    /** One scrape: samples by metric name, each with its label names and value. */
    private record Scrape(String text, Map<String, List<Sample>> samples) {
        static Scrape parse(String text) {
            Map<String, List<Sample>> samples = new TreeMap<>();
            for (String line : text.split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                Matcher m = SAMPLE.matcher(line.strip());
                assertThat(m.matches()).as("a sample line: %s", line).isTrue();
                Set<String> labels = new TreeSet<>();
                if (m.group(2) != null) {
                    Matcher l = LABEL.matcher(m.group(2));
                    while (l.find()) {
                        labels.add(l.group(1));
                    }
                }
                samples.computeIfAbsent(m.group(1), k -> new ArrayList<>())
                        .add(new Sample(labels, Double.parseDouble(m.group(3))));
            }
            return new Scrape(text, samples);
        }

        boolean has(String name) {
            return samples.containsKey(name);
        }

        double sum(String name) {
            return samples.getOrDefault(name, List.of()).stream().mapToDouble(Sample::value).sum();
        }

        Set<String> labels(String name) {
            Set<String> out = new TreeSet<>();
            samples.getOrDefault(name, List.of()).forEach(s -> out.addAll(s.labels()));
            return out;
        }
    }

    private record Sample(Set<String> labels, double value) {}
}
