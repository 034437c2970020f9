package io.kanstream.jobs.cli;

import io.kanstream.jobs.demo.DemoCommand;
import io.kanstream.jobs.evaluate.EvaluateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code kanstream <command>}: the command line over the learner and the jobs. */
@Command(
        name = "kanstream",
        mixinStandardHelpOptions = true,
        version = "kanstream 0.1.0",
        description = "Online learning of Kolmogorov-Arnold Networks on Flink and Kafka.",
        subcommands = {
            ImportCommand.class,
            ExportCommand.class,
            PredictCommand.class,
            RefitCommand.class,
            FitCommand.class,
            ReplayCommand.class,
            EvaluateCommand.class,
            PlotCommand.class,
            ModelsCommand.class,
            BootstrapCommand.class,
            RunCommand.class,
            ProduceCommand.class,
            BenchCommand.class,
            ChaosCommand.class,
            DemoCommand.class,
            CommandLine.HelpCommand.class
        })
public final class KanstreamCli implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command; bad input prints one line naming what was wrong and exits 2. */
    public static int execute(String... args) {
        return BadInput.reported(new KanstreamCli()).execute(args);
    }
}
