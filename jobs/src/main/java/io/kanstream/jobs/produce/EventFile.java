package io.kanstream.jobs.produce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kanstream.jobs.UserFiles;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Parsed;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Events read from a file, one at a time: CSV with a header row, or JSON Lines in the events
 * topic's format. A row that cannot become an event stops the read with its line number: a file is
 * data someone prepared, not an untrusted stream.
 *
 * <p>CSV: every column but the label, key, id and time columns is a feature, in header order.
 * Without an id column, the id is {@code <file name>-<row>}, so sending a file twice sends the same
 * ids. JSONL: each line an event object; a line without an id gets {@code <file name>-<line>}.
 */
public final class EventFile implements Iterator<Event>, AutoCloseable {

    /**
     * Which CSV columns are not features. Null means: none (for {@code labelColumn}: a column named
     * {@code label} if there is one).
     */
    public record Columns(String labelColumn, String keyColumn, String idColumn, String tsColumn) {
        public static Columns defaults() {
            return new Columns(null, null, null, null);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Iterator<Event> rows;
    private final AutoCloseable resource;

    private EventFile(Iterator<Event> rows, AutoCloseable resource) {
        this.rows = rows;
        this.resource = resource;
    }

    /** Opens a {@code .csv} or {@code .jsonl}/{@code .json}/{@code .ndjson} file. */
    public static EventFile open(Path file, Columns columns) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such events file");
        }
        if (name.endsWith(".csv")) {
            return csv(file, columns);
        }
        if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")) {
            return jsonLines(file);
        }
        throw new IllegalArgumentException(
                file + ": expected a .csv or .jsonl file (by its extension)");
    }

    private static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static EventFile csv(Path file, Columns columns) throws IOException {
        CSVParser parser =
                CSVFormat.DEFAULT
                        .builder()
                        .setHeader()
                        .setSkipHeaderRecord(true)
                        .setIgnoreSurroundingSpaces(true)
                        .get()
                        .parse(UserFiles.open(file));
        List<String> header = parser.getHeaderNames();
        String labelColumn =
                columns.labelColumn() != null
                        ? columns.labelColumn()
                        : header.contains("label") ? "label" : null;
        for (String named :
                new String[] {
                    labelColumn, columns.keyColumn(), columns.idColumn(), columns.tsColumn()
                }) {
            if (named != null && !header.contains(named)) {
                parser.close();
                throw new IllegalArgumentException(
                        file + ": no column named '" + named + "'; the header has " + header);
            }
        }
        List<String> featureColumns = new ArrayList<>(header);
        featureColumns.remove(labelColumn);
        featureColumns.remove(columns.keyColumn());
        featureColumns.remove(columns.idColumn());
        featureColumns.remove(columns.tsColumn());
        if (featureColumns.isEmpty()) {
            parser.close();
            throw new IllegalArgumentException(file + ": no feature columns left in " + header);
        }
        String stem = stem(file);
        Iterator<CSVRecord> records = parser.iterator();
        Iterator<Event> events =
                new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return records.hasNext();
                    }

                    @Override
                    public Event next() {
                        CSVRecord r = records.next();
                        long line = r.getRecordNumber() + 1; // the header is line 1
                        float[] x = new float[featureColumns.size()];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = (float) number(file, line, r, featureColumns.get(i));
                        }
                        Double label =
                                labelColumn == null || r.get(labelColumn).isEmpty()
                                        ? null
                                        : number(file, line, r, labelColumn);
                        String id =
                                columns.idColumn() != null
                                        ? r.get(columns.idColumn())
                                        : stem + "-" + r.getRecordNumber();
                        String key =
                                columns.keyColumn() != null
                                        ? r.get(columns.keyColumn())
                                        : Event.DEFAULT_KEY;
                        long ts =
                                columns.tsColumn() != null
                                        ? (long) number(file, line, r, columns.tsColumn())
                                        : System.currentTimeMillis();
                        return new Event(id, key, ts, x, label);
                    }
                };
        return new EventFile(events, parser);
    }

    private static double number(Path file, long line, CSVRecord r, String column) {
        String text = r.isMapped(column) && r.isSet(column) ? r.get(column) : null;
        try {
            double value = Double.parseDouble(text);
            if (Double.isFinite(value)) {
                return value;
            }
        } catch (NumberFormatException | NullPointerException e) {
            // reported below
        }
        throw new IllegalArgumentException(
                file
                        + " line "
                        + line
                        + ", column '"
                        + column
                        + "': expected a finite number, got '"
                        + text
                        + "'");
    }

    private static EventFile jsonLines(Path file) throws IOException {
        BufferedReader reader = UserFiles.open(file);
        String stem = stem(file);
        EventCodec codec = new EventCodec();
        Iterator<Event> events =
                new Iterator<>() {
                    private long line;
                    private Event next;

                    @Override
                    public boolean hasNext() {
                        if (next == null) {
                            next = read();
                        }
                        return next != null;
                    }

                    @Override
                    public Event next() {
                        if (!hasNext()) {
                            throw new NoSuchElementException();
                        }
                        Event e = next;
                        next = null;
                        return e;
                    }

                    private Event read() {
                        try {
                            String text;
                            do {
                                text = reader.readLine();
                                line++;
                            } while (text != null && text.isBlank());
                            if (text == null) {
                                return null;
                            }
                            JsonNode node = JSON.readTree(text);
                            if (!(node instanceof ObjectNode object)) {
                                throw new IllegalArgumentException(
                                        file + " line " + line + ": expected a JSON object");
                            }
                            if (!object.hasNonNull("id")) {
                                object.put("id", stem + "-" + line);
                            }
                            JsonNode features = object.get("features");
                            int width =
                                    features != null && features.isArray() ? features.size() : 1;
                            Parsed<Event> parsed =
                                    codec.parseEvent(
                                            JSON.writeValueAsBytes(object),
                                            Math.max(width, 1),
                                            System.currentTimeMillis());
                            if (parsed instanceof Parsed.Rejected<Event> rejected) {
                                throw new IllegalArgumentException(
                                        file + " line " + line + ": " + rejected.reason());
                            }
                            return parsed.orElseThrow();
                        } catch (IOException e) {
                            throw new UncheckedIOException(file + " line " + line, e);
                        }
                    }
                };
        return new EventFile(events, reader);
    }

    @Override
    public boolean hasNext() {
        return rows.hasNext();
    }

    @Override
    public Event next() {
        return rows.next();
    }

    @Override
    public void close() throws Exception {
        resource.close();
    }
}
