package io.kanstream.jobs.evaluate;

import io.kanstream.jobs.replay.ReplaySettings;
import io.kanstream.kan.KanConfig;
import io.kanstream.kan.RefitPolicy;
import io.kanstream.stream.DriftAction;
import io.kanstream.stream.OnlineKanConfig;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One KAN the suite measures: the defaults, or the defaults with one adaptive part switched off.
 * Each variant is a change to what every stream would otherwise run with — its replay settings,
 * then the model's and the operator's builders — so a variant says only what it switches, and
 * changing a default changes every variant built on it.
 *
 * <p>The suite's models are {@link #SUITE}, the one list to extend: the first entry is the
 * reference (the baselines are taken from its runs).
 *
 * @param name the model's name in the table and the JSON
 * @param description what differs from the defaults, for {@code --help} and the JSON
 * @param settings adjusts the replay settings (refits, drift detector and action, batch, ...)
 * @param model adjusts the model before it is built
 * @param online adjusts the operator's settings before they are built
 */
public record KanVariant(
        String name,
        String description,
        UnaryOperator<ReplaySettings> settings,
        UnaryOperator<KanConfig.Builder> model,
        UnaryOperator<OnlineKanConfig.Builder> online) {

    /** A policy that never refits. */
    public static final RefitPolicy NEVER_REFIT = RefitPolicy.never();

    public static final List<KanVariant> SUITE =
            List.of(
                    of("kan", "the defaults (replay's, or fit's for toy)", s -> s),
                    of(
                            "kan-refit-off",
                            "no grid refits: neither when the summaries say a grid no longer fits"
                                    + " nor on a drift (the rest of the drift response stays)",
                            KanVariant::refitOff),
                    of(
                            "kan-drift-off",
                            "no drift detector, so no drift response (refits the summaries call for stay)",
                            s -> s.toBuilder().drift(null).driftAction(DriftAction.NONE).build()),
                    of(
                            "kan+extension",
                            "grid extension on: G doubles from 5 as labels accumulate, up to 20",
                            s ->
                                    s.toBuilder()
                                            .refitPolicy(s.refitPolicy().withExtension(20))
                                            .build()),
                    of(
                            "kan-batch-32",
                            "a step per 32 labels instead of one per label (the live job's"
                                    + " default before it took the evaluated one)",
                            s -> s.toBuilder().batchSize(32).build()),
                    new KanVariant(
                            "kan-calibration-off",
                            "raw logits: no bound, no online Platt scaling (classification only)",
                            s -> s,
                            model -> model.logitBound(0),
                            UnaryOperator.identity()),
                    average(
                            "kan-average-off",
                            "no average of the model's recent parameters beside it"
                                    + " (--average-horizon 0)",
                            0),
                    new KanVariant(
                            "kan-initial-rate-off",
                            "a constant learning rate from a model's first step, instead of three"
                                    + " times the rate falling to it over 300 steps"
                                    + " (--initial-rate-factor 1)",
                            s -> s,
                            model -> model.constantRate(),
                            UnaryOperator.identity()),
                    of(
                            "kan-population-off",
                            "no model shared by the keys: each key's score is its own model's"
                                    + " (--no-population)",
                            s -> s.toBuilder().population(false).build()));

    /**
     * Variants the suite runs only when {@code --variants} names them: the alternatives and the
     * investigations that docs/learning.md reports, kept so its commands can be rerun.
     */
    public static final List<KanVariant> EXTRA =
            List.of(
                    of(
                            "kan+shared-companion",
                            "the shared model beside a companion at a third of the rate, the two"
                                    + " mixed by their losses on every key's labels"
                                    + " (--shared-companion 0.33)",
                            s ->
                                    s.toBuilder()
                                            .sharedCompanion(OnlineKanConfig.SLOW_SHARED_COMPANION)
                                            .build()),
                    new KanVariant(
                            "kan+calibration-bias",
                            "a binary model's calibration learns Platt's bias beside its"
                                    + " temperature (--calibration-bias; the default before state"
                                    + " format 7)",
                            s -> s,
                            model -> model.calibrationBias(true),
                            UnaryOperator.identity()),
                    of(
                            "kan-refit-backoff-off",
                            "after a declined refit the grids are looked at again after the"
                                    + " minimum interval every time, instead of twice as long after"
                                    + " each one declined in a row (up to 4x)",
                            s -> backoff(s, 0)),
                    of(
                            "kan+refit-backoff-5",
                            "declined refits in a row double the wait before the next look up to"
                                    + " five times (32x the minimum interval) instead of twice",
                            s -> backoff(s, 5)),
                    average(
                            "kan+average-30",
                            "the parameter average over about 30 steps instead of 100",
                            30),
                    average(
                            "kan+average-300",
                            "the parameter average over about 300 steps instead of 100",
                            300),
                    new KanVariant(
                            "kan+rate-3x",
                            "the learning rate at 0.03, three times the default (--lr 0.03): what"
                                    + " keys with few labels want, docs/learning.md",
                            s -> s,
                            model -> model.learningRate(0.03),
                            UnaryOperator.identity()),
                    new KanVariant(
                            "kan-momentum-off",
                            "Adam without its first moment (beta1 = 0) on the toy too, which"
                                    + " otherwise trains with fit's 0.9 (the streams' default is 0)",
                            s -> s,
                            model -> model.beta1(0),
                            UnaryOperator.identity()),
                    companions(
                            "kan+companions",
                            "a companion KAN per key learning at 3x the learning rate, both"
                                    + " learning from every label; the outputs are their mixture"
                                    + " weighted by recent loss (--companions 3)",
                            3.0),
                    new KanVariant(
                            "kan+momentum",
                            "Adam with its first moment (beta1 0.9, the default before"
                                    + " 2026-11-30) on every stream; the toy has it anyway",
                            s -> s,
                            model -> model.beta1(0.9),
                            UnaryOperator.identity()),
                    companions(
                            "kan+companion-1",
                            "a companion KAN at the same learning rate (another initialization)",
                            1.0),
                    companions(
                            "kan+companion-0.33",
                            "a companion KAN at a third of the learning rate (--companions 0.33):"
                                    + " the slow member of a fast/slow pair",
                            1 / 3.0),
                    companions(
                            "kan+companions-0.33-3",
                            "two companion KANs, at 1/3 and 3x the learning rate",
                            1 / 3.0,
                            3.0),
                    new KanVariant(
                            "kan-normalizer-off",
                            "raw inputs: no running standardization of the features (or a"
                                    + " regression's target)",
                            s -> s,
                            model -> model.normalize(false),
                            UnaryOperator.identity()),
                    new KanVariant(
                            "kan-normalizer-off-refit-off",
                            "raw inputs and no grid refits",
                            KanVariant::refitOff,
                            model -> model.normalize(false),
                            UnaryOperator.identity()),
                    new KanVariant(
                            "kan-normalizer-frozen",
                            "the features' standardization learned from the first 2,000 examples"
                                    + " and then kept",
                            s -> s,
                            model -> model.normalizerWarmup(2000),
                            UnaryOperator.identity()),
                    new KanVariant(
                            "kan-normalizer-frozen-refit-off",
                            "the frozen standardization and no grid refits",
                            KanVariant::refitOff,
                            model -> model.normalizerWarmup(2000),
                            UnaryOperator.identity()),
                    driftAction(
                            "kan-drift-refit",
                            "a detected drift refits within the tolerance and leaves Adam as it is",
                            DriftAction.REFIT),
                    driftAction(
                            "kan-drift-reset",
                            "a detected drift only forgets Adam's momentum, without a refit (the"
                                    + " first default; nothing without momentum)",
                            DriftAction.RESET),
                    driftAction(
                            "kan-drift-boost",
                            "a detected drift raises the learning rate for a number of steps",
                            DriftAction.BOOST),
                    driftAction(
                            "kan-drift-restart",
                            "a detected drift forgets both of Adam's moments and restarts its bias"
                                    + " correction, without a refit",
                            DriftAction.RESTART),
                    driftAction(
                            "kan-drift-refit-reset",
                            "a detected drift refits within the tolerance and forgets only Adam's"
                                    + " momentum (the default before refit+restart)",
                            DriftAction.REFIT_AND_RESET));

    /** The defaults with another drift response (the default refits and restarts Adam). */
    private static KanVariant driftAction(String name, String description, DriftAction action) {
        return of(name, description, s -> s.toBuilder().driftAction(action).build());
    }

    /** Every variant, the suite's first. */
    public static List<KanVariant> all() {
        List<KanVariant> all = new java.util.ArrayList<>(SUITE);
        all.addAll(EXTRA);
        return all;
    }

    /** The defaults with companion KANs at these learning-rate factors. */
    private static KanVariant companions(String name, String description, Double... rates) {
        return new KanVariant(
                name,
                description,
                s -> s,
                model -> model.companionRates(List.of(rates)),
                UnaryOperator.identity());
    }

    /** The defaults with the parameter average over {@code horizon} steps (0: none). */
    private static KanVariant average(String name, String description, double horizon) {
        return new KanVariant(
                name,
                description,
                s -> s,
                model -> model.averageHorizon(horizon),
                UnaryOperator.identity());
    }

    /** No grid refits, neither from the summaries nor on a drift. */
    /** The replay's refit policy with another backoff after declined refits. */
    private static ReplaySettings backoff(ReplaySettings s, int doublings) {
        return s.toBuilder().refitPolicy(s.refitPolicy().withDeclineBackoff(doublings)).build();
    }

    private static ReplaySettings refitOff(ReplaySettings s) {
        return s.toBuilder()
                .refitPolicy(NEVER_REFIT)
                .driftAction(withoutRefit(s.driftAction()))
                .build();
    }

    private static DriftAction withoutRefit(DriftAction action) {
        return switch (action) {
            case REFIT -> DriftAction.NONE;
            case REFIT_AND_BOOST -> DriftAction.BOOST;
            case REFIT_AND_RESET -> DriftAction.RESET;
            case REFIT_AND_RESTART -> DriftAction.RESTART;
            default -> action;
        };
    }

    /** A variant that changes the replay settings only. */
    public static KanVariant of(
            String name, String description, UnaryOperator<ReplaySettings> settings) {
        return new KanVariant(
                name, description, settings, UnaryOperator.identity(), UnaryOperator.identity());
    }
}
