package io.kanstream.jobs.chaos;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Mutated event records for fuzzing the live job: each starts from a valid event and is broken in
 * one way. Deterministic for a seed. Some mutations leave a valid event behind (a flipped bit in a
 * digit is still a number); the check parses every record with the job's own codec to know which
 * must be scored and which dead-lettered.
 *
 * <p>Ids are {@code z<seed>-<index>}: a single flipped bit cannot turn them into the synthetic
 * stream's {@code s<seed>-<index>}.
 */
public final class FuzzRecords {
    /** The Kafka header that marks a fuzz record; its value is the {@link Kind}. */
    public static final String HEADER = "kanstream-fuzz";

    /** How a record is broken. */
    public enum Kind {
        TRUNCATED,
        BIT_FLIPPED,
        WRONG_TYPES,
        HUGE_NUMBERS,
        DEEP_NESTING,
        OVERSIZED,
        NOT_JSON,
        EMPTY_OR_TOMBSTONE;

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** One record: its kind, model key and value ({@code null} is a tombstone). */
    public record Fuzz(Kind kind, String key, byte[] value) {}

    private final long seed;
    private final int features;
    private final int oversizedBytes;

    /**
     * @param seed seeds every choice and is part of every id
     * @param features features of the valid event each record starts from
     * @param oversizedBytes size of an oversized record: above the job's --max-record-bytes, below
     *     the broker's message size limit (1 MB by default)
     */
    public FuzzRecords(long seed, int features, int oversizedBytes) {
        if (features < 1) {
            throw new IllegalArgumentException("features must be >= 1, got " + features);
        }
        if (oversizedBytes < 1024 || oversizedBytes > 1_000_000) {
            throw new IllegalArgumentException(
                    "oversized record bytes must be in [1024, 1000000] (the broker takes 1 MB),"
                            + " got "
                            + oversizedBytes);
        }
        this.seed = seed;
        this.features = features;
        this.oversizedBytes = oversizedBytes;
    }

    /** The {@code index}-th record; kinds take turns. */
    public Fuzz record(long index) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + index);
        Kind kind = Kind.values()[(int) (index % Kind.values().length)];
        String key = "fuzz-" + (index % 4);
        String id = "z" + seed + "-" + index;
        String valid = valid(id, key, random);
        byte[] bytes = valid.getBytes(StandardCharsets.UTF_8);
        byte[] value =
                switch (kind) {
                    case TRUNCATED -> Arrays.copyOf(bytes, random.nextInt(bytes.length - 1));
                    case BIT_FLIPPED -> {
                        byte[] flipped = bytes.clone();
                        flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
                        yield flipped;
                    }
                    case WRONG_TYPES -> utf8(wrongTypes(id, key, random));
                    case HUGE_NUMBERS -> utf8(hugeNumbers(id, key, random));
                    case DEEP_NESTING -> utf8(deepNesting(id, key, random));
                    case OVERSIZED -> utf8(oversized(id, key, random));
                    case NOT_JSON -> notJson(random);
                    case EMPTY_OR_TOMBSTONE -> random.nextBoolean() ? null : new byte[0];
                };
        return new Fuzz(kind, key, value);
    }

    private String valid(String id, String key, SplittableRandom random) {
        return "{\"id\":\""
                + id
                + "\",\"key\":\""
                + key
                + "\",\"ts\":"
                + (1_764_000_000_000L + random.nextInt(1_000_000))
                + ",\"features\":"
                + numbers(random)
                + ",\"label\":"
                + fmt(random.nextDouble(-2, 2))
                + "}";
    }

    private String numbers(SplittableRandom random) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < features; i++) {
            s.append(i == 0 ? "" : ",").append(fmt(random.nextDouble(-3, 3)));
        }
        return s.append(']').toString();
    }

    private String wrongTypes(String id, String key, SplittableRandom random) {
        return switch (random.nextInt(7)) {
            case 0 -> "{\"id\":\"" + id + "\",\"key\":\"" + key + "\",\"features\":\"1,2,3,4\"}";
            case 1 -> "{\"id\":" + random.nextInt() + ",\"features\":" + numbers(random) + "}";
            case 2 ->
                    "{\"id\":\"" + id + "\",\"key\":[\"a\"],\"features\":" + numbers(random) + "}";
            case 3 ->
                    "{\"id\":\""
                            + id
                            + "\",\"features\":"
                            + numbers(random)
                            + ",\"label\":\"high\"}";
            case 4 -> "{\"id\":\"" + id + "\",\"features\":{\"a\":1},\"ts\":\"yesterday\"}";
            case 5 -> "[\"" + id + "\"," + numbers(random) + "]";
            default -> "{\"id\":\"" + id + "\",\"features\":[true,null,\"x\",{}],\"label\":false}";
        };
    }

    private String hugeNumbers(String id, String key, SplittableRandom random) {
        String huge =
                switch (random.nextInt(5)) {
                    case 0 -> "1e400";
                    case 1 -> "-1.7976931348623157e309";
                    case 2 -> "9".repeat(5_000);
                    case 3 -> "0." + "0".repeat(3_000) + "1";
                    default -> "123456789012345678901234567890";
                };
        String[] f = new String[features];
        Arrays.fill(f, "0.5");
        f[random.nextInt(features)] = huge;
        String label = random.nextInt(4) == 0 ? huge : "0.25";
        return "{\"id\":\""
                + id
                + "\",\"key\":\""
                + key
                + "\",\"features\":["
                + String.join(",", f)
                + "],\"label\":"
                + label
                + "}";
    }

    private String deepNesting(String id, String key, SplittableRandom random) {
        int depth = 50 + random.nextInt(5_000);
        String inner = random.nextBoolean() ? "[".repeat(depth) + "]".repeat(depth) : nested(depth);
        return "{\"id\":\""
                + id
                + "\",\"key\":\""
                + key
                + "\",\"features\":"
                + numbers(random)
                + ",\"extra\":"
                + inner
                + "}";
    }

    private static String nested(int depth) {
        return "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
    }

    private String oversized(String id, String key, SplittableRandom random) {
        String head = "{\"id\":\"" + id + "\",\"key\":\"" + key + "\",\"features\":";
        String pad = "x".repeat(Math.max(0, oversizedBytes - head.length() - 64));
        return head + numbers(random) + ",\"comment\":\"" + pad + "\"}";
    }

    private static byte[] notJson(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> {
                byte[] b = new byte[1 + random.nextInt(512)];
                random.nextBytes(b);
                yield b;
            }
            case 1 -> utf8("id=e1;features=1,2,3,4");
            case 2 -> new byte[] {(byte) 0xC3, (byte) 0x28, '{', '}'};
            default -> utf8("   \n\t ");
        };
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
