package io.kanstream.jobs.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.stream.DeadLetter;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.EventCodecConfig;
import io.kanstream.stream.OutputCodec;
import io.kanstream.stream.Parsed;
import io.kanstream.stream.Score;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Header;

/**
 * What a chaos run must show, read from the topics themselves: every event produced is scored
 * exactly once ({@code read_committed}), the per-key step counters never go back, every fuzz record
 * is either scored or dead-lettered with its reason, and no cluster log says that PyTorch was
 * "already loaded in another classloader".
 */
public final class ChaosCheck {
    /** The message PyTorch's loader gives when a second classloader tries to load it. */
    public static final String CLASSLOADER_ERROR = "already loaded in another classloader";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where to look. */
    public record Settings(
            KafkaConnection kafka,
            String eventsTopic,
            String scoresTopic,
            String metricsTopic,
            String deadLetterTopic,
            int features,
            int maxRecordBytes) {}

    private final Settings settings;
    private final EventCodec codec;

    public ChaosCheck(Settings settings) {
        this.settings = settings;
        this.codec =
                new EventCodec(
                        EventCodecConfig.builder()
                                .maxRecordBytes(settings.maxRecordBytes())
                                .build());
    }

    /** The ids and fuzz records on the events topic. */
    private final class Input {
        final Map<String, Integer> steadyIds = new HashMap<>();
        long steady;
        long steadyRejected;
        long fuzz;
        final Map<String, Integer> fuzzAccepted = new HashMap<>();
        final Set<String> fuzzRejectedAt = new HashSet<>();
        final Map<String, long[]> fuzzByKind = new TreeMap<>();

        void read() {
            TopicReader.readAll(
                    settings.kafka(),
                    settings.eventsTopic(),
                    Duration.ofMinutes(5),
                    r -> {
                        Header mark = r.headers().lastHeader(FuzzRecords.HEADER);
                        Parsed<Event> parsed =
                                codec.parseEvent(r.value(), settings.features(), r.timestamp());
                        if (mark == null) {
                            steady++;
                            if (parsed instanceof Parsed.Accepted<Event> ok) {
                                steadyIds.merge(ok.value().id(), 1, Integer::sum);
                            } else {
                                steadyRejected++;
                            }
                            return;
                        }
                        fuzz++;
                        String kind = new String(mark.value(), StandardCharsets.UTF_8);
                        long[] counts = fuzzByKind.computeIfAbsent(kind, k -> new long[2]);
                        counts[0]++;
                        if (parsed instanceof Parsed.Accepted<Event> ok) {
                            counts[1]++;
                            fuzzAccepted.merge(ok.value().id(), 1, Integer::sum);
                        } else {
                            fuzzRejectedAt.add(r.partition() + "@" + r.offset());
                        }
                    });
        }
    }

    /** Scores per event id on the scores topic, {@code read_committed}. */
    private Map<String, Integer> scoredIds() {
        Map<String, Integer> ids = new HashMap<>();
        TopicReader.readAll(
                settings.kafka(),
                settings.scoresTopic(),
                Duration.ofMinutes(5),
                r -> {
                    if (OutputCodec.parseScore(r.value()) instanceof Parsed.Accepted<Score> ok) {
                        ids.merge(ok.value().id(), 1, Integer::sum);
                    }
                });
        return ids;
    }

    /**
     * Checks the run and returns the summary.
     *
     * @param waitForScores how long to wait for every produced event to be scored (the job may
     *     still be catching up)
     * @param faultsFile JSON lines, one per injected fault (null: none)
     * @param logDir the cluster's log directory (null: not checked)
     * @param cluster the cluster's REST API and the ids of every job of the run (null: none)
     * @param fuzzJob the job that took the fuzz records (null: restarts not checked)
     * @param fuzzRestartsBefore its {@code numRestarts} before they were sent
     */
    public ObjectNode run(
            Duration waitForScores,
            Path faultsFile,
            Path logDir,
            ClusterRest cluster,
            List<String> jobIds,
            String fuzzJob,
            long fuzzRestartsBefore)
            throws IOException, InterruptedException {
        Input input = new Input();
        input.read();
        long deadline = System.nanoTime() + waitForScores.toNanos();
        Map<String, Integer> scored = scoredIds();
        while (!covers(scored, input) && System.nanoTime() < deadline) {
            Thread.sleep(3000);
            scored = scoredIds();
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("produced", input.steady);
        long scoredSteady = 0;
        long missing = 0;
        long duplicated = 0;
        ArrayNode missingExamples = JSON.createArrayNode();
        ArrayNode duplicatedExamples = JSON.createArrayNode();
        for (Map.Entry<String, Integer> e : input.steadyIds.entrySet()) {
            int got = scored.getOrDefault(e.getKey(), 0);
            scoredSteady += got;
            if (got == 0) {
                missing++;
                if (missingExamples.size() < 10) {
                    missingExamples.add(e.getKey());
                }
            } else if (got > e.getValue()) {
                duplicated++;
                if (duplicatedExamples.size() < 10) {
                    duplicatedExamples.add(e.getKey() + " x" + got);
                }
            }
        }
        long producedTwice =
                input.steadyIds.values().stream().filter(n -> n > 1).mapToLong(n -> 1).sum();
        out.put("scored", scoredSteady);
        out.put("ids_missing", missing);
        out.put("ids_duplicated", duplicated);
        out.put("ids_produced_twice", producedTwice);
        out.put("steady_rejected", input.steadyRejected);
        out.set("ids_missing_examples", missingExamples);
        out.set("ids_duplicated_examples", duplicatedExamples);
        out.put("classloader_errors", logDir == null ? 0 : classloaderErrors(logDir));

        if (cluster != null) {
            long restores = 0;
            long restarts = 0;
            for (String job : jobIds) {
                restores += cluster.checkpointCounts(job).path("restored").asLong();
                restarts += cluster.restarts(job);
            }
            out.put("restores", restores);
            out.put("restarts", restarts);
            out.put("jobs", jobIds.size());
        }

        StepsByKey steps = StepsByKey.read(settings.kafka(), settings.metricsTopic());
        out.put("steps_regressions", steps.regressions().size());
        out.set(
                "steps_regression_examples",
                JSON.valueToTree(steps.regressions().stream().limit(10).toList()));
        out.set("steps_final", JSON.valueToTree(steps.latest()));
        out.put("metric_records", steps.records());

        ArrayNode faults = JSON.createArrayNode();
        boolean allRecovered = true;
        if (faultsFile != null && Files.exists(faultsFile)) {
            for (String line : Files.readAllLines(faultsFile)) {
                if (line.isBlank()) {
                    continue;
                }
                ObjectNode fault = (ObjectNode) JSON.readTree(line);
                allRecovered &= fault.path("recovered").asBoolean(false);
                faults.add(fault);
            }
        }
        out.set("faults", faults);

        if (input.fuzz > 0) {
            ObjectNode fuzz = fuzzSummary(input, scored);
            if (cluster != null && fuzzJob != null) {
                fuzz.put("job_restarts", cluster.restarts(fuzzJob) - fuzzRestartsBefore);
            }
            out.set("fuzz", fuzz);
        }
        boolean ok =
                missing == 0
                        && duplicated == 0
                        && steps.regressions().isEmpty()
                        && out.path("classloader_errors").asLong() == 0
                        && allRecovered
                        && (input.fuzz == 0
                                || (out.path("fuzz").path("unaccounted").asLong() == 0
                                        && out.path("fuzz").path("job_restarts").asLong() == 0));
        out.put("ok", ok);
        return out;
    }

    private static boolean covers(Map<String, Integer> scored, Input input) {
        for (String id : input.steadyIds.keySet()) {
            if (!scored.containsKey(id)) {
                return false;
            }
        }
        for (String id : input.fuzzAccepted.keySet()) {
            if (!scored.containsKey(id)) {
                return false;
            }
        }
        return true;
    }

    private ObjectNode fuzzSummary(Input input, Map<String, Integer> scored) {
        long scoredFuzz = 0;
        long duplicated = 0;
        for (Map.Entry<String, Integer> e : input.fuzzAccepted.entrySet()) {
            int got = scored.getOrDefault(e.getKey(), 0);
            scoredFuzz += Math.min(got, e.getValue());
            duplicated += Math.max(0, got - e.getValue());
        }
        Set<String> deadAt = new HashSet<>();
        Map<String, Long> reasons = new TreeMap<>();
        long[] noReason = {0};
        TopicReader.readAll(
                settings.kafka(),
                settings.deadLetterTopic(),
                Duration.ofMinutes(5),
                r -> {
                    if (!(OutputCodec.parseDeadLetter(r.value())
                            instanceof Parsed.Accepted<DeadLetter> ok)) {
                        return;
                    }
                    DeadLetter d = ok.value();
                    String at = d.partition() + "@" + d.offset();
                    if (!settings.eventsTopic().equals(d.topic())
                            || !input.fuzzRejectedAt.contains(at)) {
                        return;
                    }
                    if (d.reason() == null || d.reason().isBlank()) {
                        noReason[0]++;
                        return;
                    }
                    if (deadAt.add(at)) {
                        reasons.merge(reasonClass(d.reason()), 1L, Long::sum);
                    }
                });
        long dead = deadAt.size();
        ObjectNode fuzz = JSON.createObjectNode();
        fuzz.put("records", input.fuzz);
        fuzz.put("expected_scored", input.fuzzAccepted.values().stream().mapToLong(n -> n).sum());
        fuzz.put("expected_dead_lettered", input.fuzzRejectedAt.size());
        fuzz.put("scored", scoredFuzz);
        fuzz.put("dead_lettered", dead);
        fuzz.put("dead_letters_without_reason", noReason[0]);
        fuzz.put("scored_twice", duplicated);
        fuzz.put("unaccounted", input.fuzz - scoredFuzz - dead + duplicated + noReason[0]);
        ObjectNode kinds = JSON.createObjectNode();
        input.fuzzByKind.forEach(
                (kind, c) -> {
                    ObjectNode k = kinds.putObject(kind);
                    k.put("records", c[0]);
                    k.put("valid_after_mutation", c[1]);
                });
        fuzz.set("by_kind", kinds);
        fuzz.set(
                "reasons",
                JSON.valueToTree(
                        reasons.entrySet().stream()
                                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                                .limit(15)
                                .collect(
                                        java.util.stream.Collectors.toMap(
                                                Map.Entry::getKey,
                                                Map.Entry::getValue,
                                                (a, b) -> a,
                                                java.util.LinkedHashMap::new))));
        return fuzz;
    }

    /** A reason without the parts that differ per record (ids, numbers, positions). */
    static String reasonClass(String reason) {
        String r = reason.replaceAll("\"[^\"]*\"", "\"…\"").replaceAll("[0-9]+", "N");
        int cut = r.indexOf(" at [Source");
        r = cut > 0 ? r.substring(0, cut) : r;
        return r.length() > 100 ? r.substring(0, 100) + "…" : r;
    }

    /** Lines naming the classloader trap in every file under the cluster's log directory. */
    public static long classloaderErrors(Path logDir) throws IOException {
        if (!Files.isDirectory(logDir)) {
            throw new IllegalArgumentException("no log directory " + logDir);
        }
        try (Stream<Path> files = Files.walk(logDir)) {
            return files.filter(Files::isRegularFile)
                    .mapToLong(
                            f -> {
                                try (Stream<String> lines =
                                        Files.lines(f, StandardCharsets.ISO_8859_1)) {
                                    return lines.filter(l -> l.contains(CLASSLOADER_ERROR)).count();
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            })
                    .sum();
        }
    }

    /** Parses one JSON value (for the command line's --steps-before). */
    static JsonNode json(String text) throws IOException {
        return JSON.readTree(text);
    }
}
