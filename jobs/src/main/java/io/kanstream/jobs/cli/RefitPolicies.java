package io.kanstream.jobs.cli;

import io.kanstream.kan.RefitPolicy;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The refit options every command that trains shares ({@code --refit on|off}, {@code
 * --max-grid-size}), declared once and mixed in, and the policy they name.
 */
final class RefitPolicies {
    @Option(
            names = "--refit",
            defaultValue = "on",
            description =
                    "Grid refits when the input summaries say a grid no longer fits: on|off"
                            + " (default ${DEFAULT-VALUE}).")
    String refit;

    @Option(
            names = "--max-grid-size",
            defaultValue = "0",
            description =
                    "Grid extension: G doubles as a key's labels accumulate, up to this; 0 off"
                            + " (default ${DEFAULT-VALUE}).")
    int maxGridSize;

    RefitPolicy policy() {
        return parse(refit, maxGridSize);
    }

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
