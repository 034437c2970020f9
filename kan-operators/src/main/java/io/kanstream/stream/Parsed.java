package io.kanstream.stream;

import java.util.Objects;
import java.util.function.Function;

/**
 * The outcome of reading one untrusted record: the record, or the reason it was turned away.
 *
 * <p>Bad input is ordinary in a stream, so parsers return a {@link Rejected} instead of throwing;
 * the caller routes it to the dead-letter topic with {@link DeadLetter#of}. The reason is written
 * for a person: it names the field, what was found and what was expected.
 *
 * @param <T> the record type
 */
public sealed interface Parsed<T> permits Parsed.Accepted, Parsed.Rejected {

    /** A record that passed every check. */
    record Accepted<T>(T value) implements Parsed<T> {
        public Accepted {
            Objects.requireNonNull(value, "an accepted record must not be null");
        }
    }

    /** A record that was turned away, and why. */
    record Rejected<T>(String reason) implements Parsed<T> {
        public Rejected {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException("a rejection needs a reason");
            }
        }

        /** The same rejection, typed for another record type (rejections carry no value). */
        @SuppressWarnings("unchecked")
        public <R> Rejected<R> retype() {
            return (Rejected<R>) this;
        }
    }

    static <T> Parsed<T> accepted(T value) {
        return new Accepted<>(value);
    }

    static <T> Parsed<T> rejected(String reason) {
        return new Rejected<>(reason);
    }

    default boolean isAccepted() {
        return this instanceof Accepted;
    }

    /**
     * The record, for callers that trust their input (tests, files we wrote ourselves).
     *
     * @throws IllegalArgumentException with the rejection's reason
     */
    default T orElseThrow() {
        if (this instanceof Accepted<T> accepted) {
            return accepted.value();
        }
        throw new IllegalArgumentException(((Rejected<T>) this).reason());
    }

    /** Applies {@code f} to an accepted record; a rejection passes through unchanged. */
    default <R> Parsed<R> map(Function<? super T, ? extends R> f) {
        if (this instanceof Accepted<T> accepted) {
            return new Accepted<>(f.apply(accepted.value()));
        }
        return ((Rejected<T>) this).retype();
    }
}
