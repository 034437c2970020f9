package io.kanstream.jobs.evaluate;

import java.util.List;
import java.util.Map;

/** One stream of the suite: how it is made for a seed, and how each model is measured on it. */
public interface SuiteStream {
    String name();

    /** What the stream is, for {@code --help} and the JSON. */
    String description();

    /** regression or binary. */
    String task();

    /** How many rows the models learn from. */
    int rows();

    /**
     * The figures measured on this stream, each a key of what {@link #run} returns per model. A KAN
     * variant's figures also count its grid refits ({@code refits}) and, on a replay, the rows
     * where a key's drift detector fired ({@code drifts}).
     */
    List<String> figures();

    /**
     * Measures every variant, and the baselines, on the stream made with {@code seed} (the seed of
     * the models' initialization too).
     *
     * @return figures by model name: the variants' names in order, then the baselines'
     */
    Map<String, Map<String, Double>> run(long seed, List<KanVariant> variants) throws Exception;
}
