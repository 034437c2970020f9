package io.kanstream.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kanstream.stream.JsonWire.Invalid;
import java.io.IOException;
import java.util.Locale;

/**
 * Writes what the job emits, {@link Score}s, {@link Metric}s and {@link DeadLetter}s, as one JSON
 * object per record, and reads them back (for the replay report, tools and tests).
 *
 * <p>Field names are the record components' names. Numbers are written in the shortest form that
 * reads back to the same double, so a read of a write is equal to the original. NaN and infinite
 * doubles, which JSON cannot carry, are written as {@code null} and read back as NaN. A dead letter
 * also carries {@code rawTruncated}, for people reading the topic; readers derive it again from
 * {@code raw} and {@code rawSize}.
 *
 * <p>Readers check that every field is present with the right type and return {@link
 * Parsed.Rejected} otherwise; unknown fields are ignored.
 */
public final class OutputCodec {

    /** Largest record the readers accept; ours are far smaller, this only bounds a bad input. */
    public static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;

    private static final JsonFactory FACTORY = JsonWire.factory(8);

    private static final ObjectMapper READER =
            JsonMapper.builder(FACTORY)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build();

    private OutputCodec() {}

    public static byte[] writeScore(Score s) {
        return JsonWire.write(
                FACTORY,
                g -> {
                    g.writeStartObject();
                    g.writeStringField("id", s.id());
                    g.writeStringField("key", s.key());
                    g.writeNumberField("ts", s.ts());
                    JsonWire.writeNumberOrNull(g, "score", s.score());
                    JsonWire.writeNumberOrNull(g, "prediction", s.prediction());
                    g.writeNumberField("modelVersion", s.modelVersion());
                    g.writeNumberField("gridEpoch", s.gridEpoch());
                    JsonWire.writeNumberOrNull(g, "latencyMs", s.latencyMs());
                    if (s.probabilities() != null) {
                        g.writeArrayFieldStart("probabilities");
                        for (double p : s.probabilities()) {
                            JsonWire.writeNumberOrNull(g, p);
                        }
                        g.writeEndArray();
                    }
                    g.writeEndObject();
                });
    }

    public static byte[] writeMetric(Metric m) {
        return JsonWire.write(
                FACTORY,
                g -> {
                    g.writeStartObject();
                    g.writeStringField("key", m.key());
                    g.writeNumberField("ts", m.ts());
                    g.writeNumberField("events", m.events());
                    g.writeNumberField("labeled", m.labeled());
                    g.writeNumberField("steps", m.steps());
                    g.writeNumberField("skippedSteps", m.skippedSteps());
                    JsonWire.writeNumberOrNull(g, "loss", m.loss());
                    g.writeStringField("metricName", m.metricName());
                    JsonWire.writeNumberOrNull(g, "metricValue", m.metricValue());
                    JsonWire.writeNumberOrNull(g, "baselineValue", m.baselineValue());
                    g.writeNumberField("metricSamples", m.metricSamples());
                    g.writeNumberField("gridEpoch", m.gridEpoch());
                    g.writeNumberField("declinedRefits", m.declinedRefits());
                    g.writeNumberField("awaitingDropped", m.awaitingDropped());
                    g.writeBooleanField("drift", m.drift());
                    JsonWire.writeNumberOrNull(g, "sharedWeight", m.sharedWeight());
                    g.writeEndObject();
                });
    }

    public static byte[] writeDeadLetter(DeadLetter d) {
        return JsonWire.write(
                FACTORY,
                g -> {
                    g.writeStartObject();
                    g.writeStringField("reason", d.reason());
                    JsonWire.writeStringOrNull(g, "raw", d.raw());
                    g.writeBooleanField("rawBase64", d.rawBase64());
                    g.writeNumberField("rawSize", d.rawSize());
                    g.writeBooleanField("rawTruncated", d.rawTruncated());
                    JsonWire.writeStringOrNull(g, "topic", d.topic());
                    g.writeNumberField("partition", d.partition());
                    g.writeNumberField("offset", d.offset());
                    g.writeEndObject();
                });
    }

    public static Parsed<Score> parseScore(byte[] raw) {
        try {
            Fields f = Fields.read(raw, "score");
            return Parsed.accepted(
                    new Score(
                            f.text("id"),
                            f.text("key"),
                            f.int64("ts"),
                            f.number("score"),
                            f.number("prediction"),
                            f.int64("modelVersion"),
                            f.int32("gridEpoch"),
                            f.number("latencyMs"),
                            f.numbersOrNull("probabilities")));
        } catch (Invalid e) {
            return Parsed.rejected(e.getMessage());
        }
    }

    public static Parsed<Metric> parseMetric(byte[] raw) {
        try {
            Fields f = Fields.read(raw, "metric");
            String metricName = f.text("metricName");
            if (metricName.isBlank()) {
                throw new Invalid("metricName is blank");
            }
            return Parsed.accepted(
                    new Metric(
                            f.text("key"),
                            f.int64("ts"),
                            f.int64("events"),
                            f.int64("labeled"),
                            f.int64("steps"),
                            f.int64("skippedSteps"),
                            f.number("loss"),
                            metricName,
                            f.number("metricValue"),
                            f.number("baselineValue"),
                            f.int64("metricSamples"),
                            f.int32("gridEpoch"),
                            f.int64("declinedRefits"),
                            f.int64("awaitingDropped"),
                            f.bool("drift"),
                            f.numberOrNaN("sharedWeight")));
        } catch (Invalid e) {
            return Parsed.rejected(e.getMessage());
        }
    }

    public static Parsed<DeadLetter> parseDeadLetter(byte[] raw) {
        try {
            Fields f = Fields.read(raw, "dead letter");
            String reason = f.text("reason");
            if (reason.isBlank()) {
                throw new Invalid("reason is blank");
            }
            int rawSize = f.int32("rawSize");
            if (rawSize < -1) {
                throw new Invalid("rawSize is " + rawSize + ", expected -1 (no value) or more");
            }
            return Parsed.accepted(
                    new DeadLetter(
                            reason,
                            f.textOrNull("raw"),
                            f.bool("rawBase64"),
                            rawSize,
                            f.textOrNull("topic"),
                            f.int32("partition"),
                            f.int64("offset")));
        } catch (Invalid e) {
            return Parsed.rejected(e.getMessage());
        }
    }

    /** One JSON object's fields, read with a reason naming the field when one is wrong. */
    private static final class Fields {
        private final JsonNode node;

        private Fields(JsonNode node) {
            this.node = node;
        }

        static Fields read(byte[] raw, String what) throws Invalid {
            if (raw == null || raw.length == 0) {
                throw new Invalid(what + " record is empty");
            }
            if (raw.length > MAX_RECORD_BYTES) {
                throw new Invalid(
                        what
                                + " record is "
                                + raw.length
                                + " bytes, larger than the limit of "
                                + MAX_RECORD_BYTES);
            }
            String notUtf8 = JsonWire.notUtf8(raw);
            if (notUtf8 != null) {
                throw new Invalid(notUtf8);
            }
            JsonNode node;
            try {
                node = READER.readTree(raw);
            } catch (JsonProcessingException e) {
                throw new Invalid(JsonWire.describeFailure(e, null));
            } catch (IOException e) {
                throw new Invalid("unreadable " + what + " record: " + e.getMessage());
            }
            if (node == null || node.isMissingNode()) {
                throw new Invalid(what + " record holds no JSON value");
            }
            if (!node.isObject()) {
                throw new Invalid("expected a JSON object, got " + describe(node));
            }
            return new Fields(node);
        }

        private JsonNode present(String field) throws Invalid {
            JsonNode value = node.get(field);
            if (value == null) {
                throw new Invalid(field + " is missing");
            }
            return value;
        }

        String text(String field) throws Invalid {
            JsonNode value = present(field);
            if (!value.isTextual()) {
                throw new Invalid(field + " is " + describe(value) + ", expected a string");
            }
            return value.textValue();
        }

        String textOrNull(String field) throws Invalid {
            JsonNode value = node.get(field);
            return value == null || value.isNull() ? null : text(field);
        }

        long int64(String field) throws Invalid {
            JsonNode value = present(field);
            if (!value.isIntegralNumber() || !value.canConvertToLong()) {
                throw new Invalid(field + " is " + describe(value) + ", expected a 64-bit integer");
            }
            return value.longValue();
        }

        int int32(String field) throws Invalid {
            JsonNode value = present(field);
            if (!value.isIntegralNumber() || !value.canConvertToInt()) {
                throw new Invalid(field + " is " + describe(value) + ", expected a 32-bit integer");
            }
            return value.intValue();
        }

        /** An optional array of doubles ({@code null} entries are NaNs); null when absent. */
        double[] numbersOrNull(String field) throws Invalid {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                return null;
            }
            if (!value.isArray()) {
                throw new Invalid(
                        field + " is " + describe(value) + ", expected an array of numbers");
            }
            double[] numbers = new double[value.size()];
            for (int i = 0; i < numbers.length; i++) {
                numbers[i] = number(field + "[" + i + "]", value.get(i));
            }
            return numbers;
        }

        /** A double; {@code null} is how a NaN was written. */
        double number(String field) throws Invalid {
            return number(field, present(field));
        }

        /** A double that records of older versions leave out: absent, as {@code null}, is NaN. */
        double numberOrNaN(String field) throws Invalid {
            JsonNode value = node.get(field);
            return value == null ? Double.NaN : number(field, value);
        }

        /** {@code value}, named {@code what} in the error, as a double; {@code null} as NaN. */
        private static double number(String what, JsonNode value) throws Invalid {
            if (value.isNull()) {
                return Double.NaN;
            }
            if (!value.isNumber()) {
                throw new Invalid(what + " is " + describe(value) + ", expected a number");
            }
            return value.doubleValue();
        }

        /** A value as named in a reason: numbers by their text, anything else by its kind. */
        private static String describe(JsonNode value) {
            if (value.isNumber()) {
                String text = value.asText();
                return text.length() <= 40 ? text : text.substring(0, 40) + "…";
            }
            return switch (value.getNodeType()) {
                case STRING -> "a string";
                case BOOLEAN -> "a boolean";
                case NULL -> "null";
                case ARRAY -> "an array";
                case OBJECT -> "an object";
                default -> value.getNodeType().name().toLowerCase(Locale.ROOT);
            };
        }

        boolean bool(String field) throws Invalid {
            JsonNode value = present(field);
            if (!value.isBoolean()) {
                throw new Invalid(field + " is " + describe(value) + ", expected a boolean");
            }
            return value.booleanValue();
        }
    }
}
