package io.kanstream.jobs.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Samples of a soak run (one JSON line each: seconds, events processed, each TaskManager's resident
 * set size, the learner's metrics) and what they add up to: RSS per TaskManager at the start, at
 * the end of warm-up and at the end, its peak after warm-up, and the drift from warm-up to the end;
 * live keys, evictions, throughput.
 */
public final class SoakSummary {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SoakSummary() {}

    /** The resident set size of a process in KiB, from /proc/PID/status (VmRSS); -1 if gone. */
    public static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /**
     * @param samples the JSON lines
     * @param warmupFraction the share of the events that counts as warm-up (e.g. 0.2)
     * @param warmupLiveKeys when positive, warm-up ends instead at the first sample where a subtask
     *     holds this many live keys
     */
    public static ObjectNode summarize(Path samples, double warmupFraction, long warmupLiveKeys)
            throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(samples)) {
            if (!line.isBlank()) {
                rows.add(JSON.readTree(line));
            }
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no samples in " + samples);
        }
        JsonNode first = rows.get(0);
        JsonNode last = rows.get(rows.size() - 1);
        long events =
                Math.max(
                        last.path("events").asLong(),
                        last.path("learner").path("kanEvents").path("sum").asLong());
        JsonNode warm = first;
        for (JsonNode row : rows) {
            warm = row;
            boolean warmed =
                    warmupLiveKeys > 0
                            ? row.path("learner").path("kanLiveKeys").path("max").asDouble()
                                    >= warmupLiveKeys
                            : row.path("events").asLong() >= warmupFraction * events;
            if (warmed) {
                break;
            }
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("samples", rows.size());
        out.put("events", events);
        double seconds = last.path("t").asDouble() - first.path("t").asDouble();
        out.put("seconds", seconds);
        out.put("events_per_second", seconds > 0 ? Math.round(events / seconds) : 0);
        out.put(
                "warmup_until_events",
                Math.max(
                        warm.path("events").asLong(),
                        warm.path("learner").path("kanEvents").path("sum").asLong()));
        out.put("warmup_ends_at", warmupLiveKeys > 0 ? "live keys at the limit" : "events share");
        ObjectNode rss = out.putObject("rss_mib");
        for (Iterator<Map.Entry<String, JsonNode>> it = last.path("rss_kib").fields();
                it.hasNext(); ) {
            String tm = it.next().getKey();
            long start = first.path("rss_kib").path(tm).asLong(-1);
            long atWarm = warm.path("rss_kib").path(tm).asLong(-1);
            long end = last.path("rss_kib").path(tm).asLong(-1);
            long peak = 0;
            boolean after = false;
            for (JsonNode row : rows) {
                after |= row == warm;
                if (after) {
                    peak = Math.max(peak, row.path("rss_kib").path(tm).asLong(0));
                }
            }
            ObjectNode r = rss.putObject(tm);
            r.put("start", mib(start));
            r.put("after_warmup", mib(atWarm));
            r.put("end", mib(end));
            r.put("peak_after_warmup", mib(peak));
            r.put(
                    "growth_after_warmup_percent",
                    atWarm > 0 ? Math.round(1000.0 * (end - atWarm) / atWarm) / 10.0 : 0);
        }
        out.set("learner_end", last.path("learner"));
        double liveMax = 0;
        for (JsonNode row : rows) {
            liveMax =
                    Math.max(
                            liveMax,
                            row.path("learner").path("kanLiveKeys").path("max").asDouble());
        }
        out.put("live_keys_per_subtask_peak", liveMax);
        out.put("restarts", last.path("restarts").asLong());
        out.put("job_state_end", last.path("state").asText());
        return out;
    }

    private static double mib(long kib) {
        return kib < 0 ? -1 : Math.round(kib / 102.4) / 10.0;
    }
}
