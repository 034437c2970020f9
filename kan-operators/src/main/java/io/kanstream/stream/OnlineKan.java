package io.kanstream.stream;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.types.Either;
import org.apache.flink.util.OutputTag;

/**
 * How a Flink job uses the online learner: events and labels in, scores out, metrics and rejected
 * labels on side outputs.
 *
 * <pre>{@code
 * SingleOutputStreamOperator<Score> scores = OnlineKan.apply(events, labels, config);
 * DataStream<Metric> metrics = scores.getSideOutput(OnlineKan.METRICS);
 * }</pre>
 */
public final class OnlineKan {
    /** Per-key prequential metrics, every {@code metricsEvery} labeled examples. */
    public static final OutputTag<Metric> METRICS =
            new OutputTag<>("kan-metrics", TypeInformation.of(Metric.class));

    /** Labels the model's task cannot take (a class index out of range, say), with the reason. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("kan-dead-letters", TypeInformation.of(DeadLetter.class));

    /** The operator's uid: keep it stable, savepoints map state to operators by it. */
    public static final String UID = "online-kan";

    private OnlineKan() {}

    public static SingleOutputStreamOperator<Score> apply(
            DataStream<Event> events, DataStream<Label> labels, OnlineKanConfig config) {
        return events.keyBy(new EventKey())
                .connect(labels.keyBy(new LabelKey()))
                .transform(
                        "online-kan",
                        TypeInformation.of(Score.class),
                        new OnlineKanOperator(config))
                .uid(UID)
                .name("online KAN learner");
    }

    /**
     * The same learner over one ordered stream of events and late labels: deterministic, for
     * replaying history.
     */
    public static SingleOutputStreamOperator<Score> applySequenced(
            DataStream<Either<Event, Label>> sequence, OnlineKanConfig config) {
        return sequence.keyBy(new SequenceKey())
                .transform(
                        "online-kan",
                        TypeInformation.of(Score.class),
                        new SequencedOnlineKanOperator(config))
                .uid(UID)
                .name("online KAN learner (sequenced)");
    }

    /** The type of a sequenced stream, for sources that need it spelled out. */
    public static TypeInformation<Either<Event, Label>> sequenceType() {
        return new EitherTypeInfo<>(
                TypeInformation.of(Event.class), TypeInformation.of(Label.class));
    }

    /** Keys a sequenced stream by model key. */
    public static final class SequenceKey implements KeySelector<Either<Event, Label>, String> {
        @Override
        public String getKey(Either<Event, Label> value) {
            return value.isLeft() ? value.left().key() : value.right().key();
        }
    }

    /** Keys events by model key. */
    public static final class EventKey implements KeySelector<Event, String> {
        @Override
        public String getKey(Event event) {
            return event.key();
        }
    }

    /** Keys labels by model key. */
    public static final class LabelKey implements KeySelector<Label, String> {
        @Override
        public String getKey(Label label) {
            return label.key();
        }
    }
}
