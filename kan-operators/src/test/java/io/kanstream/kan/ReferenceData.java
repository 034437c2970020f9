package io.kanstream.kan;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The efficient-kan reference cases in {@code data/reference/efficient-kan}, with their SOURCE.md.
 */
final class ReferenceData {
    static final List<String> CASES = List.of("k3g5_3-5-2", "k2g8_4-8-1");

    private ReferenceData() {}

    /** A file of {@code data/reference/efficient-kan/} in the repository. */
    static Path file(String name) {
        String dir = System.getProperty("kanstream.data.dir", "../data");
        Path path = Path.of(dir, "reference", "efficient-kan", name);
        if (!Files.exists(path)) {
            throw new IllegalStateException("reference file missing: " + path.toAbsolutePath());
        }
        return path;
    }

    /** A CSV of numbers without header, as rows. */
    static float[][] csv(String name) {
        try {
            return Files.readAllLines(file(name)).stream()
                    .filter(line -> !line.isBlank())
                    .map(
                            line -> {
                                String[] cells = line.split(",");
                                float[] row = new float[cells.length];
                                for (int c = 0; c < cells.length; c++) {
                                    row[c] = Float.parseFloat(cells[c].trim());
                                }
                                return row;
                            })
                    .toArray(float[][]::new);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float[] flat(float[][] rows) {
        int width = rows[0].length;
        float[] flat = new float[rows.length * width];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * width, width);
        }
        return flat;
    }

    /** The efficient-kan refit figure of a case, from MANIFEST.json. */
    static double manifestFigure(String caseName, String field) {
        try {
            String manifest = Files.readString(file("MANIFEST.json"));
            int at = manifest.indexOf("\"" + caseName + "\"");
            int key = manifest.indexOf("\"" + field + "\"", at);
            int colon = manifest.indexOf(':', key);
            int end = colon + 1;
            while (end < manifest.length()
                    && "0123456789.eE+- ".indexOf(manifest.charAt(end)) >= 0) {
                end++;
            }
            return Double.parseDouble(manifest.substring(colon + 1, end).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double relativeL2(float[] before, float[] after) {
        double diff = 0;
        double norm = 0;
        for (int q = 0; q < before.length; q++) {
            diff += Math.pow(after[q] - before[q], 2);
            norm += Math.pow(before[q], 2);
        }
        return Math.sqrt(diff / norm);
    }
}
