package io.kanstream.stream;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The JSON dialect of kanstream's topics, in one place: how the Jackson factory is set up, how
 * numbers are written, and how parser failures and offending input are worded in a rejection.
 */
final class JsonWire {

    /** Longest piece of a record quoted back in a rejection reason. */
    private static final int MAX_QUOTE = 64;

    private JsonWire() {}

    /**
     * A factory for records nested at most {@code maxDepth} deep.
     *
     * <p>NaN and Infinity tokens are allowed on read so the parser can say which field and index
     * hold one, rather than fail with a syntax error; every reader rejects them after tokenizing.
     * Jackson's own depth limit sits one above ours, as a backstop: our check runs first and names
     * the field.
     */
    static JsonFactory factory(int maxDepth) {
        return JsonFactory.builder()
                .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                // Field names come from untrusted producers; crafted hash collisions must cost
                // at most a slower parse (bounded by the record size), not an exception.
                // (Turning canonicalization off instead would switch Jackson to its reader-based
                // parser, which decodes invalid UTF-8 leniently.)
                .disable(JsonFactory.Feature.FAIL_ON_SYMBOL_HASH_OVERFLOW)
                // Schubfach: the shortest decimal that reads back to the same float or double.
                // Java 17's Float/Double.toString are not always the shortest.
                .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
                .streamReadConstraints(
                        StreamReadConstraints.builder().maxNestingDepth(maxDepth + 1).build())
                .build();
    }

    /**
     * Stops a reader at the first problem in a record; the message is the rejection reason. Carries
     * no stack trace: it is control flow for bad input, which is common, not a bug.
     */
    static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        Invalid(String reason) {
            super(reason, null, false, false);
        }
    }

    /** Something that writes one JSON value. */
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** Writes one value as UTF-8 bytes. */
    static byte[] write(JsonFactory factory, Body body) {
        ByteArrayBuilder bytes = new ByteArrayBuilder(256);
        try (JsonGenerator g = factory.createGenerator(bytes, JsonEncoding.UTF8)) {
            body.write(g);
        } catch (IOException e) {
            // an in-memory buffer does not fail; a generator error here is a bug
            throw new UncheckedIOException("could not write JSON", e);
        }
        return bytes.toByteArray();
    }

    /** Writes a double, or {@code null} when it is NaN or infinite (JSON has no such numbers). */
    static void writeNumberOrNull(JsonGenerator g, String field, double value) throws IOException {
        g.writeFieldName(field);
        writeNumberOrNull(g, value);
    }

    /** Writes a number, or {@code null} for NaN and infinities, as an array element. */
    static void writeNumberOrNull(JsonGenerator g, double value) throws IOException {
        if (Double.isFinite(value)) {
            g.writeNumber(value);
        } else {
            g.writeNull();
        }
    }

    /** Writes a string, or {@code null}. */
    static void writeStringOrNull(JsonGenerator g, String field, String value) throws IOException {
        g.writeFieldName(field);
        if (value == null) {
            g.writeNull();
        } else {
            g.writeString(value);
        }
    }

    /**
     * Why the record cannot be UTF-8 JSON judging by its first bytes, or null. Jackson would
     * otherwise guess UTF-16 or UTF-32 from a byte-order mark or zero bytes and switch to a decoder
     * that replaces invalid input instead of failing; JSON between systems is UTF-8 (RFC 8259), and
     * neither zero bytes nor 0xFE/0xFF can start a UTF-8 JSON text.
     */
    static String notUtf8(byte[] raw) {
        if (raw.length > 0 && (raw[0] == (byte) 0xFE || raw[0] == (byte) 0xFF)) {
            return String.format(
                    "record is not UTF-8: it starts with byte 0x%02x (a UTF-16 or UTF-32 byte-order"
                            + " mark?)",
                    raw[0] & 0xFF);
        }
        for (int i = 0; i < Math.min(4, raw.length); i++) {
            if (raw[i] == 0) {
                return "record is not UTF-8: byte "
                        + i
                        + " is 0x00 (UTF-16 or UTF-32 text, or binary data?)";
            }
        }
        return null;
    }

    /** A parser failure as a reason: what kind, where, and Jackson's words without its noise. */
    static String describeFailure(JsonProcessingException e, JsonParser p) {
        JsonLocation location = e.getLocation();
        if (location == null && p != null) {
            location = p.currentLocation();
        }
        String what;
        if (e instanceof JsonEOFException) {
            what = "truncated JSON";
        } else if (e instanceof StreamConstraintsException) {
            what = "record exceeds a parser limit";
        } else {
            what = "malformed JSON";
        }
        return what + " at " + where(location) + ": " + jacksonMessage(e);
    }

    /** {@code line L, column C}. */
    static String where(JsonLocation location) {
        if (location == null || location.getLineNr() < 0) {
            return "an unknown position";
        }
        return "line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    static String jacksonMessage(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        if (message == null) {
            return e.getClass().getSimpleName();
        }
        // Nested locations name a redacted source; keep just the position. One line per reason.
        return message.replaceAll("\\[Source: [^;\\]]*; ", "[")
                .replace('\n', ' ')
                .replace('\r', ' ');
    }

    /** The kind of value a token starts, for "X is <kind>, expected ..." reasons. */
    static String kind(JsonToken token) {
        if (token == null) {
            return "missing";
        }
        return switch (token) {
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a fractional number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            default -> token.asString() != null ? token.asString() : token.name();
        };
    }

    /**
     * Input quoted back in a reason: single-quoted, cut to a readable length, with control
     * characters and unpaired surrogates escaped so the reason is always printable, valid text.
     */
    static String quote(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_QUOTE) + 8).append('\'');
        int end = Math.min(text.length(), MAX_QUOTE);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            boolean pairedHigh =
                    Character.isHighSurrogate(c)
                            && i + 1 < text.length()
                            && Character.isLowSurrogate(text.charAt(i + 1));
            boolean pairedLow =
                    Character.isLowSurrogate(c)
                            && i > 0
                            && Character.isHighSurrogate(text.charAt(i - 1));
            if (Character.isISOControl(c)
                    || (Character.isSurrogate(c) && !pairedHigh && !pairedLow)
                    || (pairedHigh && i + 1 == end)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('\'');
        if (end < text.length()) {
            out.append("… (").append(text.length()).append(" characters)");
        }
        return out.toString();
    }
}
