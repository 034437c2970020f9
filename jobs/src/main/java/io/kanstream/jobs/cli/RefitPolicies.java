package io.kanstream.jobs.cli;

import io.kanstream.kan.RefitPolicy;
import java.util.Locale;

/** The refit policy named on a command line: {@code --refit on|off} and {@code --max-grid-size}. */
final class RefitPolicies {
    private RefitPolicies() {}

    static RefitPolicy parse(String refit, int maxGridSize) {
        if (maxGridSize < 0) {
            throw new IllegalArgumentException(
                    "--max-grid-size must be >= 0 (0 turns grid extension off), got "
                            + maxGridSize);
        }
        return switch (refit.trim().toLowerCase(Locale.ROOT)) {
            case "on" -> RefitPolicy.defaults().withExtension(maxGridSize);
            case "off" -> RefitPolicy.never();
            default ->
                    throw new IllegalArgumentException(
                            "--refit '" + refit + "' is not one of on, off");
        };
    }
}
