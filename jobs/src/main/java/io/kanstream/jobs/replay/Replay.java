package io.kanstream.jobs.replay;

import io.kanstream.kan.KanConfig;
import io.kanstream.stream.Event;
import io.kanstream.stream.Label;
import io.kanstream.stream.OnlineKanConfig;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.flink.types.Either;

/**
 * A table and its settings turned into an evaluation: the sequence in replay order, the live
 * operator on a local Flink, and the prequential evaluation against the baselines. {@code replay}
 * runs it once; {@code evaluate} runs it per stream, seed and model variant.
 */
public final class Replay {
    private Replay() {}

    /**
     * @param config the operator's settings the KAN ran with, model included
     * @param outputs what the operator emitted: every score and the per-key metric records
     */
    public record Result(
            OnlineKanConfig config, ReplayRunner.Outputs outputs, ReplayEvaluation evaluation) {}

    public static Result run(HistoryTable table, ReplaySettings settings) throws Exception {
        return run(table, settings, UnaryOperator.identity(), UnaryOperator.identity());
    }

    /**
     * @param model adjusts the model the settings describe before it is built
     * @param online adjusts the operator's settings before they are built
     */
    public static Result run(
            HistoryTable table,
            ReplaySettings settings,
            UnaryOperator<KanConfig.Builder> model,
            UnaryOperator<OnlineKanConfig.Builder> online)
            throws Exception {
        KanConfig kan =
                model.apply(settings.model(table.features(), table.outputs(), table.task()))
                        .build();
        OnlineKanConfig config = online.apply(settings.online(kan)).build();
        List<Either<Event, Label>> sequence =
                ReplaySequence.build(
                        table.rows(), settings.labelDelay(), settings.lagLabel(), null);
        ReplayRunner.Outputs outputs = ReplayRunner.run(sequence, config, settings.parallelism());
        ReplayEvaluation evaluation =
                ReplayEvaluator.evaluate(
                        table,
                        sequence,
                        outputs,
                        kan,
                        new ReplayEvaluator.Settings(
                                settings.metrics(),
                                settings.warmup(),
                                config.batchSize(),
                                config.refitPolicy(),
                                400,
                                config.warmStart()));
        return new Result(config, outputs, evaluation);
    }
}
