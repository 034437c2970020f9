package io.kanstream.stream;

import java.util.Locale;

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

    /** Parses {@code none|refit|boost|refit+boost|reset|refit+reset|restart|refit+restart}. */
    public static DriftAction parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "none" -> NONE;
            case "refit" -> REFIT;
            case "boost" -> BOOST;
            case "refit+boost", "both", "refit-and-boost" -> REFIT_AND_BOOST;
            case "reset" -> RESET;
            case "refit+reset" -> REFIT_AND_RESET;
            case "restart" -> RESTART;
            case "refit+restart" -> REFIT_AND_RESTART;
            default ->
                    throw new IllegalArgumentException(
                            "drift action '"
                                    + text
                                    + "' is not one of none, refit, boost, refit+boost, reset,"
                                    + " refit+reset, restart, refit+restart");
        };
    }
}
