package io.kanstream.jobs.cli;

import io.kanstream.jobs.bench.BatchedBench;
import io.kanstream.jobs.bench.BenchReport;
import io.kanstream.jobs.bench.BenchRun;
import io.kanstream.jobs.bench.BenchSettings;
import io.kanstream.jobs.bench.BenchTable;
import io.kanstream.jobs.bench.PipelineBench;
import io.kanstream.jobs.kafka.KafkaConnection;
import io.kanstream.jobs.kafka.LocalBroker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description =
                "Measure the model: training and scoring throughput and latency of KanLearner for"
                        + " layers 8,16,1 and 32,64,1 at batch 1, 32, 256 on one thread, beside a"
                        + " DJL-autograd KAN timed in the same rounds, against efficient-kan on"
                        + " PyTorch run by python3 in the same rounds (when it can import torch)"
                        + " and the FLOP ceiling; plus memory. The pipeline:"
                        + " events/s and latency through a real broker and the job at 1, 100 and"
                        + " 10,000 keys, beside a pass-through job in the same run. State: bytes"
                        + " per key and checkpoint duration at 10,000 and 100,000 keys. Steady:"
                        + " 100 to 100,000 keys with 20 events each after its first, heap and"
                        + " RocksDB, new-key rate apart, beside the pass-through job. Starts a"
                        + " private Kafka broker unless given one. Prints tables, writes JSON.")
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--quick",
            description =
                    "Short rounds and backlogs, state at 10,000 keys only: about five minutes on"
                            + " idle cores (full: about twenty).")
    boolean quick;

    @Option(
            names = "--out",
            description = "JSON report to write (default reports/bench-<date>.json).")
    Path out;

    @Option(
            names = "--parts",
            split = ",",
            defaultValue = "model,pipeline,state,steady",
            description =
                    "What to measure: model, pipeline, state, steady (default ${DEFAULT-VALUE}).")
    List<Part> parts;

    /** Kafka for the pipeline and state parts; none: a private broker for this run. */
    @CommandLine.Mixin KafkaOptions kafka;

    @Option(
            names = "--pipeline-keys",
            split = ",",
            description = "Key counts of the pipeline part (default 1,100,10000).")
    List<Integer> pipelineKeys;

    @Option(
            names = "--state-keys",
            split = ",",
            description = "Key counts of the state part (default 10000,100000; --quick: 10000).")
    List<Integer> stateKeys;

    @Option(
            names = "--steady",
            description =
                    "Rows of the steady part, backend:keys, then a bundle size, 'own' (each"
                            + " key's own model alone, without the model the keys share) or both,"
                            + " e.g. hashmap:100:own (default"
                            + " hashmap:100,hashmap:1000,hashmap:10000,rocksdb:100,rocksdb:1000,"
                            + "rocksdb:10000,rocksdb:100000; --quick:"
                            + " hashmap:100,hashmap:10000,rocksdb:100,rocksdb:100000).")
    String steady;

    @Option(
            names = "--steady-events-per-key",
            description = "Events per key after each key's first in the steady part (default 20).")
    Integer steadyEventsPerKey;

    @Option(
            names = "--steady-min-events",
            description =
                    "Events of a steady row's backlog at least, over however few keys: a window"
                            + " spanning several checkpoints (every 30 s) pays their share"
                            + " (default 600000; without --quick 1000000).")
    Long steadyMinEvents;

    @Option(
            names = "--steady-rounds",
            description =
                    "How often each steady row runs, the rows' rounds interleaved; a row's figures"
                            + " are the medians of its rounds (default 3).")
    Integer steadyRounds;

    enum Part {
        model,
        pipeline,
        state,
        steady
    }

    @Option(
            names = "--batched",
            description =
                    "Measure only the batched kernel: --batched-keys keys of layers 8,16,1, the"
                            + " device pool (one DJL call per bundle) against one DJL call per key"
                            + " and against the host path, scoring and stepping, in the same run;"
                            + " checks the pool's outputs against the host path's for every key"
                            + " first and exits 1 if they differ by more than 1e-5.")
    boolean batched;

    @Option(
            names = "--batched-keys",
            defaultValue = "1000",
            description = "Keys of the --batched rows (default ${DEFAULT-VALUE}).")
    int batchedKeys;

    @Option(
            names = "--batched-rows",
            defaultValue = "4",
            description =
                    "Labeled rows per key in one step of the --batched rows (default"
                            + " ${DEFAULT-VALUE}).")
    int batchedRows;

    @Option(
            names = "--device",
            defaultValue = "cpu",
            description =
                    "Where the --batched pool and per-key DJL learners run: cpu, gpu or gpu:N"
                            + " (default ${DEFAULT-VALUE}); the host path runs on the CPU. A GPU"
                            + " the PyTorch engine does not see is an error.")
    String device;

    @Option(
            names = "--peer-python",
            defaultValue = BenchRun.DEFAULT_PYTHON,
            description =
                    "Python that runs the efficient-kan peer of the model part (needs numpy and"
                            + " torch; default ${DEFAULT-VALUE}, else /usr/bin/python3, where"
                            + " Debian's python3-torch installs); none to measure no peer.")
    String peerPython;

    @Option(
            names = "--no-profile",
            description = "Skip counting PyTorch ops per call with PyTorch's profiler.")
    boolean noProfile;

    @Override
    public Integer call() throws Exception {
        if (batched) {
            return batched();
        }
        BenchSettings settings = quick ? BenchSettings.quick() : BenchSettings.full();
        if (noProfile) {
            settings =
                    new BenchSettings(
                            settings.mode(),
                            settings.shapes(),
                            settings.batches(),
                            settings.gridSize(),
                            settings.splineOrder(),
                            settings.warmup(),
                            settings.round(),
                            settings.rounds(),
                            0,
                            settings.peakTime(),
                            settings.seed());
        }
        Path file =
                out != null
                        ? out
                        : Path.of("reports", "bench-" + LocalDate.now(ZoneOffset.UTC) + ".json");
        String command =
                "kanstream " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        long started = System.nanoTime();
        BenchReport report =
                new BenchRun(settings, System.err, "none".equals(peerPython) ? null : peerPython)
                        .run(command.trim(), parts.contains(Part.model));
        if (parts.contains(Part.pipeline)
                || parts.contains(Part.state)
                || parts.contains(Part.steady)) {
            report = pipeline(report, started);
        }
        report.write(file);
        System.out.print(BenchTable.render(report));
        System.out.println();
        System.out.println("wrote " + file);
        return 0;
    }

    private int batched() throws IOException {
        BatchedBench.Settings settings =
                new BatchedBench.Settings(
                        batchedKeys,
                        List.of(8, 16, 1),
                        batchedRows,
                        device,
                        quick ? Duration.ofSeconds(1) : Duration.ofSeconds(3),
                        quick ? Duration.ofSeconds(1) : Duration.ofSeconds(3),
                        quick ? 2 : 4,
                        42);
        Path file =
                out != null
                        ? out
                        : Path.of(
                                "reports",
                                "bench-batched-" + LocalDate.now(ZoneOffset.UTC) + ".json");
        BatchedBench.Report report = new BatchedBench(settings, System.err).run();
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        BenchReport.mapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), report);
        System.out.print(BatchedBench.render(report));
        System.out.println("wrote " + file);
        if (!BatchedBench.withinTolerance(report)) {
            System.err.println(
                    "the batched kernel's outputs differ from the host path's by more than 1e-5");
            return 1;
        }
        return 0;
    }

    private BenchReport pipeline(BenchReport report, long started) throws Exception {
        PipelineBench.Settings settings =
                quick ? PipelineBench.Settings.quick() : PipelineBench.Settings.full();
        settings =
                new PipelineBench.Settings(
                        pipelineKeys != null ? pipelineKeys : settings.keys(),
                        settings.events(),
                        settings.eventsPerKey(),
                        settings.latencyRate(),
                        settings.latencyTime(),
                        stateKeys != null ? stateKeys : settings.stateKeys(),
                        settings.parallelism(),
                        settings.checkpointInterval(),
                        settings.warmupEvents(),
                        steady != null
                                ? PipelineBench.SteadyCase.parseAll(steady)
                                : settings.steady(),
                        steadyEventsPerKey != null
                                ? steadyEventsPerKey
                                : settings.steadyEventsPerKey(),
                        settings.steadyCheckpointInterval(),
                        steadyMinEvents != null ? steadyMinEvents : settings.steadyMinEvents(),
                        steadyRounds != null ? steadyRounds : settings.steadyRounds());
        Path work = Files.createTempDirectory("kanstream-bench");
        LocalBroker broker = null;
        try {
            KafkaConnection servers;
            if (kafka.given()) {
                servers = kafka.checkedConnection();
            } else {
                System.err.println("starting a private Kafka broker (scripts/kafka-local.sh)...");
                broker = LocalBroker.start(LocalBroker.repoDir(), work.resolve("kafka"));
                servers = broker.connection();
            }
            PipelineBench bench = new PipelineBench(settings, servers, work, System.err);
            List<PipelineBench.Row> rows =
                    parts.contains(Part.pipeline) ? bench.pipeline() : List.of();
            List<PipelineBench.StateRow> state =
                    parts.contains(Part.state) ? bench.state() : List.of();
            List<PipelineBench.SteadyRow> steadyRows =
                    parts.contains(Part.steady) ? bench.steady() : List.of();
            List<BenchReport.Check> checks = new ArrayList<>();
            rows.stream()
                    .filter(r -> r.keys() == 100)
                    .forEach(
                            r -> {
                                checks.add(ratioCheck(r, 0.2, "must show"));
                                checks.add(ratioCheck(r, 0.5, "the aim"));
                                checks.add(
                                        new BenchReport.Check(
                                                "pipeline at 100 keys, the same per CPU second"
                                                        + " (what the code costs under other"
                                                        + " load)",
                                                r.cpuRatioVsPassthrough(),
                                                0.2,
                                                "×",
                                                r.cpuRatioVsPassthrough() >= 0.2,
                                                null));
                            });
            List<String> notes = new ArrayList<>(bench.failures());
            notes.addAll(
                    List.of(
                            "pipeline: both jobs on an embedded Flink cluster in this process,"
                                    + " parallelism "
                                    + settings.parallelism()
                                    + ", checkpoints every "
                                    + DurationConverter.format(settings.checkpointInterval())
                                    + ", exactly-once Kafka sinks; the broker, the producer and"
                                    + " the score reader share the same two cores",
                            "pipeline latency: broker LogAppendTime of the score minus the"
                                    + " event's timestamp, read_uncommitted; p99 includes the"
                                    + " pauses of aligned checkpoints",
                            "state: Flink's state_size of the first checkpoint completed after"
                                    + " every key was scored, hashmap backend (full snapshot)"));
            return report.withPipeline(
                            rows, state, checks, notes, (System.nanoTime() - started) / 1e9)
                    .withSteady(steadyRows, steadyChecks(steadyRows));
        } finally {
            if (broker != null) {
                broker.close();
            }
            deleteRecursively(work);
        }
    }

    /**
     * Issue 12's steady-state must-shows: 10,000 keys on the heap at 0.8× the 100-key rate or
     * better, 100,000 keys on RocksDB at 0.3× or better. Both are taken against the 100-key heap
     * row of the same run; the RocksDB one also against the 100-key RocksDB row when the run has
     * it, which separates what many keys cost on RocksDB from what RocksDB costs at any key count.
     */
    static List<BenchReport.Check> steadyChecks(List<PipelineBench.SteadyRow> rows) {
        List<BenchReport.Check> checks = new ArrayList<>();
        var heap = hundredKeys(rows, "hashmap");
        if (heap.isEmpty()) {
            return checks;
        }
        var rocksdb = hundredKeys(rows, "rocksdb");
        for (PipelineBench.SteadyRow r : rows) {
            if (r.bundleSize() > 0 || r.ownModels() || r.sharedCompanion()) {
                continue;
            }
            if (r.keys() == 10_000 && r.stateBackend().equals("hashmap")) {
                checks.add(steadyCheck(r, heap.get(), 0.8));
            } else if (r.keys() == 100_000 && r.stateBackend().equals("rocksdb")) {
                checks.add(steadyCheck(r, heap.get(), 0.3));
                rocksdb.ifPresent(reference -> checks.add(steadyCheck(r, reference, 0.3)));
            }
        }
        return checks;
    }

    private static Optional<PipelineBench.SteadyRow> hundredKeys(
            List<PipelineBench.SteadyRow> rows, String backend) {
        return rows.stream()
                .filter(
                        r ->
                                r.keys() == 100
                                        && r.stateBackend().equals(backend)
                                        && r.bundleSize() == 0
                                        && !r.ownModels()
                                        && !r.sharedCompanion())
                .findFirst();
    }

    private static BenchReport.Check steadyCheck(
            PipelineBench.SteadyRow row, PipelineBench.SteadyRow reference, double target) {
        double ratio = row.eventsPerS() / reference.eventsPerS();
        return new BenchReport.Check(
                String.format(
                        Locale.ROOT,
                        "steady %,d keys on %s, events/s ÷ %,d keys on %s",
                        row.keys(),
                        row.stateBackend(),
                        reference.keys(),
                        reference.stateBackend()),
                ratio,
                target,
                "×",
                ratio >= target,
                null);
    }

    private static BenchReport.Check ratioCheck(PipelineBench.Row r, double target, String what) {
        return new BenchReport.Check(
                String.format(
                        java.util.Locale.ROOT,
                        "pipeline at 100 keys, learning events/s ÷ pass-through (%s)",
                        what),
                r.ratioVsPassthrough(),
                target,
                "×",
                r.ratioVsPassthrough() >= target,
                null);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
