package io.kanstream.jobs.online;

import io.kanstream.stream.Event;
import io.kanstream.stream.Label;
import io.kanstream.stream.OnlineKan;
import io.kanstream.stream.Score;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The job without its model, for measuring what the rest of the pipeline costs: keyed exactly as
 * {@link OnlineKan} keys, it answers every event with a zero score at once and drops labels. No
 * state, no learning, the same records out.
 */
final class PassThrough extends KeyedCoProcessFunction<String, Event, Label, Score> {
    private static final long serialVersionUID = 1L;

    static SingleOutputStreamOperator<Score> apply(
            DataStream<Event> events, DataStream<Label> labels) {
        return events.keyBy(new OnlineKan.EventKey())
                .connect(labels.keyBy(new OnlineKan.LabelKey()))
                .process(new PassThrough())
                .uid("pass-through")
                .name("pass-through (no model)");
    }

    @Override
    public void processElement1(Event event, Context ctx, Collector<Score> out) {
        long started = System.nanoTime();
        out.collect(
                new Score(
                        event.id(),
                        ctx.getCurrentKey(),
                        event.ts(),
                        0,
                        0,
                        0,
                        0,
                        (System.nanoTime() - started) / 1e6,
                        null));
    }

    @Override
    public void processElement2(Label label, Context ctx, Collector<Score> out) {}
}
