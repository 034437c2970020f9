package io.kanstream.jobs.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The few calls of Flink's REST API that operating and checking a job need: its state, whether
 * every task runs, checkpoint and restart counts, stop with a savepoint, cancel, and which
 * TaskManager holds slots.
 */
public final class ClusterRest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param address host:port of the JobManager's REST API
     */
    public ClusterRest(String address) {
        this.base = "http://" + address;
    }

    /** The job's state (RUNNING, RESTARTING, FINISHED, CANCELED, FAILED...). */
    public String state(String jobId) throws IOException {
        return get("/jobs/" + jobId).path("state").asText();
    }

    /** Whether the job runs with every task of every vertex running. */
    public boolean allTasksRunning(String jobId) throws IOException {
        JsonNode job = get("/jobs/" + jobId);
        if (!"RUNNING".equals(job.path("state").asText())) {
            return false;
        }
        for (JsonNode vertex : job.path("vertices")) {
            if (vertex.path("tasks").path("RUNNING").asInt()
                    != vertex.path("parallelism").asInt()) {
                return false;
            }
        }
        return true;
    }

    /** Checkpoint counts: completed, failed, restored (restores count as state restored). */
    public JsonNode checkpointCounts(String jobId) throws IOException {
        return get("/jobs/" + jobId + "/checkpoints").path("counts");
    }

    /** When the newest completed checkpoint was acknowledged, epoch ms; 0 when there is none. */
    public long latestCompletedCheckpointAckMillis(String jobId) throws IOException {
        return get("/jobs/" + jobId + "/checkpoints")
                .path("latest")
                .path("completed")
                .path("latest_ack_timestamp")
                .asLong(0);
    }

    /** Flink's {@code numRestarts} job metric: restarts since the job was submitted. */
    public long restarts(String jobId) throws IOException {
        for (JsonNode metric : get("/jobs/" + jobId + "/metrics?get=numRestarts")) {
            if ("numRestarts".equals(metric.path("id").asText())) {
                return Long.parseLong(metric.path("value").asText("0"));
            }
        }
        return 0;
    }

    /**
     * The learner's Flink metrics ({@code kan*}) summed and maxed over its subtasks, by short name
     * ({@code kanLiveKeys → {sum, max}}).
     */
    public Map<String, Map<String, Double>> learnerMetrics(String jobId) throws IOException {
        Map<String, Map<String, Double>> out = new TreeMap<>();
        for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
            String base = "/jobs/" + jobId + "/vertices/" + vertex.path("id").asText();
            List<String> ids = new ArrayList<>();
            for (JsonNode m : get(base + "/subtasks/metrics")) {
                String id = m.path("id").asText();
                if (id.contains(".kan")) {
                    ids.add(id);
                }
            }
            if (ids.isEmpty()) {
                continue;
            }
            String query = URLEncoder.encode(String.join(",", ids), StandardCharsets.UTF_8);
            for (JsonNode m : get(base + "/subtasks/metrics?agg=sum,max&get=" + query)) {
                String id = m.path("id").asText();
                Map<String, Double> agg = new TreeMap<>();
                agg.put("sum", m.path("sum").asDouble());
                agg.put("max", m.path("max").asDouble());
                out.put(id.substring(id.lastIndexOf(".kan") + 1), agg);
            }
        }
        return out;
    }

    /** The job's user accumulators (e.g. {@code eventsAccepted}) by name. */
    public Map<String, Long> accumulators(String jobId) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        for (JsonNode a : get("/jobs/" + jobId + "/accumulators").path("user-task-accumulators")) {
            try {
                out.put(a.path("name").asText(), Long.parseLong(a.path("value").asText()));
            } catch (NumberFormatException e) {
                // not a counter
            }
        }
        return out;
    }

    /**
     * The resource ids of the TaskManagers the JobManager lists (a killed one until its heartbeat
     * times out).
     */
    public List<String> taskManagers() throws IOException {
        List<String> ids = new ArrayList<>();
        for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
            ids.add(tm.path("id").asText());
        }
        return ids;
    }

    /** The resource id of a TaskManager that holds at least one of the job's slots, if any. */
    public Optional<String> busyTaskManager() throws IOException {
        JsonNode best = null;
        for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
            int used = tm.path("slotsNumber").asInt() - tm.path("freeSlots").asInt();
            if (used > 0
                    && (best == null
                            || used
                                    > best.path("slotsNumber").asInt()
                                            - best.path("freeSlots").asInt())) {
                best = tm;
            }
        }
        return Optional.ofNullable(best).map(tm -> tm.path("id").asText());
    }

    /** Stops the job with a savepoint into {@code directory}, waits, returns its location. */
    public String stopWithSavepoint(String jobId, String directory, Duration timeout)
            throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        body.put("targetDirectory", directory);
        body.put("drain", false);
        body.put("formatType", "CANONICAL");
        String trigger = post("/jobs/" + jobId + "/stop", body).path("request-id").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode status = get("/jobs/" + jobId + "/savepoints/" + trigger);
            if ("COMPLETED".equals(status.path("status").path("id").asText())) {
                JsonNode op = status.path("operation");
                if (op.has("failure-cause")) {
                    throw new IOException(
                            "stop-with-savepoint of "
                                    + jobId
                                    + " failed: "
                                    + op.path("failure-cause").path("stack-trace").asText());
                }
                return op.path("location").asText();
            }
            Thread.sleep(500);
        }
        throw new IOException("stop-with-savepoint of " + jobId + " not done after " + timeout);
    }

    /** Cancels the job and waits until it is CANCELED. */
    public void cancel(String jobId, Duration timeout) throws IOException, InterruptedException {
        String before = state(jobId);
        if ("CANCELED".equals(before)) {
            return;
        }
        if (before.equals("FAILED") || before.equals("FINISHED")) {
            throw new IllegalStateException(
                    "job " + jobId + " is already " + before + ": there is nothing to cancel");
        }
        send(
                HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody())
                        .build());
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!"CANCELED".equals(state(jobId))) {
            if (System.nanoTime() > deadline) {
                throw new IOException("job " + jobId + " not CANCELED after " + timeout);
            }
            Thread.sleep(300);
        }
    }

    JsonNode get(String path) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET().build());
    }

    private JsonNode post(String path, JsonNode body) throws IOException {
        return send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                        .build());
    }

    private JsonNode send(HttpRequest request) throws IOException {
        HttpResponse<String> response;
        try {
            response =
                    http.send(
                            HttpRequest.newBuilder(request, (k, v) -> true)
                                    .timeout(Duration.ofSeconds(30))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted calling " + request.uri(), e);
        }
        if (response.statusCode() / 100 != 2) {
            throw new IOException(
                    request.method()
                            + " "
                            + request.uri()
                            + ": HTTP "
                            + response.statusCode()
                            + " "
                            + response.body());
        }
        String text = response.body();
        return text == null || text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
    }
}
