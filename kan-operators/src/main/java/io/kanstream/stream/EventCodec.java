package io.kanstream.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.kanstream.stream.JsonWire.Invalid;
import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@link Event}s and {@link Label}s from the bytes of a Kafka record, checking every field,
 * and writes them back (for producers and tests).
 *
 * <p>Input is untrusted: a parse never throws for bad bytes, it returns {@link Parsed.Rejected}
 * with a reason that names the field, what was found and what was expected, ready for a {@link
 * DeadLetter}. The first problem found wins. What is checked:
 *
 * <ul>
 *   <li>size, before parsing ({@link EventCodecConfig#maxRecordBytes()});
 *   <li>encoding: UTF-8 only (Jackson would otherwise guess UTF-16 or UTF-32 from the first bytes);
 *   <li>well-formed JSON (the reason carries Jackson's line and column), one object, nothing after
 *       it but whitespace, nesting no deeper than {@link EventCodecConfig#maxDepth()};
 *   <li>{@code id}: a non-blank string, at most {@link EventCodecConfig#maxIdLength()} characters;
 *   <li>{@code key}: a non-blank string within {@link EventCodecConfig#maxKeyLength()}; absent or
 *       {@code null} means {@value Event#DEFAULT_KEY};
 *   <li>{@code ts}: an integer, epoch milliseconds, not negative; absent or {@code null} means the
 *       fallback the caller passes (the Kafka record's timestamp);
 *   <li>{@code features} (events): an array of exactly the model's input width of numbers, each
 *       finite as a float (NaN, Infinity and values beyond the float range are rejected with their
 *       index), or, when feature names are configured, an object naming every input once;
 *   <li>{@code label}: a finite number; optional on events (absent or {@code null}: unlabeled),
 *       required on labels.
 * </ul>
 *
 * Known fields may appear once; unknown fields are skipped (within the depth limit), so producers
 * can add fields without breaking the job.
 *
 * <p>Thread-safe. Serializable, so Flink functions and deserialization schemas can hold one.
 */
public final class EventCodec implements Serializable {
    @Serial private static final long serialVersionUID = 1L;

    /** Writing needs no configuration: one factory serves every writer. */
    private static final JsonFactory WRITER = JsonWire.factory(2);

    /** Names listed in a reason about named features before the list is cut. */
    private static final int MAX_LISTED_NAMES = 8;

    private final EventCodecConfig config;
    private final transient JsonFactory factory;
    private final transient Map<String, Integer> featureIndex;

    public EventCodec() {
        this(EventCodecConfig.defaults());
    }

    public EventCodec(EventCodecConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        this.config = config;
        this.factory = JsonWire.factory(config.maxDepth());
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < config.featureNames().size(); i++) {
            index.put(config.featureNames().get(i), i);
        }
        this.featureIndex = Map.copyOf(index);
    }

    // The Jackson factory and the name index are rebuilt from the configuration after
    // deserialization rather than shipped with the job graph.
    @Serial
    private Object readResolve() {
        return new EventCodec(config);
    }

    public EventCodecConfig config() {
        return config;
    }

    /**
     * Reads one event.
     *
     * @param raw the record's value; {@code null} (a tombstone) is rejected
     * @param expectedFeatures the model's input width
     * @param fallbackTs event time when the record has no {@code ts}, usually the Kafka record's
     *     timestamp; negative means there is none, and such a record is rejected
     * @return the event, or the reason it was rejected
     * @throws IllegalArgumentException if {@code expectedFeatures} is below 1 or disagrees with the
     *     configured feature names: a setup error, not bad input
     */
    public Parsed<Event> parseEvent(byte[] raw, int expectedFeatures, long fallbackTs) {
        checkWidth(expectedFeatures);
        try {
            Fields f = read(raw, Kind.EVENT, expectedFeatures);
            if (f.features == null) {
                throw new Invalid("features is missing: expected " + expected(expectedFeatures));
            }
            return Parsed.accepted(
                    new Event(f.id, f.key, timestamp(f, fallbackTs), f.features, f.label));
        } catch (Invalid e) {
            return Parsed.rejected(e.getMessage());
        }
    }

    /**
     * Reads one label from the labels topic.
     *
     * @param raw the record's value; {@code null} (a tombstone) is rejected
     * @param fallbackTs label time when the record has no {@code ts}; negative means there is none,
     *     and such a record is rejected
     * @return the label, or the reason it was rejected
     */
    public Parsed<Label> parseLabel(byte[] raw, long fallbackTs) {
        try {
            Fields f = read(raw, Kind.LABEL, 0);
            if (f.label == null) {
                throw new Invalid("label is missing: a label record needs a finite number");
            }
            return Parsed.accepted(new Label(f.id, f.key, f.label, timestamp(f, fallbackTs)));
        } catch (Invalid e) {
            return Parsed.rejected(e.getMessage());
        }
    }

    /**
     * Writes an event as one JSON object; features as an array, each in the shortest form that
     * reads back to the same float; {@code label} left out when the event has none.
     *
     * @throws IllegalArgumentException if a feature or the label is not finite: the events topic
     *     carries only what {@link #parseEvent} accepts
     */
    public static byte[] writeEvent(Event event) {
        for (int i = 0; i < event.featureCount(); i++) {
            if (!Float.isFinite(event.feature(i))) {
                throw new IllegalArgumentException(
                        "features["
                                + i
                                + "] of event "
                                + JsonWire.quote(event.id())
                                + " is "
                                + event.feature(i)
                                + "; events carry finite numbers only");
            }
        }
        if (event.label() != null) {
            checkFinite(event.label(), event.id());
        }
        return JsonWire.write(
                WRITER,
                g -> {
                    g.writeStartObject();
                    g.writeStringField("id", event.id());
                    g.writeStringField("key", event.key());
                    g.writeNumberField("ts", event.ts());
                    g.writeFieldName("features");
                    g.writeStartArray();
                    for (int i = 0; i < event.featureCount(); i++) {
                        g.writeNumber(event.feature(i));
                    }
                    g.writeEndArray();
                    if (event.label() != null) {
                        g.writeNumberField("label", event.label());
                    }
                    g.writeEndObject();
                });
    }

    /**
     * Writes a label as one JSON object.
     *
     * @throws IllegalArgumentException if the label is not finite
     */
    public static byte[] writeLabel(Label label) {
        checkFinite(label.label(), label.id());
        return JsonWire.write(
                WRITER,
                g -> {
                    g.writeStartObject();
                    g.writeStringField("id", label.id());
                    g.writeStringField("key", label.key());
                    g.writeNumberField("label", label.label());
                    g.writeNumberField("ts", label.ts());
                    g.writeEndObject();
                });
    }

    private static void checkFinite(double label, String id) {
        if (!Double.isFinite(label)) {
            throw new IllegalArgumentException(
                    "label of " + JsonWire.quote(id) + " is " + label + "; labels are finite");
        }
    }

    private void checkWidth(int width) {
        if (width < 1) {
            throw new IllegalArgumentException("expectedFeatures must be at least 1, got " + width);
        }
        if (!featureIndex.isEmpty() && featureIndex.size() != width) {
            throw new IllegalArgumentException(
                    "the codec is configured with "
                            + featureIndex.size()
                            + " feature names, but the model expects "
                            + width
                            + " inputs: featureNames must list every input, in input order");
        }
    }

    private static long timestamp(Fields f, long fallbackTs) throws Invalid {
        if (f.ts != null) {
            return f.ts;
        }
        if (fallbackTs < 0) {
            throw new Invalid("ts is missing and the record has no timestamp to fall back on");
        }
        return fallbackTs;
    }

    private String expected(int width) {
        String array = "an array of " + width + (width == 1 ? " number" : " numbers");
        return featureIndex.isEmpty() ? array : array + " or an object of named numbers";
    }

    /** Which record a parse reads: the fields it knows differ. */
    private enum Kind {
        EVENT("event"),
        LABEL("label record");

        final String noun;

        Kind(String noun) {
            this.noun = noun;
        }
    }

    /** What one record's known fields held; null for a field that was absent. */
    private static final class Fields {
        String id;
        String key = Event.DEFAULT_KEY;
        Long ts;
        float[] features;
        Double label;
        private int seen; // one bit per known field, to catch duplicates

        void claim(String field, int bit) throws Invalid {
            if ((seen & bit) != 0) {
                throw new Invalid("duplicate field " + JsonWire.quote(field));
            }
            seen |= bit;
        }
    }

    private Fields read(byte[] raw, Kind kind, int width) throws Invalid {
        if (raw == null) {
            throw new Invalid("record has no value (null, as in a Kafka tombstone)");
        }
        if (raw.length == 0) {
            throw new Invalid("record is empty (0 bytes)");
        }
        if (raw.length > config.maxRecordBytes()) {
            throw new Invalid(
                    "record is "
                            + raw.length
                            + " bytes, larger than the limit of "
                            + config.maxRecordBytes()
                            + " bytes (maxRecordBytes)");
        }
        String notUtf8 = JsonWire.notUtf8(raw);
        if (notUtf8 != null) {
            throw new Invalid(notUtf8);
        }
        JsonParser p = null;
        try {
            p = factory.createParser(raw);
            Fields fields = readObject(p, kind, width);
            requireEnd(p);
            if (fields.id == null) {
                throw new Invalid(
                        "id is missing: every " + kind.noun + " needs a unique string id");
            }
            return fields;
        } catch (JsonProcessingException e) {
            throw new Invalid(JsonWire.describeFailure(e, p));
        } catch (IOException e) {
            // e.g. a character-set error after Jackson guessed UTF-16 or UTF-32 from the bytes
            throw new Invalid("unreadable record: " + e.getMessage());
        } catch (RuntimeException e) {
            // A bug here must not turn one record into a poison pill that fails the job on
            // every restart: the record goes to the dead letters, with a reason asking for a fix.
            throw new Invalid("internal parser error, please report it: " + e);
        } finally {
            closeQuietly(p);
        }
    }

    private Fields readObject(JsonParser p, Kind kind, int width) throws IOException, Invalid {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw new Invalid("record holds no JSON value, only whitespace");
        }
        if (t != JsonToken.START_OBJECT) {
            throw new Invalid("expected a JSON object, got " + JsonWire.kind(t));
        }
        Fields f = new Fields();
        while ((t = next(p)) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = next(p);
            switch (name) {
                case "id" -> {
                    f.claim(name, 1);
                    f.id = readId(p, value);
                }
                case "key" -> {
                    f.claim(name, 2);
                    f.key = readKey(p, value);
                }
                case "ts" -> {
                    f.claim(name, 4);
                    f.ts = readTs(p, value);
                }
                case "label" -> {
                    f.claim(name, 8);
                    f.label = readLabel(p, value, kind);
                }
                case "features" -> {
                    if (kind == Kind.EVENT) {
                        f.claim(name, 16);
                        f.features = readFeatures(p, value, width);
                    } else {
                        skip(p, value, name);
                    }
                }
                default -> skip(p, value, name);
            }
        }
        // Jackson only ends an object with END_OBJECT; anything else it reports as malformed
        return f;
    }

    /** The next token, where the grammar says one must follow. */
    private static JsonToken next(JsonParser p) throws IOException, Invalid {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw new Invalid("truncated JSON at " + JsonWire.where(p.currentLocation()));
        }
        return t;
    }

    private static void requireEnd(JsonParser p) throws Invalid {
        JsonToken t;
        try {
            t = p.nextToken();
        } catch (JsonProcessingException e) {
            JsonLocation location = e.getLocation() != null ? e.getLocation() : p.currentLocation();
            throw new Invalid(
                    "trailing content after the JSON object at "
                            + JsonWire.where(location)
                            + ": "
                            + JsonWire.jacksonMessage(e));
        } catch (IOException e) {
            throw new Invalid("unreadable content after the JSON object: " + e.getMessage());
        }
        if (t != null) {
            throw new Invalid(
                    "trailing content after the JSON object at "
                            + JsonWire.where(p.currentTokenLocation())
                            + ": "
                            + JsonWire.kind(t)
                            + "; a record holds exactly one object");
        }
    }

    private String readId(JsonParser p, JsonToken t) throws IOException, Invalid {
        if (t != JsonToken.VALUE_STRING) {
            throw new Invalid("id is " + JsonWire.kind(t) + ", expected a non-blank string");
        }
        String id = p.getText();
        if (id.isBlank()) {
            throw new Invalid("id is blank, expected a non-blank string");
        }
        checkLength("id", id, config.maxIdLength(), "maxIdLength");
        return id;
    }

    private String readKey(JsonParser p, JsonToken t) throws IOException, Invalid {
        if (t == JsonToken.VALUE_NULL) {
            return Event.DEFAULT_KEY;
        }
        if (t != JsonToken.VALUE_STRING) {
            throw new Invalid(
                    "key is "
                            + JsonWire.kind(t)
                            + ", expected a string (leave key out to use '"
                            + Event.DEFAULT_KEY
                            + "')");
        }
        String key = p.getText();
        if (key.isBlank()) {
            throw new Invalid(
                    "key is blank, expected a non-blank string (leave key out to use '"
                            + Event.DEFAULT_KEY
                            + "')");
        }
        checkLength("key", key, config.maxKeyLength(), "maxKeyLength");
        return key;
    }

    private static void checkLength(String field, String value, int limit, String setting)
            throws Invalid {
        // a cheap bound first: code points never outnumber UTF-16 units
        if (value.length() > limit) {
            int characters = value.codePointCount(0, value.length());
            if (characters > limit) {
                throw new Invalid(
                        field
                                + " is "
                                + characters
                                + " characters long, the limit is "
                                + limit
                                + " ("
                                + setting
                                + ")");
            }
        }
    }

    private static Long readTs(JsonParser p, JsonToken t) throws IOException, Invalid {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        String expected = ", expected an integer (epoch milliseconds)";
        if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            throw new Invalid("ts is " + number(p.getText()) + expected);
        }
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw new Invalid("ts is " + JsonWire.kind(t) + expected);
        }
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw new Invalid("ts is " + number(p.getText()) + ", which does not fit in a long");
        }
        long ts = p.getLongValue();
        if (ts < 0) {
            throw new Invalid("ts is " + ts + ", expected epoch milliseconds (0 or more)");
        }
        return ts;
    }

    private static Double readLabel(JsonParser p, JsonToken t, Kind kind)
            throws IOException, Invalid {
        if (t == JsonToken.VALUE_NULL) {
            if (kind == Kind.EVENT) {
                return null; // an unlabeled event
            }
            throw new Invalid("label is null, expected a finite number");
        }
        if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
            throw new Invalid("label is " + JsonWire.kind(t) + ", expected a number");
        }
        String text = p.getText();
        double label = p.isNaN() ? Double.NaN : parseDouble(text);
        if (!Double.isFinite(label)) {
            throw new Invalid("label is " + number(text) + ", expected a finite number");
        }
        return label;
    }

    private float[] readFeatures(JsonParser p, JsonToken t, int width) throws IOException, Invalid {
        if (t == JsonToken.START_ARRAY) {
            return readFeatureArray(p, width);
        }
        if (t == JsonToken.START_OBJECT) {
            if (featureIndex.isEmpty()) {
                throw new Invalid(
                        "features is an object, but no feature names are configured: expected "
                                + expected(width));
            }
            return readNamedFeatures(p, width);
        }
        throw new Invalid("features is " + JsonWire.kind(t) + ", expected " + expected(width));
    }

    private static float[] readFeatureArray(JsonParser p, int width) throws IOException, Invalid {
        float[] values = new float[width];
        int count = 0;
        JsonToken t;
        while ((t = next(p)) != JsonToken.END_ARRAY) {
            float value = readFeature(p, t, count, null);
            if (count < width) {
                values[count] = value;
            }
            count++;
        }
        if (count != width) {
            throw new Invalid(
                    "features has "
                            + count
                            + (count == 1 ? " value" : " values")
                            + ", the model expects "
                            + width);
        }
        return values;
    }

    private float[] readNamedFeatures(JsonParser p, int width) throws IOException, Invalid {
        float[] values = new float[width];
        boolean[] present = new boolean[width];
        JsonToken t;
        while ((t = next(p)) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            Integer index = featureIndex.get(name);
            if (index == null) {
                throw new Invalid(
                        "features has an unknown name "
                                + JsonWire.quote(name)
                                + "; the configured names are "
                                + list(config.featureNames()));
            }
            if (present[index]) {
                throw new Invalid("features names " + JsonWire.quote(name) + " twice");
            }
            values[index] = readFeature(p, next(p), index, name);
            present[index] = true;
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < width; i++) {
            if (!present[i]) {
                missing.add(config.featureNames().get(i));
            }
        }
        if (!missing.isEmpty()) {
            throw new Invalid(
                    "features is missing "
                            + missing.size()
                            + " of the "
                            + width
                            + " configured names: "
                            + list(missing));
        }
        return values;
    }

    /**
     * One feature value, finite as a float. Parsed from the token's text straight to float, so it
     * is rounded once, the way {@link #writeEvent} expects when it writes the shortest form.
     */
    private static float readFeature(JsonParser p, JsonToken t, int index, String name)
            throws IOException, Invalid {
        if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
            throw new Invalid(
                    featureLabel(index, name) + " is " + JsonWire.kind(t) + ", expected a number");
        }
        String text = p.getText();
        if (p.isNaN()) {
            throw new Invalid(
                    featureLabel(index, name) + " is " + text + ", expected a finite number");
        }
        float value;
        try {
            value = Float.parseFloat(text);
        } catch (NumberFormatException e) {
            throw new Invalid(
                    featureLabel(index, name) + " is " + number(text) + ", not a readable number");
        }
        if (!Float.isFinite(value)) {
            throw new Invalid(
                    featureLabel(index, name)
                            + " is "
                            + number(text)
                            + ", outside the float range (magnitude at most "
                            + Float.MAX_VALUE
                            + ")");
        }
        return value;
    }

    private static String featureLabel(int index, String name) {
        return name == null
                ? "features[" + index + "]"
                : "features " + JsonWire.quote(name) + " (input " + index + ")";
    }

    private void skip(JsonParser p, JsonToken t, String field) throws IOException, Invalid {
        if (!t.isStructStart()) {
            return;
        }
        checkDepth(p, field);
        int open = 1;
        while (open > 0) {
            JsonToken inner = next(p);
            if (inner.isStructStart()) {
                open++;
                checkDepth(p, field);
            } else if (inner.isStructEnd()) {
                open--;
            }
        }
    }

    private void checkDepth(JsonParser p, String field) throws Invalid {
        if (p.getParsingContext().getNestingDepth() > config.maxDepth()) {
            throw new Invalid(
                    "field "
                            + JsonWire.quote(field)
                            + " nests deeper than "
                            + config.maxDepth()
                            + " levels (maxDepth) at "
                            + JsonWire.where(p.currentTokenLocation()));
        }
    }

    private static double parseDouble(String text) throws Invalid {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new Invalid("label is " + number(text) + ", not a readable number");
        }
    }

    /** A number's text as quoted back in a reason: numbers may be up to 1000 digits long. */
    private static String number(String text) {
        return text.length() <= 40
                ? text
                : text.substring(0, 40) + "… (" + text.length() + " characters)";
    }

    private static String list(List<String> names) {
        StringBuilder out = new StringBuilder();
        int shown = Math.min(names.size(), MAX_LISTED_NAMES);
        for (int i = 0; i < shown; i++) {
            out.append(i == 0 ? "" : ", ").append(JsonWire.quote(names.get(i)));
        }
        if (shown < names.size()) {
            out.append(", … (").append(names.size()).append(" in all)");
        }
        return out.toString();
    }

    private static void closeQuietly(JsonParser p) {
        if (p != null) {
            try {
                p.close();
            } catch (IOException | RuntimeException e) {
                // the bytes are in memory; there is nothing to release that could fail
            }
        }
    }
}
