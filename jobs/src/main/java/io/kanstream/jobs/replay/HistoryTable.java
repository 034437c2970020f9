package io.kanstream.jobs.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.kan.Task;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * A historical stream loaded whole and put in event-time order (stable: rows with equal times keep
 * their file order), with labels mapped to the task's encoding.
 *
 * <p>Reads CSV with a header row, or JSONL of flat objects. The label, key and time columns are
 * named; every other column not excluded is a numeric feature. String labels map to classes: with a
 * positive label, that one is 1 and every other 0 (binary); otherwise classes are the distinct
 * strings in sorted order (multiclass). Errors name the file, line and column.
 *
 * @param featureNames the feature columns, in order
 * @param classes the class names for classification (index = class), empty for regression
 */
public record HistoryTable(
        List<HistoryRow> rows, List<String> featureNames, Task task, List<String> classes) {

    /** How to read a table. */
    public record Options(
            String labelColumn,
            String keyColumn,
            String timeColumn,
            Set<String> excludeColumns,
            String positiveLabel,
            Task task) {}

    public int features() {
        return featureNames.size();
    }

    public int outputs() {
        return task == Task.MULTICLASS ? classes.size() : 1;
    }

    /** At most this many distinct whole-number labels can look like class indices. */
    static final int CLASS_LIKE_LABELS = 20;

    /**
     * For a regression whose labels are a few whole numbers, which may as well be class indices: a
     * note saying how they were read and how to read them as classes; null otherwise.
     */
    public String classLikeLabelsNote() {
        if (task != Task.REGRESSION) {
            return null;
        }
        TreeSet<Double> distinct = new TreeSet<>();
        for (HistoryRow row : rows) {
            double label = row.label();
            if (label != Math.rint(label) || label < 0) {
                return null;
            }
            distinct.add(label);
            if (distinct.size() > CLASS_LIKE_LABELS) {
                return null;
            }
        }
        if (distinct.size() < 3) {
            return null;
        }
        return String.format(
                Locale.ROOT,
                "the labels are %d whole numbers from %.0f to %.0f, read as a regression target;"
                        + " if they are classes, pass --task multiclass",
                distinct.size(),
                distinct.first(),
                distinct.last());
    }

    public static HistoryTable read(Path file, Options options) throws IOException {
        List<Map<String, String>> records;
        List<String> columns;
        try {
            if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl")
                    || file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")) {
                records = readJsonl(file);
                columns = records.isEmpty() ? List.of() : new ArrayList<>(records.get(0).keySet());
            } else {
                columns = new ArrayList<>();
                records = readCsv(file, columns);
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + file);
        }
        if (records.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no rows");
        }
        if (!columns.contains(options.labelColumn())) {
            throw new IllegalArgumentException(
                    file
                            + " has no label column '"
                            + options.labelColumn()
                            + "'; columns are "
                            + columns);
        }
        for (String named : new String[] {options.keyColumn(), options.timeColumn()}) {
            if (named != null && !columns.contains(named)) {
                throw new IllegalArgumentException(
                        file + " has no column '" + named + "'; columns are " + columns);
            }
        }
        List<String> features = new ArrayList<>();
        for (String column : columns) {
            if (!column.equals(options.labelColumn())
                    && !column.equals(options.keyColumn())
                    && !column.equals(options.timeColumn())
                    && !options.excludeColumns().contains(column)) {
                features.add(column);
            }
        }
        if (features.isEmpty()) {
            throw new IllegalArgumentException(file + " leaves no feature columns");
        }
        Task task = options.task() != null ? options.task() : inferTask(records, options);
        List<String> classes = classes(records, options, task);
        List<HistoryRow> rows = new ArrayList<>(records.size());
        for (int r = 0; r < records.size(); r++) {
            Map<String, String> record = records.get(r);
            long line = r + 2; // header is line 1
            float[] x = new float[features.size()];
            for (int c = 0; c < x.length; c++) {
                x[c] = number(file, line, features.get(c), record.get(features.get(c)));
            }
            String key = options.keyColumn() == null ? "default" : record.get(options.keyColumn());
            long ts =
                    options.timeColumn() == null
                            ? r
                            : (long)
                                    number(
                                            file,
                                            line,
                                            options.timeColumn(),
                                            record.get(options.timeColumn()));
            double label =
                    label(file, line, record.get(options.labelColumn()), task, classes, options);
            rows.add(new HistoryRow(r, key, ts, x, label));
        }
        rows.sort(Comparator.comparingLong(HistoryRow::ts)); // stable
        List<HistoryRow> ordered = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            HistoryRow row = rows.get(i);
            ordered.add(new HistoryRow(i, row.key(), row.ts(), row.features(), row.label()));
        }
        return new HistoryTable(List.copyOf(ordered), List.copyOf(features), task, classes);
    }

    private static Task inferTask(List<Map<String, String>> records, Options options) {
        if (options.positiveLabel() != null) {
            return Task.BINARY;
        }
        Set<String> distinct = new TreeSet<>();
        boolean numeric = true;
        for (Map<String, String> record : records) {
            String value = record.get(options.labelColumn());
            if (value == null || value.isBlank()) {
                continue;
            }
            distinct.add(value);
            try {
                Double.parseDouble(value);
            } catch (NumberFormatException e) {
                numeric = false;
            }
        }
        if (!numeric) {
            return distinct.size() == 2 ? Task.BINARY : Task.MULTICLASS;
        }
        return distinct.size() <= 2 ? Task.BINARY : Task.REGRESSION;
    }

    private static List<String> classes(
            List<Map<String, String>> records, Options options, Task task) {
        if (task == Task.REGRESSION) {
            return List.of();
        }
        if (task == Task.BINARY && options.positiveLabel() != null) {
            return List.of("not " + options.positiveLabel(), options.positiveLabel());
        }
        TreeSet<String> distinct = new TreeSet<>();
        for (Map<String, String> record : records) {
            String value = record.get(options.labelColumn());
            if (value != null && !value.isBlank()) {
                distinct.add(value);
            }
        }
        boolean numeric = distinct.stream().allMatch(HistoryTable::isNumber);
        if (numeric) {
            // numeric class labels are indices already
            int max = distinct.stream().mapToInt(v -> (int) Double.parseDouble(v)).max().orElse(1);
            List<String> names = new ArrayList<>();
            for (int c = 0; c <= Math.max(max, 1); c++) {
                names.add(Integer.toString(c));
            }
            return names;
        }
        return List.copyOf(distinct);
    }

    private static boolean isNumber(String text) {
        try {
            Double.parseDouble(text);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static double label(
            Path file, long line, String value, Task task, List<String> classes, Options options) {
        if (value == null || value.isBlank()) {
            return Double.NaN;
        }
        if (task == Task.REGRESSION) {
            return number(file, line, options.labelColumn(), value);
        }
        if (task == Task.BINARY && options.positiveLabel() != null) {
            return value.equals(options.positiveLabel()) ? 1 : 0;
        }
        if (isNumber(value)) {
            double d = Double.parseDouble(value);
            if (d != Math.rint(d) || d < 0 || d >= classes.size()) {
                throw new IllegalArgumentException(
                        file
                                + " line "
                                + line
                                + ", column "
                                + options.labelColumn()
                                + ": '"
                                + value
                                + "' is not a class index 0.."
                                + (classes.size() - 1));
            }
            return d;
        }
        int index = classes.indexOf(value);
        if (index < 0) {
            throw new IllegalArgumentException(
                    file
                            + " line "
                            + line
                            + ", column "
                            + options.labelColumn()
                            + ": unknown class '"
                            + value
                            + "'");
        }
        return index;
    }

    /**
     * A table cell as a finite float32; a bad one is an error naming the file, the line and the
     * column (its name, or its number from 1).
     */
    public static float number(Path file, long line, String column, String cell) {
        String where = file + " line " + line + ", column " + column;
        if (cell == null || cell.isBlank()) {
            throw new IllegalArgumentException(where + ": empty, expected a number");
        }
        float value;
        try {
            value = Float.parseFloat(cell.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": '" + cell + "' is not a number");
        }
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException(
                    where + ": '" + cell + "' is not a finite float32 number");
        }
        return value;
    }

    private static List<Map<String, String>> readCsv(Path file, List<String> columns)
            throws IOException {
        List<Map<String, String>> records = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                CSVParser parser =
                        CSVFormat.DEFAULT
                                .builder()
                                .setHeader()
                                .setSkipHeaderRecord(true)
                                .setIgnoreSurroundingSpaces(true)
                                .get()
                                .parse(reader)) {
            columns.addAll(parser.getHeaderNames());
            for (CSVRecord record : parser) {
                if (record.size() != columns.size()) {
                    throw new IllegalArgumentException(
                            file
                                    + " line "
                                    + parser.getCurrentLineNumber()
                                    + ": "
                                    + record.size()
                                    + " columns, the header has "
                                    + columns.size());
                }
                records.add(record.toMap());
            }
        }
        return records;
    }

    private static List<Map<String, String>> readJsonl(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        List<Map<String, String>> records = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            long line = 0;
            while ((text = reader.readLine()) != null) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = mapper.readTree(text);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalArgumentException(
                            file + " line " + line + ": not JSON: " + e.getOriginalMessage());
                }
                if (!node.isObject()) {
                    throw new IllegalArgumentException(
                            file + " line " + line + ": not a JSON object");
                }
                Map<String, String> record = new LinkedHashMap<>();
                var fields = node.fields();
                while (fields.hasNext()) {
                    var field = fields.next();
                    JsonNode value = field.getValue();
                    if (value.isContainerNode()) {
                        throw new IllegalArgumentException(
                                file
                                        + " line "
                                        + line
                                        + ": field '"
                                        + field.getKey()
                                        + "' is nested; replay reads flat objects");
                    }
                    record.put(field.getKey(), value.isNull() ? null : value.asText());
                }
                records.add(record);
            }
        }
        return records;
    }
}
