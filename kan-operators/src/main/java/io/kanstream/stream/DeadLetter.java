package io.kanstream.stream;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * A record the job could not use, kept with the reason and where it came from, so nothing is
 * dropped silently and the original can be found again.
 *
 * <p>The raw value is kept as text when it is valid UTF-8 and as base64 otherwise ({@code
 * rawBase64}). It is cut to a bound ({@link #DEFAULT_MAX_RAW_BYTES} by default) because the reason
 * a record is here may be its size, and a dead letter larger than the topic's message limit would
 * fail the job instead; {@code rawSize} keeps the original length, and topic, partition and offset
 * point at the whole record.
 *
 * @param reason why the record was rejected, for a person
 * @param raw the record's value (possibly cut), as text or base64; {@code null} when the record had
 *     no value (a Kafka tombstone)
 * @param rawBase64 whether {@code raw} is base64 because the bytes were not valid UTF-8
 * @param rawSize the original value's length in bytes, -1 when it had none
 * @param topic the topic it was read from (or a file name for file sources); {@code null} when the
 *     operator itself rejected something it built (a late label that fails the task's check)
 * @param partition the partition, -1 when the source has none
 * @param offset the offset in the partition (or the line number in a file)
 */
public record DeadLetter(
        String reason,
        String raw,
        boolean rawBase64,
        int rawSize,
        String topic,
        int partition,
        long offset) {

    /** Bytes of a rejected value kept in its dead letter unless told otherwise. */
    public static final int DEFAULT_MAX_RAW_BYTES = 64 * 1024;

    public DeadLetter {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a dead letter needs a reason");
        }
        if (rawSize < -1) {
            throw new IllegalArgumentException(
                    "rawSize must be -1 (no value) or more, got " + rawSize);
        }
    }

    /** A dead letter for a value that was text; {@code rawSize} is its UTF-8 length. */
    public DeadLetter(String reason, String raw, String topic, int partition, long offset) {
        this(
                reason,
                raw,
                false,
                raw == null ? -1 : raw.getBytes(StandardCharsets.UTF_8).length,
                topic,
                partition,
                offset);
    }

    /** A dead letter keeping at most {@link #DEFAULT_MAX_RAW_BYTES} of {@code raw}. */
    public static DeadLetter of(
            String reason, byte[] raw, String topic, int partition, long offset) {
        return of(reason, raw, topic, partition, offset, DEFAULT_MAX_RAW_BYTES);
    }

    /**
     * A dead letter for the bytes of a rejected record.
     *
     * @param raw the record's value, {@code null} for a tombstone
     * @param maxRawBytes how many leading bytes of {@code raw} to keep
     */
    public static DeadLetter of(
            String reason, byte[] raw, String topic, int partition, long offset, int maxRawBytes) {
        if (maxRawBytes < 0) {
            throw new IllegalArgumentException("maxRawBytes must be >= 0, got " + maxRawBytes);
        }
        if (raw == null) {
            return new DeadLetter(reason, null, false, -1, topic, partition, offset);
        }
        int kept = Math.min(raw.length, maxRawBytes);
        String text = utf8Prefix(raw, kept, kept < raw.length);
        if (text != null) {
            return new DeadLetter(reason, text, false, raw.length, topic, partition, offset);
        }
        String base64 = Base64.getEncoder().encodeToString(Arrays.copyOf(raw, kept));
        return new DeadLetter(reason, base64, true, raw.length, topic, partition, offset);
    }

    /** The kept bytes of the original value, decoded from text or base64; null if none. */
    public byte[] rawContent() {
        if (raw == null) {
            return null;
        }
        return rawBase64 ? Base64.getDecoder().decode(raw) : raw.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether {@code raw} holds less than the whole original value. */
    public boolean rawTruncated() {
        return raw != null && rawContent().length < rawSize;
    }

    /**
     * Decodes the first {@code length} bytes as strict UTF-8, or returns null if they are not. When
     * the value was cut, a multi-byte character split by the cut is dropped rather than making the
     * whole prefix look invalid.
     */
    private static String utf8Prefix(byte[] raw, int length, boolean cut) {
        CharsetDecoder decoder =
                StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(raw, 0, length);
        // UTF-8 never decodes to more UTF-16 units than it has bytes
        CharBuffer out = CharBuffer.allocate(length);
        CoderResult result = decoder.decode(in, out, !cut);
        if (result.isError()) {
            return null;
        }
        if (cut) {
            // what is left is an incomplete sequence at the cut: at most 3 bytes of one character
            if (in.remaining() > 3) {
                return null;
            }
        } else if (decoder.flush(out).isError() || in.hasRemaining()) {
            return null;
        }
        out.flip();
        return out.toString();
    }
}
