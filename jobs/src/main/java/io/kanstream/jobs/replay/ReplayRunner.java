package io.kanstream.jobs.replay;

import io.kanstream.stream.Event;
import io.kanstream.stream.Label;
import io.kanstream.stream.Metric;
import io.kanstream.stream.OnlineKan;
import io.kanstream.stream.OnlineKanConfig;
import io.kanstream.stream.Score;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.apache.flink.util.CloseableIterator;

/**
 * Runs a replay sequence through the live job's operator on a local Flink, and brings every score
 * and metric record back: the model side of a replay.
 */
public final class ReplayRunner {
    private ReplayRunner() {}

    /** What the operator emitted. */
    public record Outputs(List<Score> scores, List<Metric> metrics) {}

    public static Outputs run(
            List<Either<Event, Label>> sequence, OnlineKanConfig config, int parallelism)
            throws Exception {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        env.setParallelism(parallelism);
        DataStream<Either<Event, Label>> input =
                env.fromData(sequence, OnlineKan.sequenceType()).setParallelism(1).name("history");
        SingleOutputStreamOperator<Score> scores = OnlineKan.applySequenced(input, config);
        TypeInformation<Either<Score, Metric>> outType =
                new EitherTypeInfo<>(
                        TypeInformation.of(Score.class), TypeInformation.of(Metric.class));
        DataStream<Either<Score, Metric>> all =
                scores.map(new LeftScore())
                        .returns(outType)
                        .union(
                                scores.getSideOutput(OnlineKan.METRICS)
                                        .map(new RightMetric())
                                        .returns(outType));
        List<Score> scoreList = new ArrayList<>();
        List<Metric> metricList = new ArrayList<>();
        try (CloseableIterator<Either<Score, Metric>> results =
                all.executeAndCollect("kanstream replay")) {
            while (results.hasNext()) {
                Either<Score, Metric> next = results.next();
                if (next.isLeft()) {
                    scoreList.add(next.left());
                } else {
                    metricList.add(next.right());
                }
            }
        }
        return new Outputs(scoreList, metricList);
    }

    private static final class LeftScore implements MapFunction<Score, Either<Score, Metric>> {
        @Override
        public Either<Score, Metric> map(Score score) {
            return Either.Left(score);
        }
    }

    private static final class RightMetric implements MapFunction<Metric, Either<Score, Metric>> {
        @Override
        public Either<Score, Metric> map(Metric metric) {
            return Either.Right(metric);
        }
    }
}
