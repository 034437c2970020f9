package io.kanstream.stream;

import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.types.Either;

/**
 * The online learner over one input that carries events and labels in a fixed order, for replays: a
 * connected two-input operator interleaves its inputs as they happen to arrive, so a replay with
 * late labels would not be deterministic. Same state, same outputs, same savepoint layout as {@link
 * OnlineKanOperator}.
 */
public class SequencedOnlineKanOperator extends OnlineKanOperator
        implements OneInputStreamOperator<Either<Event, Label>, Score> {
    private static final long serialVersionUID = 1L;

    public SequencedOnlineKanOperator(OnlineKanConfig config) {
        super(config);
    }

    @Override
    public void processElement(StreamRecord<Either<Event, Label>> record) throws Exception {
        Either<Event, Label> value = record.getValue();
        if (value.isLeft()) {
            processElement1(record.replace(value.left()));
        } else {
            processElement2(record.replace(value.right()));
        }
    }
}
