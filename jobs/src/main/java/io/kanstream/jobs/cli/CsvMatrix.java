package io.kanstream.jobs.cli;

import io.kanstream.jobs.UserFiles;
import io.kanstream.jobs.replay.HistoryTable;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * A CSV of numbers, one sample per row, read whole. A first row that is not all numbers is taken as
 * a header. Every error names the file, the 1-based line and column, and the value.
 *
 * @param rows (n, width) row-major
 * @param header column names, or null
 */
record CsvMatrix(Path file, float[] rows, int n, int width, List<String> header) {

    static CsvMatrix read(Path file) throws IOException {
        List<float[]> parsed = new ArrayList<>();
        List<String> header = null;
        int width = -1;
        try (Reader reader = UserFiles.open(file);
                CSVParser parser =
                        CSVFormat.DEFAULT
                                .builder()
                                .setIgnoreSurroundingSpaces(true)
                                .get()
                                .parse(reader)) {
            for (CSVRecord record : parser) {
                long line = parser.getCurrentLineNumber();
                if (record.size() == 1 && record.get(0).isEmpty()) {
                    continue; // blank line
                }
                if (parsed.isEmpty() && header == null && !allNumbers(record)) {
                    header = record.toList();
                    width = record.size();
                    continue;
                }
                if (width < 0) {
                    width = record.size();
                } else if (record.size() != width) {
                    throw new IllegalArgumentException(
                            file
                                    + " line "
                                    + line
                                    + ": "
                                    + record.size()
                                    + " columns, expected "
                                    + width
                                    + " like the "
                                    + (header != null ? "header" : "first row"));
                }
                float[] row = new float[width];
                for (int c = 0; c < width; c++) {
                    row[c] =
                            HistoryTable.number(file, line, Integer.toString(c + 1), record.get(c));
                }
                parsed.add(row);
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + file);
        } catch (java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(file + ": not a readable CSV: " + e.getMessage());
        }
        if (parsed.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no data rows");
        }
        float[] rows = new float[parsed.size() * width];
        for (int r = 0; r < parsed.size(); r++) {
            System.arraycopy(parsed.get(r), 0, rows, r * width, width);
        }
        return new CsvMatrix(file, rows, parsed.size(), width, header);
    }

    private static boolean allNumbers(CSVRecord record) {
        for (String cell : record) {
            try {
                Double.parseDouble(cell);
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return true;
    }

    /** Fails naming the file when the width is not what the model takes. */
    CsvMatrix requireWidth(int expected, String what) {
        if (width != expected) {
            throw new IllegalArgumentException(
                    file + " has " + width + " columns, " + what + " expects " + expected);
        }
        return this;
    }

    /** The first {@code columns} columns of every row. */
    float[] leading(int columns) {
        float[] result = new float[n * columns];
        for (int r = 0; r < n; r++) {
            System.arraycopy(rows, r * width, result, r * columns, columns);
        }
        return result;
    }

    /** One column as doubles. */
    double[] column(int index) {
        double[] result = new double[n];
        for (int r = 0; r < n; r++) {
            result[r] = rows[r * width + index];
        }
        return result;
    }

    static void write(Path file, float[] values, int n, int width) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            StringBuilder line = new StringBuilder();
            for (int r = 0; r < n; r++) {
                line.setLength(0);
                for (int c = 0; c < width; c++) {
                    if (c > 0) {
                        line.append(',');
                    }
                    line.append(values[r * width + c]);
                }
                out.write(line.toString());
                out.newLine();
            }
        }
    }
}
