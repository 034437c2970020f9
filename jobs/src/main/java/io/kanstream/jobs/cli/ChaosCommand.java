package io.kanstream.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kanstream.jobs.chaos.ChaosCheck;
import io.kanstream.jobs.chaos.ClusterRest;
import io.kanstream.jobs.chaos.SoakSummary;
import io.kanstream.jobs.chaos.StepsByKey;
import io.kanstream.jobs.kafka.KafkaConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The checks and cluster operations {@code scripts/chaos.sh} orchestrates: step counters per key,
 * job operations over Flink's REST API, waiting for recovery after a fault, and the final
 * verification.
 */
@Command(
        name = "chaos",
        mixinStandardHelpOptions = true,
        description = "Fault-injection helpers for scripts/chaos.sh (see its --help).",
        subcommands = {
            ChaosCommand.Steps.class,
            ChaosCommand.Job.class,
            ChaosCommand.WaitRecovered.class,
            ChaosCommand.Verify.class,
            ChaosCommand.Sample.class,
            ChaosCommand.SoakReport.class,
            ChaosCommand.Field.class
        })
final class ChaosCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    static final class Kafka {
        @CommandLine.Mixin KafkaOptions options;

        @Option(
                names = "--metrics-topic",
                defaultValue = "metrics",
                description = "Per-key metrics (default ${DEFAULT-VALUE}).")
        String metricsTopic;

        KafkaConnection connection() {
            return options.connection();
        }
    }

    @Command(
            name = "steps",
            mixinStandardHelpOptions = true,
            description = "Print the newest committed step count per key as JSON.")
    static final class Steps implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin Kafka kafka;

        @Override
        public Integer call() throws Exception {
            StepsByKey steps = StepsByKey.read(kafka.connection(), kafka.metricsTopic);
            spec.commandLine().getOut().println(JSON.writeValueAsString(steps.latest()));
            return 0;
        }
    }

    @Command(
            name = "job",
            mixinStandardHelpOptions = true,
            description = {
                "One operation on a job over the cluster's REST API:",
                "  state JOB | running JOB (exit 0 if every task runs, 1 if not)"
                        + " | restarts JOB | busy-taskmanager | taskmanagers (one id a line)"
                        + " | stop JOB --savepoint-dir DIR (prints the savepoint) | cancel JOB"
            })
    static final class Job implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--target", defaultValue = "localhost:8081", description = "REST API.")
        String target;

        @Parameters(index = "0", description = "The operation.")
        String operation;

        @Parameters(index = "1", arity = "0..1", description = "The job id.")
        String job;

        @Option(names = "--savepoint-dir", description = "stop: where the savepoint goes.")
        String savepointDir;

        @Override
        public Integer call() throws Exception {
            ClusterRest rest = new ClusterRest(target);
            var out = spec.commandLine().getOut();
            boolean ofTheCluster =
                    operation.equals("busy-taskmanager") || operation.equals("taskmanagers");
            if (!ofTheCluster && job == null) {
                throw new IllegalArgumentException(operation + " needs a job id");
            }
            switch (operation) {
                case "state" -> out.println(rest.state(job));
                case "running" -> {
                    return rest.allTasksRunning(job) ? 0 : 1;
                }
                case "restarts" -> out.println(rest.restarts(job));
                case "busy-taskmanager" ->
                        out.println(
                                rest.busyTaskManager()
                                        .orElseThrow(
                                                () ->
                                                        new IllegalStateException(
                                                                "no TaskManager holds a slot")));
                case "taskmanagers" -> rest.taskManagers().forEach(out::println);
                case "stop" -> {
                    if (savepointDir == null) {
                        throw new IllegalArgumentException("stop needs --savepoint-dir");
                    }
                    out.println(rest.stopWithSavepoint(job, savepointDir, Duration.ofMinutes(5)));
                }
                case "cancel" -> rest.cancel(job, Duration.ofMinutes(2));
                default ->
                        throw new IllegalArgumentException(
                                "unknown operation '"
                                        + operation
                                        + "': state, running, restarts, busy-taskmanager,"
                                        + " taskmanagers, stop, cancel");
            }
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "wait-recovered",
            mixinStandardHelpOptions = true,
            description =
                    "Wait until the job runs every task, has completed a checkpoint after --since,"
                            + " and every key's committed step counter has moved past"
                            + " --steps-before; print the fault's JSON line.")
    static final class WaitRecovered implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin Kafka kafka;

        @Option(names = "--target", defaultValue = "localhost:8081", description = "REST API.")
        String target;

        @Option(names = "--job", required = true, description = "The job that must recover.")
        String job;

        @Option(names = "--name", required = true, description = "The fault's name.")
        String name;

        @Option(names = "--detail", defaultValue = "", description = "What was done.")
        String detail;

        @Option(
                names = "--since",
                required = true,
                description = "Epoch ms of the fault: a checkpoint after it must complete.")
        long since;

        @Option(
                names = "--steps-before",
                required = true,
                description = "JSON {key: steps} from `chaos steps` before the fault.")
        String stepsBefore;

        @Option(
                names = "--timeout",
                defaultValue = "180s",
                converter = DurationConverter.class,
                description = "Give up after (default ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() throws Exception {
            JsonNode before = JSON.readTree(stepsBefore);
            if (!before.isObject()) {
                throw new IllegalArgumentException(
                        "--steps-before must be a JSON object {key: steps}, got " + stepsBefore);
            }
            ClusterRest rest = new ClusterRest(target);
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean running = false;
            boolean checkpointed = false;
            boolean forward = false;
            Map<String, Long> after = Map.of();
            while (System.nanoTime() < deadline) {
                try {
                    running = rest.allTasksRunning(job);
                    checkpointed = running && rest.latestCompletedCheckpointAckMillis(job) > since;
                } catch (java.io.IOException e) {
                    running = false; // the JobManager is busy restarting the job: ask again
                }
                after = StepsByKey.read(kafka.connection(), kafka.metricsTopic).latest();
                forward = movedForward(before, after);
                if (running && checkpointed && forward) {
                    break;
                }
                Thread.sleep(2000);
            }
            ObjectNode fault = JSON.createObjectNode();
            fault.put("name", name);
            fault.put("detail", detail);
            fault.put("job", job);
            fault.put("recovered", running && checkpointed && forward);
            // from the fault itself: a TaskManager started or a broker restarted is part of it
            fault.put(
                    "seconds_to_recover",
                    Math.round((System.currentTimeMillis() - since) / 100.0) / 10.0);
            fault.put("tasks_running", running);
            fault.put("checkpoint_after_fault", checkpointed);
            fault.put("steps_forward", forward);
            fault.set("steps_before", before);
            fault.set("steps_after", JSON.valueToTree(after));
            spec.commandLine().getOut().println(JSON.writeValueAsString(fault));
            return 0;
        }

        private static boolean movedForward(JsonNode before, Map<String, Long> after) {
            if (before.isEmpty()) {
                return !after.isEmpty();
            }
            var keys = before.fieldNames();
            while (keys.hasNext()) {
                String key = keys.next();
                if (after.getOrDefault(key, -1L) <= before.get(key).asLong()) {
                    return false;
                }
            }
            return true;
        }
    }

    @Command(
            name = "verify",
            mixinStandardHelpOptions = true,
            description =
                    "Read the run's topics and logs, print the JSON summary; exit 1 when an id is"
                            + " missing or duplicated, a step counter went back, a fault did not"
                            + " recover, a fuzz record is unaccounted for or a log names the"
                            + " classloader trap.")
    static final class Verify implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin Kafka kafka;

        @Option(names = "--events-topic", defaultValue = "events", description = "Events in.")
        String eventsTopic;

        @Option(names = "--scores-topic", defaultValue = "scores", description = "Scores out.")
        String scoresTopic;

        @Option(
                names = "--dead-letter-topic",
                defaultValue = "dead-letters",
                description = "Dead letters out.")
        String deadLetterTopic;

        @Option(names = "--features", defaultValue = "4", description = "The model's inputs.")
        int features;

        @Option(
                names = "--max-record-bytes",
                defaultValue = "1048576",
                description = "The job's --max-record-bytes (default ${DEFAULT-VALUE}).")
        int maxRecordBytes;

        @Option(names = "--faults", description = "JSON lines from wait-recovered.")
        Path faults;

        @Option(names = "--logs", description = "The cluster's log directory.")
        Path logs;

        @Option(names = "--target", description = "REST API, for restores and restarts.")
        String target;

        @Option(names = "--jobs", split = ",", description = "Every job id of the run.")
        List<String> jobs = List.of();

        @Option(
                names = "--wait",
                defaultValue = "120s",
                converter = DurationConverter.class,
                description =
                        "Wait this long for every event to be scored (default ${DEFAULT-VALUE}).")
        Duration wait;

        @Option(
                names = "--fuzz-job",
                description = "The job that took the fuzz records: its restarts are counted.")
        String fuzzJob;

        @Option(
                names = "--fuzz-restarts-before",
                defaultValue = "0",
                description = "The fuzz job's numRestarts before the fuzz records were sent.")
        long fuzzRestartsBefore;

        @Option(names = "--extra", description = "A JSON object merged into the summary.")
        String extra;

        @Override
        public Integer call() throws Exception {
            ChaosCheck check =
                    new ChaosCheck(
                            new ChaosCheck.Settings(
                                    kafka.connection(),
                                    eventsTopic,
                                    scoresTopic,
                                    kafka.metricsTopic,
                                    deadLetterTopic,
                                    features,
                                    maxRecordBytes));
            ObjectNode summary =
                    check.run(
                            wait,
                            faults,
                            logs,
                            target == null ? null : new ClusterRest(target),
                            jobs,
                            fuzzJob,
                            fuzzRestartsBefore);
            if (extra != null) {
                JsonNode more = JSON.readTree(extra);
                if (!more.isObject()) {
                    throw new IllegalArgumentException("--extra must be a JSON object");
                }
                summary.setAll((ObjectNode) more);
            }
            spec.commandLine()
                    .getOut()
                    .println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
            return summary.path("ok").asBoolean() ? 0 : 1;
        }
    }

    @Command(
            name = "sample",
            mixinStandardHelpOptions = true,
            description =
                    "Print one JSON line: seconds since --t0, events the job parsed, restarts, the"
                            + " learner's kan* metrics (sum and max over subtasks) and each given"
                            + " process's VmRSS.")
    static final class Sample implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--target", defaultValue = "localhost:8081", description = "REST API.")
        String target;

        @Option(names = "--job", required = true, description = "The job.")
        String job;

        @Option(names = "--t0", required = true, description = "Epoch ms of the start.")
        long t0;

        @Option(
                names = "--pids",
                split = ",",
                description = "name:pid of each process to sample, e.g. tm-1:1234.")
        List<String> pids = List.of();

        @Override
        public Integer call() throws Exception {
            ClusterRest rest = new ClusterRest(target);
            ObjectNode row = JSON.createObjectNode();
            row.put("t", (System.currentTimeMillis() - t0) / 1000.0);
            Map<String, Long> acc = rest.accumulators(job);
            row.put("events", acc.getOrDefault("eventsAccepted", 0L));
            row.put("rejected", acc.getOrDefault("eventsRejected", 0L));
            row.put("state", rest.state(job));
            row.put("restarts", rest.restarts(job));
            row.set("learner", JSON.valueToTree(rest.learnerMetrics(job)));
            ObjectNode rss = row.putObject("rss_kib");
            for (String p : pids) {
                int colon = p.lastIndexOf(':');
                if (colon < 1) {
                    throw new IllegalArgumentException("--pids wants name:pid, got " + p);
                }
                rss.put(
                        p.substring(0, colon),
                        SoakSummary.rssKib(Long.parseLong(p.substring(colon + 1))));
            }
            spec.commandLine().getOut().println(JSON.writeValueAsString(row));
            return 0;
        }
    }

    @Command(
            name = "field",
            mixinStandardHelpOptions = true,
            description = {
                "Print fields of the JSON document on standard input, one line each, so that a"
                        + " script reads values instead of scraping text.",
                "A path names nested fields with dots (kanEvents.sum, faults.0.name); '.' is the"
                        + " whole document. Text prints bare, objects and arrays as JSON."
            })
    static final class Field implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Parameters(arity = "1..*", description = "Paths of the fields to print.")
        List<String> paths;

        @Option(
                names = "--count",
                description = "Print how many fields or elements each path holds instead.")
        boolean count;

        @Option(
                names = "--default",
                description = "Print this for a path the document does not have (else exit 1).")
        String fallback;

        @Override
        public Integer call() throws Exception {
            JsonNode document = JSON.readTree(System.in);
            if (document == null) {
                throw new IllegalArgumentException("no JSON document on standard input");
            }
            var out = spec.commandLine().getOut();
            for (String path : paths) {
                JsonNode node = at(document, path);
                if (node == null || node.isMissingNode() || node.isNull()) {
                    if (fallback == null) {
                        spec.commandLine().getErr().println("no field " + path);
                        return 1;
                    }
                    out.println(fallback);
                } else if (count) {
                    out.println(node.size());
                } else {
                    out.println(node.isValueNode() ? node.asText() : JSON.writeValueAsString(node));
                }
            }
            return 0;
        }

        private static JsonNode at(JsonNode document, String path) {
            JsonNode node = document;
            if (".".equals(path)) {
                return node;
            }
            for (String step : path.split("\\.")) {
                node =
                        node.isArray() && step.matches("\\d+")
                                ? node.get(Integer.parseInt(step))
                                : node.get(step);
                if (node == null) {
                    return null;
                }
            }
            return node;
        }
    }

    @Command(
            name = "soak-report",
            mixinStandardHelpOptions = true,
            description = "Summarize the samples of a soak run as JSON.")
    static final class SoakReport implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", description = "The samples (JSON lines from `chaos sample`).")
        Path samples;

        @Option(
                names = "--warmup",
                defaultValue = "0.2",
                description = "Share of the events counted as warm-up (default ${DEFAULT-VALUE}).")
        double warmup;

        @Option(
                names = "--warmup-live-keys",
                defaultValue = "0",
                description =
                        "Warm-up ends instead once a subtask holds this many live keys (the"
                                + " key-explosion case: state is full from then on).")
        long warmupLiveKeys;

        @Option(names = "--extra", description = "A JSON object merged into the summary.")
        String extra;

        @Override
        public Integer call() throws Exception {
            ObjectNode summary = SoakSummary.summarize(samples, warmup, warmupLiveKeys);
            if (extra != null) {
                summary.setAll((ObjectNode) JSON.readTree(extra));
            }
            spec.commandLine()
                    .getOut()
                    .println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
            return 0;
        }
    }
}
