package io.kanstream.jobs.online;

import io.kanstream.stream.DeadLetter;
import io.kanstream.stream.Event;
import io.kanstream.stream.EventCodec;
import io.kanstream.stream.Label;
import io.kanstream.stream.Parsed;
import java.io.Serializable;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Turns raw Kafka records into events or labels with {@link EventCodec}; a record it cannot use
 * goes to {@link #REJECTED} as a {@link DeadLetter} with the codec's reason and the record's topic,
 * partition and offset. Nothing is dropped: every record leaves on exactly one of the two outputs.
 *
 * <p>Counts both outcomes in accumulators ({@code <what>Accepted}, {@code <what>Rejected}), which
 * {@code kanstream run} prints as progress.
 *
 * @param <T> {@link Event} or {@link Label}
 */
public final class ParseInput<T> extends ProcessFunction<RawRecord, T> {
    private static final long serialVersionUID = 1L;

    /** Records that failed to parse, with the reason. */
    public static final OutputTag<DeadLetter> REJECTED =
            new OutputTag<>("rejected-input", TypeInformation.of(DeadLetter.class));

    /** How one record is read. */
    interface Reader<T> extends Serializable {
        Parsed<T> read(RawRecord record);
    }

    private final Reader<T> reader;
    private final String what;
    private transient LongCounter accepted;
    private transient LongCounter rejected;

    private ParseInput(Reader<T> reader, String what) {
        this.reader = reader;
        this.what = what;
    }

    /**
     * Reads events of {@code width} features; a record without {@code ts} takes its Kafka
     * timestamp.
     */
    public static ParseInput<Event> events(EventCodec codec, int width) {
        return new ParseInput<>(r -> codec.parseEvent(r.value(), width, r.timestamp()), "events");
    }

    /** Reads labels; a record without {@code ts} takes its Kafka timestamp. */
    public static ParseInput<Label> labels(EventCodec codec) {
        return new ParseInput<>(r -> codec.parseLabel(r.value(), r.timestamp()), "labels");
    }

    /** The accumulator counting records that were parsed. */
    public static String acceptedAccumulator(String what) {
        return what + "Accepted";
    }

    /** The accumulator counting records that went to the dead letters. */
    public static String rejectedAccumulator(String what) {
        return what + "Rejected";
    }

    @Override
    public void open(OpenContext context) {
        accepted = new LongCounter();
        rejected = new LongCounter();
        getRuntimeContext().addAccumulator(acceptedAccumulator(what), accepted);
        getRuntimeContext().addAccumulator(rejectedAccumulator(what), rejected);
    }

    @Override
    public void processElement(RawRecord record, Context context, Collector<T> out) {
        Parsed<T> parsed = reader.read(record);
        if (parsed instanceof Parsed.Accepted<T> ok) {
            accepted.add(1);
            out.collect(ok.value());
        } else {
            rejected.add(1);
            context.output(
                    REJECTED,
                    DeadLetter.of(
                            ((Parsed.Rejected<T>) parsed).reason(),
                            record.value(),
                            record.topic(),
                            record.partition(),
                            record.offset()));
        }
    }
}
