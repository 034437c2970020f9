package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class EventCodecTest {

    private static final int WIDTH = 4;
    private static final long KAFKA_TS = 1_732_780_800_123L;

    private final EventCodec codec = new EventCodec();

    /** JSON written with single quotes, to keep the test data readable. */
    private static byte[] json(String singleQuoted) {
        return singleQuoted.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    private Event accept(String singleQuoted) {
        Parsed<Event> parsed = codec.parseEvent(json(singleQuoted), WIDTH, KAFKA_TS);
        assertThat(parsed).isInstanceOf(Parsed.Accepted.class);
        return parsed.orElseThrow();
    }

    private String reject(byte[] raw) {
        return reject(codec, raw, WIDTH);
    }

    private static String reject(EventCodec codec, byte[] raw, int width) {
        Parsed<Event> parsed = codec.parseEvent(raw, width, KAFKA_TS);
        assertThat(parsed).isInstanceOf(Parsed.Rejected.class);
        return ((Parsed.Rejected<Event>) parsed).reason();
    }

    private String reject(String singleQuoted) {
        return reject(json(singleQuoted));
    }

    /** A valid event with one field's value replaced. */
    private static String eventWith(String field, String value) {
        String id = field.equals("id") ? value : "'e-17'";
        String key = field.equals("key") ? value : "'sensor-7'";
        String ts = field.equals("ts") ? value : "1732780800000";
        String features = field.equals("features") ? value : "[0.12,-0.4,1.3,2]";
        String label = field.equals("label") ? value : "1";
        return "{'id':"
                + id
                + ",'key':"
                + key
                + ",'ts':"
                + ts
                + ",'features':"
                + features
                + ",'label':"
                + label
                + "}";
    }

    @Nested
    class AcceptedEvents {

        @Test
        void readsEveryFieldOfTheContractExample() {
            Event event = accept(eventWith("none", null));

            assertThat(event.id()).isEqualTo("e-17");
            assertThat(event.key()).isEqualTo("sensor-7");
            assertThat(event.ts()).isEqualTo(1_732_780_800_000L);
            assertThat(event.features()).containsExactly(0.12f, -0.4f, 1.3f, 2f);
            assertThat(event.label()).isEqualTo(1.0);
            assertThat(event.isLabeled()).isTrue();
        }

        @Test
        void usesTheDefaultKeyWhenKeyIsAbsentOrNull() {
            assertThat(accept("{'id':'a','features':[1,2,3,4]}").key()).isEqualTo("default");
            assertThat(accept("{'id':'a','key':null,'features':[1,2,3,4]}").key())
                    .isEqualTo(Event.DEFAULT_KEY);
        }

        @Test
        void fallsBackToTheRecordTimestampWhenTsIsAbsentOrNull() {
            assertThat(accept("{'id':'a','features':[1,2,3,4]}").ts()).isEqualTo(KAFKA_TS);
            assertThat(accept("{'id':'a','ts':null,'features':[1,2,3,4]}").ts())
                    .isEqualTo(KAFKA_TS);
        }

        @Test
        void treatsAnAbsentOrNullLabelAsUnlabeled() {
            assertThat(accept("{'id':'a','features':[1,2,3,4]}").label()).isNull();
            Event event = accept("{'id':'a','features':[1,2,3,4],'label':null}");
            assertThat(event.label()).isNull();
            assertThat(event.isLabeled()).isFalse();
        }

        @Test
        void ignoresUnknownFieldsOfAnyShapeWithinTheDepthLimit() {
            Event event =
                    accept(
                            "{'source':'plant-3','meta':{'a':[1,{'b':[[[true]]]}]},'id':'a',"
                                    + "'features':[1,2,3,4],'extra':null,'n':1e999}");

            assertThat(event.features()).containsExactly(1f, 2f, 3f, 4f);
        }

        @Test
        void acceptsFieldsInAnyOrderAndSurroundingWhitespace() {
            Event event = accept("\n  {'features':[1,2,3,4],\t'ts':5,'id':'a'}\r\n  ");

            assertThat(event.ts()).isEqualTo(5);
        }

        @Test
        void roundsEachFeatureOnceToTheNearestFloat() {
            Event event = accept("{'id':'a','features':[0.1,16777217,1e-50,-0]}");

            assertThat(event.feature(0)).isEqualTo(0.1f);
            assertThat(event.feature(1)).isEqualTo(16777216f);
            assertThat(event.feature(2)).isEqualTo(0f);
            assertThat(Float.floatToIntBits(event.feature(3))).isEqualTo(Float.floatToIntBits(-0f));
        }

        @Test
        void acceptsTheLargestFiniteFloats() {
            Event event = accept("{'id':'a','features':[3.4028235e38,-3.4028235E+38,1.4e-45,0]}");

            assertThat(event.feature(0)).isEqualTo(Float.MAX_VALUE);
            assertThat(event.feature(1)).isEqualTo(-Float.MAX_VALUE);
            assertThat(event.feature(2)).isEqualTo(Float.MIN_VALUE);
        }

        @Test
        void acceptsIdsAndKeysOfExactlyTheLimitCountingCharactersNotUtf16Units() {
            String emoji = "\uD83D\uDE00"; // one character, two UTF-16 units, four UTF-8 bytes
            String id = emoji.repeat(256);

            Event event =
                    accept(
                            "{'id':'"
                                    + id
                                    + "','key':'"
                                    + "k".repeat(256)
                                    + "',"
                                    + "'features':[1,2,3,4]}");

            assertThat(event.id()).isEqualTo(id);
        }

        @Test
        void acceptsNestingExactlyAtTheDepthLimit() {
            // depth 1 is the event; seven more levels reach the limit of 8
            accept("{'id':'a','features':[1,2,3,4],'x':[[[[[[[1]]]]]]]}");
        }
    }

    @Nested
    class RejectedRecords {

        @Test
        void rejectsAMissingValueAsATombstone() {
            assertThat(reject((byte[]) null))
                    .isEqualTo("record has no value (null, as in a Kafka tombstone)");
        }

        @Test
        void rejectsAnEmptyRecord() {
            assertThat(reject(new byte[0])).isEqualTo("record is empty (0 bytes)");
        }

        @Test
        void rejectsARecordOfOnlyWhitespace() {
            assertThat(reject(" \n\t ")).isEqualTo("record holds no JSON value, only whitespace");
        }

        @Test
        void rejectsAnOversizedRecordBeforeParsingIt() {
            EventCodec small =
                    new EventCodec(EventCodecConfig.builder().maxRecordBytes(32).build());
            byte[] malformedAndLarge = json("{'id': this is not json at all, not even close}");

            assertThat(reject(small, malformedAndLarge, WIDTH))
                    .isEqualTo(
                            "record is 47 bytes, larger than the limit of 32 bytes"
                                    + " (maxRecordBytes)");
        }

        @Test
        void rejectsTheDefaultMaximumOfOneMebibytePlusOne() {
            byte[] big = new byte[1024 * 1024 + 1];
            java.util.Arrays.fill(big, (byte) ' ');

            assertThat(reject(big))
                    .startsWith(
                            "record is 1048577 bytes, larger than the limit of" + " 1048576 bytes");
        }

        @Test
        void rejectsMalformedJsonWithJacksonsLocation() {
            assertThat(reject("{'id':'a',}"))
                    .startsWith("malformed JSON at line 1, column 11: Unexpected character ('}'");
            assertThat(reject("{'id':'a',\n 'features':[1,2,,4]}"))
                    .isEqualTo(
                            "malformed JSON at line 2, column 18: Unexpected character (','"
                                    + " (code 44)): expected a value");
        }

        @Test
        void rejectsTruncatedJsonSayingWhereItEnded() {
            assertThat(reject("{'id':'a','features':[1,2"))
                    .startsWith("truncated JSON at line 1, column 26: Unexpected end-of-input");
        }

        @Test
        void rejectsInvalidUtf8AsMalformed() {
            byte[] raw = json("{'id':'a\u0000','features':[1,2,3,4]}");
            raw[8] = (byte) 0xC3; // a two-byte lead followed by a quote: invalid UTF-8

            assertThat(reject(raw)).startsWith("malformed JSON at line 1").contains("UTF-8");
        }

        @Test
        void rejectsUtf16AndUtf32InsteadOfGuessingTheEncoding() {
            String event = "{\"id\":\"a\",\"features\":[1,2,3,4]}";

            assertThat(reject(event.getBytes(StandardCharsets.UTF_16)))
                    .isEqualTo(
                            "record is not UTF-8: it starts with byte 0xfe (a UTF-16 or UTF-32"
                                    + " byte-order mark?)");
            assertThat(reject(event.getBytes(StandardCharsets.UTF_16LE)))
                    .isEqualTo(
                            "record is not UTF-8: byte 1 is 0x00 (UTF-16 or UTF-32 text, or"
                                    + " binary data?)");
        }

        @Test
        void acceptsAUtf8ByteOrderMark() {
            byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
            byte[] event = json("{'id':'a','features':[1,2,3,4]}");
            byte[] raw = new byte[bom.length + event.length];
            System.arraycopy(bom, 0, raw, 0, bom.length);
            System.arraycopy(event, 0, raw, bom.length, event.length);

            assertThat(codec.parseEvent(raw, WIDTH, 0).isAccepted()).isTrue();
        }

        @Test
        void rejectsValuesThatAreNotObjects() {
            assertThat(reject("[1,2,3,4]")).isEqualTo("expected a JSON object, got an array");
            assertThat(reject("'e-17'")).isEqualTo("expected a JSON object, got a string");
            assertThat(reject("17")).isEqualTo("expected a JSON object, got an integer");
            assertThat(reject("null")).isEqualTo("expected a JSON object, got null");
        }

        @Test
        void rejectsTrailingContentAfterTheObject() {
            assertThat(reject("{'id':'a','features':[1,2,3,4]} x"))
                    .startsWith("trailing content after the JSON object at line 1, column 33:")
                    .contains("Unrecognized token 'x'");
            assertThat(reject("{'id':'a','features':[1,2,3,4]}{}"))
                    .isEqualTo(
                            "trailing content after the JSON object at line 1, column 32: an"
                                    + " object; a record holds exactly one object");
            assertThat(reject("{'id':'a','features':[1,2,3,4]}]"))
                    .isEqualTo(
                            "trailing content after the JSON object at line 1, column 32:"
                                    + " Unexpected close marker ']': no open Array to close");
        }

        @Test
        void rejectsNestingDeeperThanTheLimitNamingTheField() {
            assertThat(reject("{'id':'a','features':[1,2,3,4],'meta':[[[[[[[[1]]]]]]]]}"))
                    .isEqualTo(
                            "field 'meta' nests deeper than 8 levels (maxDepth) at line 1,"
                                    + " column 46");
        }

        @Test
        void rejectsDeepNestingEvenWhenTheRestOfTheRecordIsInvalid() {
            String deep = "[".repeat(100_000);

            assertThat(reject("{'x':" + deep)).startsWith("field 'x' nests deeper than 8 levels");
        }

        @Test
        void rejectsAKnownFieldGivenTwice() {
            assertThat(reject("{'id':'a','features':[1,2,3,4],'id':'b'}"))
                    .isEqualTo("duplicate field 'id'");
        }

        @Test
        void rejectsNumbersLongerThanJacksonsLimitAsAParserLimit() {
            String digits = "1".repeat(1001);

            assertThat(reject("{'id':'a','features':[1,2,3," + digits + "]}"))
                    .startsWith("record exceeds a parser limit at line 1")
                    .contains("Number value length (1001) exceeds the maximum allowed");
        }
    }

    @Nested
    class RejectedIdKeyAndTs {

        @Test
        void rejectsAMissingId() {
            assertThat(reject("{'features':[1,2,3,4]}"))
                    .isEqualTo("id is missing: every event needs a unique string id");
        }

        @Test
        void rejectsAnIdThatIsNotAString() {
            assertThat(reject(eventWith("id", "17")))
                    .isEqualTo("id is an integer, expected a non-blank string");
            assertThat(reject(eventWith("id", "null")))
                    .isEqualTo("id is null, expected a non-blank string");
            assertThat(reject(eventWith("id", "{'a':1}")))
                    .isEqualTo("id is an object, expected a non-blank string");
        }

        @Test
        void rejectsABlankId() {
            assertThat(reject(eventWith("id", "''")))
                    .isEqualTo("id is blank, expected a non-blank string");
            assertThat(reject(eventWith("id", "' \\t '")))
                    .isEqualTo("id is blank, expected a non-blank string");
        }

        @Test
        void rejectsAnIdLongerThan256Characters() {
            assertThat(reject(eventWith("id", "'" + "x".repeat(257) + "'")))
                    .isEqualTo("id is 257 characters long, the limit is 256 (maxIdLength)");
        }

        @Test
        void rejectsAKeyThatIsNotAString() {
            assertThat(reject(eventWith("key", "7")))
                    .isEqualTo(
                            "key is an integer, expected a string (leave key out to use"
                                    + " 'default')");
            assertThat(reject(eventWith("key", "['a']")))
                    .isEqualTo(
                            "key is an array, expected a string (leave key out to use"
                                    + " 'default')");
        }

        @Test
        void rejectsABlankOrOverlongKey() {
            assertThat(reject(eventWith("key", "''")))
                    .isEqualTo(
                            "key is blank, expected a non-blank string (leave key out to use"
                                    + " 'default')");
            assertThat(reject(eventWith("key", "'" + "k".repeat(300) + "'")))
                    .isEqualTo("key is 300 characters long, the limit is 256 (maxKeyLength)");
        }

        @Test
        void rejectsATsThatIsNotAnInteger() {
            String expected = ", expected an integer (epoch milliseconds)";
            assertThat(reject(eventWith("ts", "'1732780800000'")))
                    .isEqualTo("ts is a string" + expected);
            assertThat(reject(eventWith("ts", "1.5"))).isEqualTo("ts is 1.5" + expected);
            assertThat(reject(eventWith("ts", "1e12"))).isEqualTo("ts is 1e12" + expected);
            assertThat(reject(eventWith("ts", "NaN"))).isEqualTo("ts is NaN" + expected);
            assertThat(reject(eventWith("ts", "true"))).isEqualTo("ts is a boolean" + expected);
        }

        @Test
        void rejectsATsOutsideTheRangeOfEpochMilliseconds() {
            assertThat(reject(eventWith("ts", "92233720368547758070")))
                    .isEqualTo("ts is 92233720368547758070, which does not fit in a long");
            assertThat(reject(eventWith("ts", "-5")))
                    .isEqualTo("ts is -5, expected epoch milliseconds (0 or more)");
        }

        @Test
        void rejectsAMissingTsWhenTheRecordHasNoTimestampEither() {
            Parsed<Event> parsed = codec.parseEvent(json("{'id':'a','features':[1,2,3,4]}"), 4, -1);

            assertThat(parsed)
                    .isEqualTo(
                            Parsed.rejected(
                                    "ts is missing and the record has no timestamp to fall"
                                            + " back on"));
        }
    }

    @Nested
    class RejectedFeatures {

        @Test
        void rejectsMissingOrNullFeatures() {
            assertThat(reject("{'id':'a'}"))
                    .isEqualTo("features is missing: expected an array of 4 numbers");
            assertThat(reject(eventWith("features", "null")))
                    .isEqualTo("features is null, expected an array of 4 numbers");
        }

        @Test
        void rejectsFeaturesThatAreNotAnArray() {
            assertThat(reject(eventWith("features", "'1,2,3,4'")))
                    .isEqualTo("features is a string, expected an array of 4 numbers");
            assertThat(reject(eventWith("features", "4")))
                    .isEqualTo("features is an integer, expected an array of 4 numbers");
        }

        @Test
        void rejectsAnObjectOfFeaturesWhenNoNamesAreConfigured() {
            assertThat(reject(eventWith("features", "{'a':1}")))
                    .isEqualTo(
                            "features is an object, but no feature names are configured:"
                                    + " expected an array of 4 numbers");
        }

        @Test
        void rejectsTheWrongNumberOfFeaturesSayingHowManyOfEach() {
            assertThat(reject(eventWith("features", "[1,2,3]")))
                    .isEqualTo("features has 3 values, the model expects 4");
            assertThat(reject(eventWith("features", "[1,2,3,4,5]")))
                    .isEqualTo("features has 5 values, the model expects 4");
            assertThat(reject(eventWith("features", "[]")))
                    .isEqualTo("features has 0 values, the model expects 4");
            assertThat(reject(codec, json(eventWith("features", "[1,2]")), 1))
                    .isEqualTo("features has 2 values, the model expects 1");
            assertThat(reject(eventWith("features", "[1]")))
                    .isEqualTo("features has 1 value, the model expects 4");
        }

        @Test
        void rejectsAFeatureThatIsNotANumberNamingItsIndex() {
            assertThat(reject(eventWith("features", "[1,'2',3,4]")))
                    .isEqualTo("features[1] is a string, expected a number");
            assertThat(reject(eventWith("features", "[1,2,null,4]")))
                    .isEqualTo("features[2] is null, expected a number");
            assertThat(reject(eventWith("features", "[1,2,3,[4]]")))
                    .isEqualTo("features[3] is an array, expected a number");
            assertThat(reject(eventWith("features", "[false,2,3,4]")))
                    .isEqualTo("features[0] is a boolean, expected a number");
            assertThat(reject(eventWith("features", "[1,2,3,{}]")))
                    .isEqualTo("features[3] is an object, expected a number");
        }

        @Test
        void rejectsNanAndInfinityTokensNamingTheIndex() {
            assertThat(reject(eventWith("features", "[1,2,NaN,4]")))
                    .isEqualTo("features[2] is NaN, expected a finite number");
            assertThat(reject(eventWith("features", "[Infinity,2,3,4]")))
                    .isEqualTo("features[0] is Infinity, expected a finite number");
            assertThat(reject(eventWith("features", "[1,-Infinity,3,4]")))
                    .isEqualTo("features[1] is -Infinity, expected a finite number");
            assertThat(reject(eventWith("features", "[1,2,3,+INF]")))
                    .isEqualTo("features[3] is +INF, expected a finite number");
        }

        @Test
        void rejectsNanSpelledAsAStringAsNotANumber() {
            assertThat(reject(eventWith("features", "[1,'NaN',3,4]")))
                    .isEqualTo("features[1] is a string, expected a number");
        }

        @Test
        void rejectsValuesThatOverflowAFloatNamingTheIndex() {
            String range = ", outside the float range (magnitude at most 3.4028235E38)";
            assertThat(reject(eventWith("features", "[1,2,3,1e39]")))
                    .isEqualTo("features[3] is 1e39" + range);
            assertThat(reject(eventWith("features", "[-3.5e38,2,3,4]")))
                    .isEqualTo("features[0] is -3.5e38" + range);
            assertThat(reject(eventWith("features", "[1,1e400,3,4]")))
                    .isEqualTo("features[1] is 1e400" + range);
            assertThat(reject(eventWith("features", "[1,2," + "9".repeat(60) + ",4]")))
                    .isEqualTo("features[2] is " + "9".repeat(40) + "… (60 characters)" + range);
        }
    }

    @Nested
    class RejectedLabels {

        @Test
        void rejectsALabelThatIsNotANumber() {
            assertThat(reject(eventWith("label", "'1'")))
                    .isEqualTo("label is a string, expected a number");
            assertThat(reject(eventWith("label", "true")))
                    .isEqualTo("label is a boolean, expected a number");
            assertThat(reject(eventWith("label", "[1]")))
                    .isEqualTo("label is an array, expected a number");
        }

        @Test
        void rejectsALabelThatIsNotFinite() {
            assertThat(reject(eventWith("label", "NaN")))
                    .isEqualTo("label is NaN, expected a finite number");
            assertThat(reject(eventWith("label", "-Infinity")))
                    .isEqualTo("label is -Infinity, expected a finite number");
            assertThat(reject(eventWith("label", "1e400")))
                    .isEqualTo("label is 1e400, expected a finite number");
        }
    }

    @Nested
    class LabelRecords {

        private String rejectLabel(String singleQuoted) {
            Parsed<Label> parsed = codec.parseLabel(json(singleQuoted), KAFKA_TS);
            assertThat(parsed).isInstanceOf(Parsed.Rejected.class);
            return ((Parsed.Rejected<Label>) parsed).reason();
        }

        @Test
        void readsTheContractExample() {
            Label label =
                    codec.parseLabel(
                                    json("{'id':'e-17','key':'sensor-7','label':1,'ts':99}"),
                                    KAFKA_TS)
                            .orElseThrow();

            assertThat(label).isEqualTo(new Label("e-17", "sensor-7", 1.0, 99));
        }

        @Test
        void defaultsTheKeyAndFallsBackToTheRecordTimestamp() {
            Label label = codec.parseLabel(json("{'id':'e-17','label':2.5}"), 7).orElseThrow();

            assertThat(label).isEqualTo(new Label("e-17", "default", 2.5, 7));
        }

        @Test
        void ignoresFeaturesOnALabelRecord() {
            Label label =
                    codec.parseLabel(json("{'id':'a','label':0,'features':'whatever'}"), 7)
                            .orElseThrow();

            assertThat(label.label()).isZero();
        }

        @Test
        void rejectsAMissingOrNullLabel() {
            assertThat(rejectLabel("{'id':'a'}"))
                    .isEqualTo("label is missing: a label record needs a finite number");
            assertThat(rejectLabel("{'id':'a','label':null}"))
                    .isEqualTo("label is null, expected a finite number");
        }

        @Test
        void rejectsALabelThatIsNotAFiniteNumber() {
            assertThat(rejectLabel("{'id':'a','label':'yes'}"))
                    .isEqualTo("label is a string, expected a number");
            assertThat(rejectLabel("{'id':'a','label':Infinity}"))
                    .isEqualTo("label is Infinity, expected a finite number");
        }

        @Test
        void rejectsALabelRecordWithoutAnId() {
            assertThat(rejectLabel("{'label':1}"))
                    .isEqualTo("id is missing: every label record needs a unique string id");
        }

        @Test
        void rejectsALabelRecordWithTrailingGarbage() {
            assertThat(rejectLabel("{'id':'a','label':1}}"))
                    .startsWith("trailing content after the JSON object at line 1, column 21");
        }
    }

    @Nested
    class NamedFeatures {

        private final EventCodec named =
                new EventCodec(
                        EventCodecConfig.builder()
                                .featureNames(List.of("temp", "load", "hour", "price"))
                                .build());

        private String rejectNamed(String features) {
            return reject(named, json("{'id':'a','features':" + features + "}"), 4);
        }

        @Test
        void mapsNamesToTheirPositionsInAnyOrder() {
            Event event =
                    named.parseEvent(
                                    json(
                                            "{'id':'a','features':"
                                                    + "{'price':4,'temp':1,'hour':3,'load':2}}"),
                                    4,
                                    KAFKA_TS)
                            .orElseThrow();

            assertThat(event.features()).containsExactly(1f, 2f, 3f, 4f);
        }

        @Test
        void stillAcceptsAPositionalArray() {
            Event event =
                    named.parseEvent(json("{'id':'a','features':[1,2,3,4]}"), 4, 0).orElseThrow();

            assertThat(event.features()).containsExactly(1f, 2f, 3f, 4f);
        }

        @Test
        void rejectsAnUnknownNameListingTheKnownOnes() {
            assertThat(rejectNamed("{'temp':1,'load':2,'hour':3,'price':4,'wind':5}"))
                    .isEqualTo(
                            "features has an unknown name 'wind'; the configured names are"
                                    + " 'temp', 'load', 'hour', 'price'");
        }

        @Test
        void rejectsMissingNamesListingThem() {
            assertThat(rejectNamed("{'temp':1,'hour':3}"))
                    .isEqualTo("features is missing 2 of the 4 configured names: 'load', 'price'");
        }

        @Test
        void rejectsANameGivenTwice() {
            assertThat(rejectNamed("{'temp':1,'temp':1,'load':2,'hour':3,'price':4}"))
                    .isEqualTo("features names 'temp' twice");
        }

        @Test
        void rejectsANamedValueThatIsNotAFiniteNumberNamingItAndItsInput() {
            assertThat(rejectNamed("{'temp':1,'load':'high','hour':3,'price':4}"))
                    .isEqualTo("features 'load' (input 1) is a string, expected a number");
            assertThat(rejectNamed("{'temp':1,'load':2,'hour':3,'price':NaN}"))
                    .isEqualTo("features 'price' (input 3) is NaN, expected a finite number");
            assertThat(rejectNamed("{'temp':1,'load':2,'hour':1e39,'price':4}"))
                    .startsWith("features 'hour' (input 2) is 1e39, outside the float range");
        }

        @Test
        void mentionsNamedFeaturesWhenFeaturesHaveTheWrongShape() {
            assertThat(rejectNamed("'temp=1'"))
                    .isEqualTo(
                            "features is a string, expected an array of 4 numbers or an object"
                                    + " of named numbers");
        }

        @Test
        void refusesAModelWidthThatDisagreesWithTheConfiguredNames() {
            assertThatThrownBy(() -> named.parseEvent(json("{}"), 5, 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(
                            "the codec is configured with 4 feature names, but the model expects"
                                    + " 5 inputs: featureNames must list every input, in input"
                                    + " order");
        }

        @Test
        void survivesJavaSerializationAsFlinkShipsIt() throws Exception {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(named);
            }
            EventCodec copy;
            try (ObjectInputStream in =
                    new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                copy = (EventCodec) in.readObject();
            }

            assertThat(copy.config()).isEqualTo(named.config());
            assertThat(
                            copy.parseEvent(
                                            json(
                                                    "{'id':'a','features':{'price':4,'temp':1,"
                                                            + "'hour':3,'load':2}}"),
                                            4,
                                            0)
                                    .orElseThrow()
                                    .features())
                    .containsExactly(1f, 2f, 3f, 4f);
        }
    }

    @Nested
    class Configuration {

        @Test
        void hasTheDocumentedDefaults() {
            EventCodecConfig defaults = EventCodecConfig.defaults();

            assertThat(defaults.maxRecordBytes()).isEqualTo(1024 * 1024);
            assertThat(defaults.maxDepth()).isEqualTo(8);
            assertThat(defaults.maxIdLength()).isEqualTo(256);
            assertThat(defaults.maxKeyLength()).isEqualTo(256);
            assertThat(defaults.featureNames()).isEmpty();
        }

        @Test
        void namesTheSettingThatIsOutOfRange() {
            assertThatThrownBy(() -> EventCodecConfig.builder().maxRecordBytes(0).build())
                    .hasMessage("maxRecordBytes must be at least 1, got 0");
            assertThatThrownBy(() -> EventCodecConfig.builder().maxDepth(1).build())
                    .hasMessageStartingWith("maxDepth must be at least 2");
            assertThatThrownBy(() -> EventCodecConfig.builder().maxIdLength(0).build())
                    .hasMessage("maxIdLength must be at least 1, got 0");
            assertThatThrownBy(
                            () ->
                                    EventCodecConfig.builder()
                                            .featureNames(List.of("a", "b", "a"))
                                            .build())
                    .hasMessage("featureNames names 'a' twice");
            assertThatThrownBy(
                            () ->
                                    EventCodecConfig.builder()
                                            .featureNames(List.of("a", " "))
                                            .build())
                    .hasMessage("featureNames[1] is blank");
        }

        @Test
        void refusesAModelWidthBelowOne() {
            assertThatThrownBy(() -> new EventCodec().parseEvent(json("{}"), 0, 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("expectedFeatures must be at least 1, got 0");
        }
    }
}
