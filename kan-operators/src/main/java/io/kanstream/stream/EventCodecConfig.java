package io.kanstream.stream;

import java.io.Serializable;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How strictly {@link EventCodec} reads events and labels, and which feature names it knows.
 * Validated on construction; the defaults live in {@link Builder} and nowhere else.
 *
 * @param maxRecordBytes records longer than this are rejected before parsing, so one huge record
 *     cannot cost a parse
 * @param maxDepth deepest nesting of objects and arrays allowed anywhere in a record, counting the
 *     record's own object as 1 (an event's feature array is at depth 2)
 * @param maxIdLength longest {@code id}, in characters (Unicode code points)
 * @param maxKeyLength longest {@code key}, in characters; every key becomes Flink state, so an
 *     unbounded key would let one bad producer grow it without limit
 * @param featureNames the model's inputs by name, in input order; when not empty, {@code features}
 *     may also be an object of named values. Empty: arrays only
 */
public record EventCodecConfig(
        int maxRecordBytes,
        int maxDepth,
        int maxIdLength,
        int maxKeyLength,
        List<String> featureNames)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    public EventCodecConfig {
        require(maxRecordBytes >= 1, "maxRecordBytes must be at least 1, got " + maxRecordBytes);
        require(
                maxDepth >= 2,
                "maxDepth must be at least 2 (the event object and its feature array), got "
                        + maxDepth);
        require(maxIdLength >= 1, "maxIdLength must be at least 1, got " + maxIdLength);
        require(maxKeyLength >= 1, "maxKeyLength must be at least 1, got " + maxKeyLength);
        require(featureNames != null, "featureNames must not be null (empty for arrays only)");
        featureNames = List.copyOf(featureNames);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < featureNames.size(); i++) {
            String name = featureNames.get(i);
            require(!name.isBlank(), "featureNames[" + i + "] is blank");
            require(seen.add(name), "featureNames names '" + name + "' twice");
        }
    }

    /** The defaults: 1 MiB records, depth 8, ids and keys up to 256 characters, no names. */
    public static EventCodecConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder()
                .maxRecordBytes(maxRecordBytes)
                .maxDepth(maxDepth)
                .maxIdLength(maxIdLength)
                .maxKeyLength(maxKeyLength)
                .featureNames(featureNames);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Builds an {@link EventCodecConfig}; every setting starts at its default. */
    public static final class Builder {
        private int maxRecordBytes = 1024 * 1024;
        private int maxDepth = 8;
        private int maxIdLength = 256;
        private int maxKeyLength = 256;
        private List<String> featureNames = List.of();

        private Builder() {}

        public Builder maxRecordBytes(int maxRecordBytes) {
            this.maxRecordBytes = maxRecordBytes;
            return this;
        }

        public Builder maxDepth(int maxDepth) {
            this.maxDepth = maxDepth;
            return this;
        }

        public Builder maxIdLength(int maxIdLength) {
            this.maxIdLength = maxIdLength;
            return this;
        }

        public Builder maxKeyLength(int maxKeyLength) {
            this.maxKeyLength = maxKeyLength;
            return this;
        }

        public Builder featureNames(List<String> featureNames) {
            this.featureNames = featureNames;
            return this;
        }

        /**
         * @throws IllegalArgumentException naming the setting that is out of range
         */
        public EventCodecConfig build() {
            return new EventCodecConfig(
                    maxRecordBytes, maxDepth, maxIdLength, maxKeyLength, featureNames);
        }
    }
}
