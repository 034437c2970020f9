package io.kanstream.jobs.cli;

import io.kanstream.jobs.bench.BenchReport;
import io.kanstream.jobs.bench.BenchRun;
import io.kanstream.jobs.bench.BenchSettings;
import io.kanstream.jobs.bench.BenchTable;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description =
                "Measure the model (issue 6, part 1): training and scoring throughput and latency"
                        + " of KanLearner for layers 8,16,1 and 32,64,1 at batch 1, 32, 256 on one"
                        + " thread, beside a DJL-autograd KAN timed in the same rounds, against"
                        + " efficient-kan's reference figures and the FLOP ceiling; plus memory."
                        + " Prints a table and writes JSON. Pipeline and state are not measured"
                        + " yet.")
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--quick",
            description = "Short rounds, about two minutes on idle cores (full: about ten).")
    boolean quick;

    @Option(
            names = "--out",
            description = "JSON report to write (default reports/bench-<date>.json).")
    Path out;

    @Option(
            names = "--no-profile",
            description = "Skip counting PyTorch ops per call with PyTorch's profiler.")
    boolean noProfile;

    @Override
    public Integer call() throws Exception {
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
        BenchReport report = new BenchRun(settings, System.err).run(command.trim());
        report.write(file);
        System.out.print(BenchTable.render(report));
        System.out.println();
        System.out.println("wrote " + file);
        return 0;
    }
}
