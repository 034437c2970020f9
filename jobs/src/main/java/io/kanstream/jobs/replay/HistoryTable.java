package io.kanstream.jobs.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kanstream.jobs.UserFiles;
import io.kanstream.jobs.online.EventTime;
import io.kanstream.kan.Task;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
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
 * named; every other column not excluded is a numeric feature. Times are epoch milliseconds or
 * ISO-8601 date-times ({@link EventTime}), read exactly. String labels map to classes: with a
 * positive label, that one is 1 and every other 0 (binary); otherwise classes are the distinct
 * strings in sorted order (multiclass). Errors name the file, line and column.
 *
 * <p>A row with an empty or non-finite feature cell is left out and counted, with the first reasons
 * kept, as the live job sends such an event to its dead-letter topic and goes on; a text cell in a
 * feature column is an error instead (the column, not the row, is wrong). An empty label is an
 * unlabeled event.
 *
 * @param featureNames the feature columns, in order
 * @param classes the class names for classification (index = class), empty for regression
 * @param leftOut rows left out for an empty or non-finite feature
 * @param leftOutReasons the first few of their reasons: file, line, column and cell
 */
public record HistoryTable(
        List<HistoryRow> rows,
        List<String> featureNames,
        Task task,
        List<String> classes,
        long leftOut,
        List<String> leftOutReasons) {

    /** Reasons kept of the rows left out. */
    static final int LEFT_OUT_REASONS = 3;

    /** A table of which nothing was left out. */
    public HistoryTable(
            List<HistoryRow> rows, List<String> featureNames, Task task, List<String> classes) {
        this(rows, featureNames, task, classes, 0, List.of());
    }

    /** What was left out, for a command to print: null if nothing was. */
    public String leftOutNote() {
        if (leftOut == 0) {
            return null;
        }
        return String.format(
                Locale.ROOT,
                "%d of %d rows have an empty or non-finite feature and were left out, as the live"
                        + " job would send such events to its dead-letter topic; e.g. %s",
                leftOut,
                leftOut + rows.size(),
                String.join("; ", leftOutReasons));
    }

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
        long leftOut = 0;
        List<String> reasons = new ArrayList<>();
        for (int r = 0; r < records.size(); r++) {
            Map<String, String> record = records.get(r);
            long line = r + 2; // header is line 1
            float[] x = new float[features.size()];
            String missing = null;
            for (int c = 0; c < x.length && missing == null; c++) {
                String cell = record.get(features.get(c));
                if (isMissing(cell)) {
                    missing =
                            file
                                    + " line "
                                    + line
                                    + ", column "
                                    + features.get(c)
                                    + (cell == null || cell.isBlank()
                                            ? ": empty"
                                            : ": '" + cell + "'");
                } else {
                    x[c] = feature(file, line, features.get(c), cell);
                }
            }
            if (missing != null) {
                leftOut++;
                if (reasons.size() < LEFT_OUT_REASONS) {
                    reasons.add(missing);
                }
                continue;
            }
            String key = options.keyColumn() == null ? "default" : record.get(options.keyColumn());
            long ts =
                    options.timeColumn() == null
                            ? r
                            : time(
                                    file,
                                    line,
                                    options.timeColumn(),
                                    record.get(options.timeColumn()));
            double label =
                    label(file, line, record.get(options.labelColumn()), task, classes, options);
            rows.add(new HistoryRow(r, key, ts, x, label));
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(
                    "every row of "
                            + file
                            + " has an empty or non-finite feature, e.g. "
                            + String.join("; ", reasons));
        }
        rows.sort(Comparator.comparingLong(HistoryRow::ts)); // stable
        List<HistoryRow> ordered = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            HistoryRow row = rows.get(i);
            ordered.add(new HistoryRow(i, row.key(), row.ts(), row.features(), row.label()));
        }
        return new HistoryTable(
                List.copyOf(ordered),
                List.copyOf(features),
                task,
                classes,
                leftOut,
                List.copyOf(reasons));
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

    /** An empty cell, or a number a float cannot hold: NaN, an infinity, beyond its range. */
    private static boolean isMissing(String cell) {
        if (cell == null || cell.isBlank()) {
            return true;
        }
        try {
            return !Float.isFinite(Float.parseFloat(cell.trim()));
        } catch (NumberFormatException e) {
            return false; // text: the column is wrong, which feature() says
        }
    }

    /**
     * A feature cell: {@link #number}, and where the cell is text, how to leave its column out (a
     * category or an identifier is not an input the model can take as it is).
     */
    private static float feature(Path file, long line, String column, String cell) {
        try {
            return number(file, line, column, cell);
        } catch (IllegalArgumentException e) {
            if (cell == null || cell.isBlank() || isNumber(cell.trim())) {
                throw e;
            }
            throw new IllegalArgumentException(
                    e.getMessage()
                            + "; every column but the label, key and time columns is a numeric"
                            + " feature: leave this one out with --exclude-columns "
                            + column
                            + ", or name it with --key-column if it names the model's key",
                    e);
        }
    }

    /**
     * A time cell as epoch milliseconds ({@link EventTime}'s forms); a bad one is an error naming
     * the file, the line and the column.
     */
    static long time(Path file, long line, String column, String cell) {
        try {
            return EventTime.parse(cell);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    file + " line " + line + ", time column " + column + ": " + e.getMessage());
        }
    }

    private static List<Map<String, String>> readCsv(Path file, List<String> columns)
            throws IOException {
        List<Map<String, String>> records = new ArrayList<>();
        try (Reader reader = UserFiles.open(file);
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
        try (BufferedReader reader = UserFiles.open(file)) {
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
