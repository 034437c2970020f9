package io.kanstream.jobs.cli;

import io.kanstream.jobs.online.OnlineLearningJob;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;

/**
 * The job jar's entry point ({@code kanstream-job.jar}'s Main-Class): the streaming job with {@code
 * kanstream run}'s options and nothing else of the command line. Under {@code flink run} and in
 * Flink's application mode (the Kubernetes operator) the job runs on that cluster; started with
 * {@code java} it runs on an embedded MiniCluster, or with {@code --target} on a session cluster.
 */
public final class KanstreamJob {
    /** The program's name in its usage line. */
    static final String NAME = "kanstream-job";

    private KanstreamJob() {}

    public static void main(String[] args) {
        int status = execute(args);
        if (!underFlink()) {
            System.exit(status);
        }
        if (status != 0) {
            // Flink reports a failed program by its exception; the error line is printed already
            throw new IllegalArgumentException(
                    NAME + " ended with status " + status + ": see the error above");
        }
    }

    /** Runs the job's command line; bad input prints one line naming what was wrong, status 2. */
    static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** The job's options ({@code kanstream run}'s) as a program of their own. */
    static CommandLine commandLine() {
        return BadInput.reported(new RunCommand()).setCommandName(NAME);
    }

    /**
     * Whether Flink's client or a JobManager runs this program. It must not end that JVM then: in
     * application mode the JVM is the JobManager's.
     */
    private static boolean underFlink() {
        return !OnlineLearningJob.isLocal(StreamExecutionEnvironment.getExecutionEnvironment());
    }
}
