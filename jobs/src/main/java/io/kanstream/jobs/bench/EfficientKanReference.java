package io.kanstream.jobs.bench;

import java.util.List;
import java.util.Optional;

/**
 * efficient-kan on PyTorch CPU, one thread, as issue 6 gives it: measured earlier on this machine,
 * not in this run. Fixed figures to compare against; the bench does not run Python.
 */
final class EfficientKanReference {
    static final String SOURCE =
            "efficient-kan on PyTorch CPU, one thread; issue 6 yardsticks, measured earlier on this"
                    + " machine, not in this run";

    /**
     * @param layers widths as {@code 8,16,1}
     * @param batch rows per call
     * @param trainSamplesPerS training samples per second
     * @param scoreSamplesPerS scoring samples per second
     */
    record Figure(String layers, int batch, double trainSamplesPerS, double scoreSamplesPerS) {}

    static final List<Figure> FIGURES =
            List.of(
                    new Figure("8,16,1", 1, 630, 1_830),
                    new Figure("8,16,1", 32, 19_300, 51_900),
                    new Figure("8,16,1", 256, 68_700, 157_000),
                    new Figure("32,64,1", 1, 400, 1_460),
                    new Figure("32,64,1", 32, 11_000, 28_500),
                    new Figure("32,64,1", 256, 22_700, 48_500));

    private EfficientKanReference() {}

    static Optional<Figure> find(String layers, int batch) {
        return FIGURES.stream()
                .filter(f -> f.layers().equals(layers) && f.batch() == batch)
                .findFirst();
    }
}
