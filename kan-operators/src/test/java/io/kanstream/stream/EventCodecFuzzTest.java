package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutated versions of valid records never make the parser throw: each is either accepted with
 * values the operator can use, or rejected with a reason. A bug that threw here would fail the job
 * on the same record after every restart.
 */
class EventCodecFuzzTest {

    private static final int WIDTH = 4;
    private static final int MUTANTS = 10_000;

    private static final List<String> SEEDS =
            List.of(
                    "{\"id\":\"e-17\",\"key\":\"sensor-7\",\"ts\":1732780800000,"
                            + "\"features\":[0.12,-0.4,1.3,2],\"label\":1}",
                    "{\"id\":\"e-18\",\"features\":[1e-3,2E+2,-0.0,3.4028235e38]}",
                    "{\"features\":[1,2,3,4],\"ts\":0,\"id\":\"\\u00e9\\ud83d\\ude00\","
                            + "\"label\":null,\"key\":null}",
                    "{\"id\":\"e-19\",\"meta\":{\"a\":[1,{\"b\":[true,null]}],\"c\":\"x\"},"
                            + "\"features\":[4,3,2,1],\"label\":-2.5}",
                    "  {\"id\":\"é-20\",\"key\":\"ключ\",\"features\":[0,0,0,0],\"ts\":5}\n",
                    "{\"id\":\"e-21\",\"features\":{\"temp\":1,\"load\":2,\"hour\":3,\"price\":4}}",
                    "{\"id\":\"e-22\",\"key\":\"k\",\"features\":{\"price\":0.5,\"hour\":-1,"
                            + "\"load\":1e10,\"temp\":7},\"label\":0}");

    private static final String[] VALUES = {
        "\"s\"",
        "\"\"",
        "\" \"",
        "1",
        "-2.5e3",
        "null",
        "true",
        "[]",
        "{}",
        "[1,2,3,4]",
        "[1,2,3]",
        "NaN",
        "\"NaN\"",
        "1e39",
        "-1e400",
        "Infinity",
        "-INF",
        "{\"a\":1}",
        "92233720368547758070",
        "1.5",
        "-7",
        "[[[[[[[[[1]]]]]]]]]",
        "\"\\ud800\"",
        "0"
    };

    private static final String[] INSERTS = {
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\\",
        "NaN",
        "1e999",
        "null",
        " ",
        "\u0000",
        "é",
        "\"id\":\"x\",",
        "\"features\":[1,2,3,4],",
        "\"label\":Infinity,",
        "/*",
        "'",
        "\n"
    };

    private final EventCodec plain = new EventCodec();
    private final EventCodec named =
            new EventCodec(
                    EventCodecConfig.builder()
                            .featureNames(List.of("temp", "load", "hour", "price"))
                            .build());

    @Test
    void tenThousandMutatedEventsAreEachAcceptedSoundlyOrRejectedWithAReason() {
        Random random = new Random(17);
        int accepted = 0;
        int rejected = 0;
        for (String seed : SEEDS) {
            assertThat(named.parseEvent(bytes(seed), WIDTH, 1).isAccepted()).as(seed).isTrue();
        }
        for (int i = 0; i < MUTANTS; i++) {
            byte[] mutant = bytes(SEEDS.get(random.nextInt(SEEDS.size())));
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                mutant = mutate(mutant, random);
            }
            for (EventCodec codec : List.of(plain, named)) {
                Parsed<Event> parsed = parse(codec, mutant);
                if (parsed instanceof Parsed.Accepted<Event> a) {
                    assertSound(a.value(), mutant);
                    accepted++;
                } else {
                    String reason = ((Parsed.Rejected<Event>) parsed).reason();
                    assertThat(reason).as(describe(mutant)).isNotBlank();
                    assertThat(reason).as(describe(mutant)).doesNotStartWith("internal");
                    rejected++;
                }
            }
            Parsed<Label> label = plain.parseLabel(mutant, 1);
            if (label instanceof Parsed.Accepted<Label> a) {
                assertThat(a.value().label()).as(describe(mutant)).isFinite();
            } else {
                assertThat(((Parsed.Rejected<Label>) label).reason()).isNotBlank();
            }
        }
        // the mutations must exercise both outcomes, or this test proves little
        assertThat(accepted).isGreaterThan(200);
        assertThat(rejected).isGreaterThan(5_000);
    }

    private static Parsed<Event> parse(EventCodec codec, byte[] raw) {
        Parsed<Event>[] result = new Parsed[1];
        assertThatCode(() -> result[0] = codec.parseEvent(raw, WIDTH, 1))
                .as(describe(raw))
                .doesNotThrowAnyException();
        return result[0];
    }

    private static void assertSound(Event event, byte[] raw) {
        String where = describe(raw);
        assertThat(event.features()).as(where).hasSize(WIDTH);
        for (float f : event.features()) {
            assertThat(Float.isFinite(f)).as(where).isTrue();
        }
        if (event.label() != null) {
            assertThat(event.label()).as(where).isFinite();
        }
        assertThat(event.id()).as(where).isNotBlank();
        assertThat(event.id().codePointCount(0, event.id().length()))
                .as(where)
                .isLessThanOrEqualTo(256);
        assertThat(event.key()).as(where).isNotBlank();
        assertThat(event.ts()).as(where).isNotNegative();
    }

    private static byte[] mutate(byte[] raw, Random random) {
        return switch (random.nextInt(6)) {
            case 0 -> Arrays.copyOf(raw, random.nextInt(raw.length + 1)); // truncation
            case 1 -> flipBits(raw, random);
            case 2 -> insert(raw, random);
            case 3 -> swapType(raw, random);
            case 4 -> deleteSpan(raw, random);
            default -> duplicateSpan(raw, random);
        };
    }

    private static byte[] flipBits(byte[] raw, Random random) {
        byte[] out = raw.clone();
        int flips = 1 + random.nextInt(3);
        for (int f = 0; f < flips && out.length > 0; f++) {
            out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
        }
        return out;
    }

    private static byte[] insert(byte[] raw, Random random) {
        byte[] piece;
        if (random.nextBoolean()) {
            piece = new byte[1 + random.nextInt(4)];
            random.nextBytes(piece);
        } else {
            piece = bytes(INSERTS[random.nextInt(INSERTS.length)]);
        }
        int at = random.nextInt(raw.length + 1);
        return splice(raw, at, at, piece);
    }

    /** Replaces the value after a random colon or comma with one of another type. */
    private static byte[] swapType(byte[] raw, Random random) {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int start = -1;
        for (int tries = 0; tries < 8 && start < 0; tries++) {
            int at = random.nextInt(Math.max(1, text.length()));
            int colon = indexOfAny(text, ":,[", at);
            start = colon < 0 ? -1 : colon + 1;
        }
        if (start < 0) {
            return raw;
        }
        int end = indexOfAny(text, ",}]", start);
        if (end < 0) {
            end = text.length();
        }
        return splice(raw, start, end, bytes(VALUES[random.nextInt(VALUES.length)]));
    }

    private static byte[] deleteSpan(byte[] raw, Random random) {
        if (raw.length == 0) {
            return raw;
        }
        int from = random.nextInt(raw.length);
        int to = Math.min(raw.length, from + 1 + random.nextInt(8));
        return splice(raw, from, to, new byte[0]);
    }

    private static byte[] duplicateSpan(byte[] raw, Random random) {
        if (raw.length == 0) {
            return raw;
        }
        int from = random.nextInt(raw.length);
        int to = Math.min(raw.length, from + 1 + random.nextInt(16));
        byte[] span = Arrays.copyOfRange(raw, from, to);
        return splice(raw, to, to, span);
    }

    private static int indexOfAny(String text, String chars, int from) {
        for (int i = from; i < text.length(); i++) {
            if (chars.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] splice(byte[] raw, int from, int to, byte[] piece) {
        byte[] out = new byte[raw.length - (to - from) + piece.length];
        System.arraycopy(raw, 0, out, 0, from);
        System.arraycopy(piece, 0, out, from, piece.length);
        System.arraycopy(raw, to, out, from + piece.length, raw.length - to);
        return out;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The input of a failing case, reproducible even when it is not valid text. */
    private static String describe(byte[] raw) {
        return "input (base64) " + Base64.getEncoder().encodeToString(raw);
    }
}
