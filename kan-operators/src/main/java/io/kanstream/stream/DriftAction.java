package io.kanstream.stream;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What the operator does for a key whose error stream drifted upward. */
public enum DriftAction {
    /** Report it (metric with drift=true) and nothing else. */
    NONE,
    /** Refit the grids from the recent inputs, where the data now lives. */
    REFIT,
    /** Raise the learning rate for a number of steps. */
    BOOST,
    /** Both. */
    REFIT_AND_BOOST,
    /**
     * Forget Adam's momentum and keep its second moments: after a change of the objective the old
     * direction is wrong, the gradients' scale is not.
     */
    RESET,
    /** Refit and reset. */
    REFIT_AND_RESET,
    /** Forget both of Adam's moments and restart its bias correction. */
    RESTART,
    /** Refit and restart. */
    REFIT_AND_RESTART;

    public boolean refits() {
        return this == REFIT
                || this == REFIT_AND_BOOST
                || this == REFIT_AND_RESET
                || this == REFIT_AND_RESTART;
    }

    public boolean resets() {
        return this == RESET || this == REFIT_AND_RESET;
    }

    public boolean restarts() {
        return this == RESTART || this == REFIT_AND_RESTART;
    }

    public boolean boosts() {
        return this == BOOST || this == REFIT_AND_BOOST;
    }

    /** How the command line writes it: {@code refit+restart} for {@link #REFIT_AND_RESTART}. */
    public String spelling() {
        return name().toLowerCase(Locale.ROOT).replace("_and_", "+");
    }

    /** Parses an action's {@link #spelling} (and {@code both} or {@code refit-and-boost}). */
    public static DriftAction parse(String text) {
        String wanted = text.trim().toLowerCase(Locale.ROOT);
        if (wanted.equals("both") || wanted.equals("refit-and-boost")) {
            return REFIT_AND_BOOST;
        }
        for (DriftAction action : values()) {
            if (action.spelling().equals(wanted)) {
                return action;
            }
        }
        throw new IllegalArgumentException(
                "drift action '"
                        + text
                        + "' is not one of "
                        + Arrays.stream(values())
                                .map(DriftAction::spelling)
                                .collect(Collectors.joining(", ")));
    }
}
