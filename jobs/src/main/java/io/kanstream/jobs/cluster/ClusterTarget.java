package io.kanstream.jobs.cluster;

import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.jobs.online.OnlineLearningJob;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A Flink session cluster to submit the job to: the address of its REST API and the shaded job jar
 * that is shipped with the job (the cluster loads the job's classes from it, and DJL from its own
 * classpath).
 *
 * @param host the JobManager's REST host
 * @param port the JobManager's REST port
 * @param jobJar the shaded job jar ({@code jobs/target/kanstream-job.jar})
 */
public record ClusterTarget(String host, int port, Path jobJar) {
    /** The system property {@code scripts/kanstream} sets to this checkout's job jar. */
    public static final String JOB_JAR_PROPERTY = "kanstream.job.jar";

    private static final Pattern HOST_PORT =
            Pattern.compile("^([A-Za-z0-9][A-Za-z0-9._-]*|\\[[0-9A-Fa-f:.]+]):([0-9]{1,5})$");

    public ClusterTarget {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(
                    "--target port must be in 1..65535, got " + port + " (" + host + ")");
        }
        if (!Files.isRegularFile(jobJar)) {
            throw new IllegalArgumentException(
                    "the job jar "
                            + jobJar
                            + " does not exist: build it with `mvn -DskipTests package` (or pass"
                            + " --job-jar)");
        }
    }

    /**
     * Reads {@code host:port}; the job jar is {@code jobJar} or, when null, this checkout's.
     *
     * @throws IllegalArgumentException naming what is wrong with the address or the jar
     */
    public static ClusterTarget parse(String target, Path jobJar) {
        Matcher m = HOST_PORT.matcher(target == null ? "" : target.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "--target must be host:port of the cluster's REST API, e.g. localhost:8081;"
                            + " got '"
                            + target
                            + "'");
        }
        return new ClusterTarget(
                m.group(1),
                Integer.parseInt(m.group(2)),
                jobJar != null ? jobJar : defaultJobJar());
    }

    /** {@code host:port}. */
    public String address() {
        return host + ":" + port;
    }

    /**
     * An environment that submits to this cluster with the job's Flink settings (checkpointing,
     * state backend, restarts, the checkpoint to restore) and ships the job jar.
     */
    public StreamExecutionEnvironment environment(OnlineJobConfig config) {
        Configuration conf = OnlineLearningJob.flinkConfiguration(config);
        return StreamExecutionEnvironment.createRemoteEnvironment(
                host, port, conf, jobJar.toAbsolutePath().toString());
    }

    /**
     * The job jar beside the classes this runs from: {@value #JOB_JAR_PROPERTY} when set, {@code
     * target/kanstream-job.jar} next to {@code target/classes}, or the jar this runs from.
     */
    static Path defaultJobJar() {
        String property = System.getProperty(JOB_JAR_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        try {
            Path code =
                    Path.of(
                            ClusterTarget.class
                                    .getProtectionDomain()
                                    .getCodeSource()
                                    .getLocation()
                                    .toURI());
            return Files.isDirectory(code)
                    ? code.getParent().resolve("kanstream-job.jar")
                    : code.resolveSibling("kanstream-job.jar");
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return Path.of("jobs/target/kanstream-job.jar");
        }
    }
}
