package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Everything written reads back equal, bit for bit where numbers are concerned. */
class RoundTripTest {

    private final EventCodec codec = new EventCodec();

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    void eventsReadBackEqualToWhatWasWritten() {
        Event event =
                new Event(
                        "e-17",
                        "sensor-7",
                        1_732_780_800_000L,
                        new float[] {0.12f, -0.4f, 1.3f},
                        1.0);

        Event back = codec.parseEvent(EventCodec.writeEvent(event), 3, -1).orElseThrow();

        assertThat(back).isEqualTo(event);
    }

    @Test
    void writesTheContractShapeWithFeaturesInTheirShortestForm() {
        Event event =
                new Event(
                        "e-17",
                        "sensor-7",
                        1_732_780_800_000L,
                        new float[] {0.1f, -0.4f, 1e-5f, 3f});

        assertThat(text(EventCodec.writeEvent(event)))
                .isEqualTo(
                        "{\"id\":\"e-17\",\"key\":\"sensor-7\",\"ts\":1732780800000,"
                                + "\"features\":[0.1,-0.4,1.0E-5,3.0]}");
    }

    @Test
    void everyFloatBitPatternThatIsFiniteSurvivesTheRoundTrip() {
        Random random = new Random(20_241_128);
        float[] specials = {
            Float.MIN_VALUE,
            -Float.MIN_VALUE,
            Float.MAX_VALUE,
            -Float.MAX_VALUE,
            Float.MIN_NORMAL,
            -0f,
            0f,
            1f / 3,
            16_777_217f,
            2e-45f
        };
        for (int round = 0; round < 2_000; round++) {
            float[] features = new float[5];
            for (int i = 0; i < features.length; i++) {
                float candidate;
                do {
                    candidate = Float.intBitsToFloat(random.nextInt());
                } while (!Float.isFinite(candidate));
                features[i] = round < specials.length && i == 0 ? specials[round] : candidate;
            }
            double label = Double.longBitsToDouble(random.nextLong());
            Event event =
                    new Event(
                            "e-" + round,
                            "k",
                            round,
                            features,
                            Double.isFinite(label) ? label : 0.5);

            Event back = codec.parseEvent(EventCodec.writeEvent(event), 5, -1).orElseThrow();

            assertThat(back).as("round %d: %s", round, event).isEqualTo(event);
        }
    }

    @Test
    void unlabeledEventsLeaveTheLabelOut() {
        Event event = new Event("a", "k", 1, new float[] {1f});

        assertThat(text(EventCodec.writeEvent(event))).doesNotContain("label");
        assertThat(codec.parseEvent(EventCodec.writeEvent(event), 1, -1).orElseThrow())
                .isEqualTo(event);
    }

    @Test
    void refusesToWriteAnEventTheParserWouldReject() {
        assertThatThrownBy(
                        () ->
                                EventCodec.writeEvent(
                                        new Event("e-1", "k", 1, new float[] {1f, Float.NaN})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("features[1] of event 'e-1' is NaN; events carry finite numbers only");
        assertThatThrownBy(
                        () ->
                                EventCodec.writeLabel(
                                        new Label("e-1", "k", Double.POSITIVE_INFINITY, 1)))
                .hasMessage("label of 'e-1' is Infinity; labels are finite");
    }

    @Test
    void labelsReadBackEqualWithDoublesInTheirShortestForm() {
        Label label = new Label("e-17", "sensor-7", 0.1 + 0.2, 99);

        byte[] bytes = EventCodec.writeLabel(label);

        assertThat(text(bytes))
                .isEqualTo(
                        "{\"id\":\"e-17\",\"key\":\"sensor-7\",\"label\":0.30000000000000004,"
                                + "\"ts\":99}");
        assertThat(codec.parseLabel(bytes, -1).orElseThrow()).isEqualTo(label);
        // Java 17's Double.toString gives 1.9999999999999998E23 here; the shortest form is 2.0E23
        assertThat(text(EventCodec.writeLabel(new Label("a", "k", 2e23, 1)))).contains("2.0E23");
    }

    @Test
    void idsAndKeysWithQuotesControlCharactersAndNonAsciiSurviveEscaping() {
        Event event = new Event("a\"b\\c\n\u0001é\uD83D\uDE00", "ключ", 1, new float[] {1f});

        assertThat(codec.parseEvent(EventCodec.writeEvent(event), 1, -1).orElseThrow())
                .isEqualTo(event);
    }

    @Test
    void scoresReadBackEqualIncludingNanWrittenAsNull() {
        Score score =
                new Score("e-17", "sensor-7", 1_732_780_800_000L, 0.8731, 1, 412, 3, 0.734, null);
        Score diverged =
                new Score("e-18", "sensor-7", 5, Double.NaN, Double.NaN, 0, 0, Double.NaN, null);

        assertThat(OutputCodec.parseScore(OutputCodec.writeScore(score)).orElseThrow())
                .isEqualTo(score);
        assertThat(text(OutputCodec.writeScore(diverged)))
                .contains("\"score\":null,\"prediction\":null")
                .contains("\"latencyMs\":null");
        assertThat(OutputCodec.parseScore(OutputCodec.writeScore(diverged)).orElseThrow())
                .isEqualTo(diverged);
    }

    @Test
    void aMulticlassScoreWritesItsProbabilitiesAsAnArrayAndReadsThemBack() {
        Score score =
                new Score("e-19", "sensor-7", 10, 0.7, 2, 5, 0, 0.5, new double[] {0.1, 0.2, 0.7});

        assertThat(text(OutputCodec.writeScore(score)))
                .endsWith("\"latencyMs\":0.5,\"probabilities\":[0.1,0.2,0.7]}");
        assertThat(OutputCodec.parseScore(OutputCodec.writeScore(score)).orElseThrow())
                .isEqualTo(score);
        String bad =
                "{\"id\":\"e\",\"key\":\"k\",\"ts\":1,\"score\":0.5,\"prediction\":0,"
                        + "\"modelVersion\":0,\"gridEpoch\":0,\"latencyMs\":0,"
                        + "\"probabilities\":[0.5,\"x\"]}";
        assertThat(OutputCodec.parseScore(bad.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(Parsed.Rejected.class)
                .extracting(p -> ((Parsed.Rejected<Score>) p).reason())
                .isEqualTo("probabilities[1] is a string, expected a number");
    }

    @Test
    void scoresUseTheContractFieldNames() {
        Score score = new Score("e-17", "sensor-7", 10, 0.5, 1, 2, 3, 0.25, null);

        assertThat(text(OutputCodec.writeScore(score)))
                .isEqualTo(
                        "{\"id\":\"e-17\",\"key\":\"sensor-7\",\"ts\":10,\"score\":0.5,"
                                + "\"prediction\":1.0,\"modelVersion\":2,\"gridEpoch\":3,"
                                + "\"latencyMs\":0.25}");
    }

    @Test
    void metricsReadBackEqualIncludingUndefinedFigures() {
        Metric metric =
                new Metric(
                        "sensor-7",
                        99,
                        1000,
                        800,
                        25,
                        1,
                        0.3133,
                        Metric.ACCURACY,
                        0.9,
                        0.85,
                        500,
                        2,
                        2,
                        3,
                        true,
                        Double.NaN);
        Metric early =
                new Metric(
                        "k",
                        1,
                        1,
                        0,
                        0,
                        0,
                        Double.NaN,
                        Metric.ACCURACY,
                        Double.NaN,
                        Double.NaN,
                        0,
                        0,
                        0,
                        0,
                        false,
                        Double.NaN);

        assertThat(OutputCodec.parseMetric(OutputCodec.writeMetric(metric)).orElseThrow())
                .isEqualTo(metric);
        assertThat(OutputCodec.parseMetric(OutputCodec.writeMetric(early)).orElseThrow())
                .isEqualTo(early);
        assertThat(text(OutputCodec.writeMetric(early))).contains("\"loss\":null");
    }

    @Test
    void aMetricCarriesTheSharedModelsWeightAndReadsRecordsWrittenWithoutIt() {
        Metric shared =
                new Metric(
                        "card-1",
                        5,
                        40,
                        30,
                        30,
                        0,
                        0.2,
                        Metric.ACCURACY,
                        0.8,
                        0.6,
                        30,
                        0,
                        0,
                        0,
                        false,
                        0.75);
        byte[] written = OutputCodec.writeMetric(shared);
        assertThat(text(written)).contains("\"sharedWeight\":0.75");
        assertThat(OutputCodec.parseMetric(written).orElseThrow()).isEqualTo(shared);
        // a record of a key with its own model alone, and one from before the field existed
        Metric own = tenExamples(Metric.RMSE);
        assertThat(text(OutputCodec.writeMetric(own))).contains("\"sharedWeight\":null");
        String older = text(OutputCodec.writeMetric(own)).replace(",\"sharedWeight\":null", "");
        assertThat(older).doesNotContain("sharedWeight");
        assertThat(
                        OutputCodec.parseMetric(older.getBytes(StandardCharsets.UTF_8))
                                .orElseThrow()
                                .sharedWeight())
                .isNaN();
    }

    /** A key's record after ten examples, scored with its own model alone. */
    private static Metric tenExamples(String metricName) {
        return new Metric(
                "k", 1, 10, 10, 1, 0, 0.1, metricName, 0.9, 0.8, 10, 0, 0, 0, false, Double.NaN);
    }

    @Test
    void temporalKappaMeasuresTheGainOverTheNoChangeBaseline() {
        Metric metric = tenExamples(Metric.ACCURACY);
        Metric rmse = tenExamples(Metric.RMSE);

        assertThat(metric.kappaTemporal())
                .isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(rmse.kappaTemporal()).isNaN();
    }

    @Test
    void deadLettersKeepUtf8RecordsAsText() {
        byte[] raw = "{\"id\":\"é\",\"features\":[1,2".getBytes(StandardCharsets.UTF_8);

        DeadLetter letter = DeadLetter.of("truncated JSON", raw, "events", 3, 1234);

        assertThat(letter.raw()).isEqualTo("{\"id\":\"é\",\"features\":[1,2");
        assertThat(letter.rawBase64()).isFalse();
        assertThat(letter.rawSize()).isEqualTo(raw.length);
        assertThat(letter.rawTruncated()).isFalse();
        assertThat(OutputCodec.parseDeadLetter(OutputCodec.writeDeadLetter(letter)).orElseThrow())
                .isEqualTo(letter);
    }

    @Test
    void deadLettersKeepInvalidUtf8AsBase64WithAFlag() {
        byte[] raw = {'{', (byte) 0xC3, 0x28, (byte) 0xFF, 0, '}'};

        DeadLetter letter = DeadLetter.of("malformed JSON", raw, "events", 0, 7);
        byte[] json = OutputCodec.writeDeadLetter(letter);

        assertThat(letter.rawBase64()).isTrue();
        assertThat(letter.rawContent()).isEqualTo(raw);
        assertThat(text(json))
                .isEqualTo(
                        "{\"reason\":\"malformed JSON\",\"raw\":\"e8Mo/wB9\",\"rawBase64\":true,"
                                + "\"rawSize\":6,\"rawTruncated\":false,\"topic\":\"events\","
                                + "\"partition\":0,\"offset\":7}");
        assertThat(OutputCodec.parseDeadLetter(json).orElseThrow().rawContent()).isEqualTo(raw);
    }

    @Test
    void deadLettersOfTombstonesHaveNoRaw() {
        DeadLetter letter = DeadLetter.of("record has no value", null, "events", 1, 2);

        assertThat(letter.raw()).isNull();
        assertThat(letter.rawSize()).isEqualTo(-1);
        assertThat(text(OutputCodec.writeDeadLetter(letter))).contains("\"raw\":null");
        assertThat(OutputCodec.parseDeadLetter(OutputCodec.writeDeadLetter(letter)).orElseThrow())
                .isEqualTo(letter);
    }

    @Test
    void deadLettersCutOversizedRecordsWithoutSplittingACharacter() {
        // "aé" repeated: the cut at 4 bytes falls inside the second é
        byte[] raw = "aéaéaé".getBytes(StandardCharsets.UTF_8);

        DeadLetter letter = DeadLetter.of("too large", raw, "events", 0, 1, 4);

        assertThat(letter.raw()).isEqualTo("aéa");
        assertThat(letter.rawBase64()).isFalse();
        assertThat(letter.rawSize()).isEqualTo(9);
        assertThat(letter.rawTruncated()).isTrue();
        assertThat(text(OutputCodec.writeDeadLetter(letter))).contains("\"rawTruncated\":true");
    }

    @Test
    void deadLettersBoundEvenTheLargestRejectedRecord() {
        byte[] raw = new byte[2 * 1024 * 1024];
        java.util.Arrays.fill(raw, (byte) 'x');

        DeadLetter letter = DeadLetter.of("record is too large", raw, "events", 0, 1);

        assertThat(letter.raw()).hasSize(DeadLetter.DEFAULT_MAX_RAW_BYTES);
        assertThat(OutputCodec.writeDeadLetter(letter).length).isLessThan(70 * 1024);
    }

    @Test
    void deadLettersRaisedInsideTheOperatorHaveNoTopic() {
        DeadLetter letter = new DeadLetter("label 7 is not a class index", "{}", null, -1, -1);

        assertThat(text(OutputCodec.writeDeadLetter(letter))).contains("\"topic\":null");
        assertThat(OutputCodec.parseDeadLetter(OutputCodec.writeDeadLetter(letter)).orElseThrow())
                .isEqualTo(letter);
    }

    @Test
    void deadLettersBuiltFromTextCountTheirUtf8Bytes() {
        DeadLetter letter = new DeadLetter("bad", "é", "events", 0, 1);

        assertThat(letter.rawSize()).isEqualTo(2);
        assertThat(letter.rawTruncated()).isFalse();
    }

    @Test
    void outputReadersNameTheFieldThatIsMissingOrWrong() {
        assertThat(OutputCodec.parseScore("{\"id\":\"a\"}".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(Parsed.rejected("key is missing"));
        assertThat(
                        OutputCodec.parseScore(
                                ("{\"id\":\"a\",\"key\":\"k\",\"ts\":1.5,\"score\":1,"
                                                + "\"prediction\":1,\"modelVersion\":1,"
                                                + "\"gridEpoch\":1,\"latencyMs\":1}")
                                        .getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(Parsed.rejected("ts is 1.5, expected a 64-bit integer"));
        assertThat(OutputCodec.parseMetric("[]".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(Parsed.rejected("expected a JSON object, got an array"));
        assertThat(OutputCodec.parseDeadLetter("{\"reason\":".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(Parsed.Rejected.class)
                .extracting(p -> ((Parsed.Rejected<DeadLetter>) p).reason())
                .asString()
                .startsWith("truncated JSON at line 1");
        assertThat(OutputCodec.parseScore("{} {}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(Parsed.Rejected.class);
    }
}
