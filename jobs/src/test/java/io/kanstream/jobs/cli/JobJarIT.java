package io.kanstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.kanstream.jobs.LocalKafka;
import io.kanstream.jobs.LocalKafka.Broker;
import io.kanstream.stream.OutputCodec;
import io.kanstream.stream.Score;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code target/kanstream-job.jar} as a cluster gets it, after {@code package}: its Main-Class is
 * the job, it carries none of the tooling, and run in a JVM of its own on the classpath a cluster
 * supplies (Flink, DJL, log4j: the build's runtime classpath less every jar the job jar carries) it
 * lists {@code kanstream run}'s options and runs the job on an embedded cluster.
 */
@ExtendWith(LocalKafka.class)
class JobJarIT {
    private static final Path JOB_JAR = Path.of(System.getProperty("kanstream.job.jar"));

    /** Packages of jobs/ that are tooling: none of them belongs in the jar a cluster runs. */
    private static final List<String> TOOLING =
            List.of("bench", "chaos", "demo", "evaluate", "fit", "models", "produce", "replay");

    private static String mainClass;
    private static String providedClasspath;

    @TempDir Path temp;

    @BeforeAll
    static void readJar() throws IOException {
        assertThat(JOB_JAR).as("the job jar `mvn package` builds").isRegularFile();
        try (JarFile jar = new JarFile(JOB_JAR.toFile())) {
            mainClass = jar.getManifest().getMainAttributes().getValue("Main-Class");
            providedClasspath = providedByACluster(jar);
        }
    }

    @Test
    void mainClassIsTheJobAndNoToolingShipsWithIt() throws IOException {
        assertThat(mainClass).isEqualTo(KanstreamJob.class.getName());
        Set<Class<?>> tools = new HashSet<>();
        collectCommands(new CommandLine(new KanstreamCli()), tools);
        tools.remove(RunCommand.class);
        assertThat(tools).as("kanstream's commands").hasSizeGreaterThan(10);
        try (JarFile jar = new JarFile(JOB_JAR.toFile())) {
            Set<String> entries = jar.stream().map(JarEntry::getName).collect(Collectors.toSet());
            assertThat(entries)
                    .contains(entry(KanstreamJob.class), entry(RunCommand.class))
                    .doesNotContain(entry(KanstreamCli.class));
            for (Class<?> tool : tools) {
                assertThat(entries).as("the job jar").doesNotContain(entry(tool));
            }
            for (String tooling : TOOLING) {
                assertThat(entries)
                        .as("the job jar")
                        .noneMatch(e -> e.startsWith("io/kanstream/jobs/" + tooling + "/"));
            }
            // the charts and CSV reading of plot, replay and produce
            assertThat(entries)
                    .noneMatch(e -> e.startsWith("org/jfree/"))
                    .noneMatch(e -> e.startsWith("org/apache/commons/csv/"));
        }
    }

    @Test
    void itsMainListsEveryRunOptionUnderHelpAndAnswersBadInputWithOneLine() throws Exception {
        Run help = java("--help");
        assertThat(help.status()).as(help.output()).isZero();
        assertThat(help.output()).startsWith("Usage: " + KanstreamJob.NAME);
        CommandLine run = new CommandLine(new KanstreamCli()).getSubcommands().get("run");
        // a negatable option shows as --[no-]name
        String listed = help.output().replace("--[no-]", "--");
        for (OptionSpec option : run.getCommandSpec().options()) {
            assertThat(listed).contains(option.longestName());
        }

        Run bad = java("--device", "tpu");
        assertThat(bad.status()).as(bad.output()).isEqualTo(BadInput.EXIT);
        assertThat(bad.output())
                .contains("error: device 'tpu' is not one of")
                .doesNotContain("Exception");
    }

    @Test
    void itsMainRunsTheJobOnAnEmbeddedClusterAgainstTheBroker(Broker broker) throws Exception {
        String p = "job-jar-";
        String[] options = RunAndProduceCommandTest.jobOptions(broker, p, 1, temp);
        List<Map.Entry<String, byte[]>> events = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String json =
                    String.format(
                            Locale.ROOT,
                            "{\"id\":\"j-%d\",\"key\":\"k-%d\",\"features\":[%.2f,0.5,-0.25,1],"
                                    + "\"label\":%.2f}",
                            i,
                            i % 2,
                            i / 40.0,
                            i / 20.0);
            events.add(Map.entry("k-" + i % 2, json.getBytes(StandardCharsets.UTF_8)));
        }
        broker.send(p + "events", events);

        Run job =
                java(
                        RunAndProduceCommandTest.concat(
                                options, "--parallelism", "1", "--bounded", "--no-create-topics"));
        assertThat(job.status()).as(job.output()).isZero();
        assertThat(job.output()).contains("running on an embedded Flink cluster", "job finished");
        List<Score> scores =
                broker.readAllCommitted(p + "scores").stream()
                        .map(r -> OutputCodec.parseScore(r.value()).orElseThrow())
                        .toList();
        assertThat(scores.stream().map(Score::id).collect(Collectors.toSet()))
                .hasSize(40)
                .contains("j-0", "j-39");
    }

    private record Run(int status, String output) {}

    /** The job jar's main in a JVM of its own, as {@code java -cp job.jar:flink-lib/*} runs it. */
    private Run java(String... args) throws Exception {
        Path target = JOB_JAR.getParent();
        List<String> command =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xmx1g",
                                "--add-opens",
                                "java.base/java.lang=ALL-UNNAMED",
                                "-Dai.djl.offline=true",
                                "-Dai.djl.pytorch.num_threads=1",
                                "-Dai.djl.pytorch.num_interop_threads=1",
                                "-cp",
                                JOB_JAR + java.io.File.pathSeparator + providedClasspath,
                                mainClass));
        command.addAll(List.of(args));
        Path log = Files.createTempFile(temp, "job-jar", ".out");
        ProcessBuilder builder =
                new ProcessBuilder(command)
                        .directory(temp.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile());
        builder.environment().put("DJL_CACHE_DIR", target.resolve("djl-cache").toString());
        builder.environment().put("OMP_NUM_THREADS", "1");
        Process process = builder.start();
        if (!process.waitFor(4, TimeUnit.MINUTES)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError(
                    "the job jar's main did not end in 4 minutes:\n" + Files.readString(log));
        }
        return new Run(process.exitValue(), Files.readString(log));
    }

    /**
     * The build's runtime classpath less the jars whose classes the job jar carries: what a Flink
     * cluster with DJL in its lib/ supplies.
     */
    private static String providedByACluster(JarFile jobJar) throws IOException {
        Path listing = Path.of(System.getProperty("kanstream.runtime.classpath"));
        List<String> provided = new ArrayList<>();
        for (String entry : Files.readString(listing).trim().split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            if (Files.isRegularFile(path) && !carries(jobJar, path)) {
                provided.add(entry);
            }
        }
        return String.join(java.io.File.pathSeparator, provided);
    }

    /** Whether the job jar holds the first class of {@code jar}. */
    private static boolean carries(JarFile jobJar, Path jar) throws IOException {
        try (JarFile other = new JarFile(jar.toFile())) {
            return other.stream()
                    .map(JarEntry::getName)
                    .filter(n -> n.endsWith(".class") && !n.startsWith("META-INF/"))
                    .filter(n -> !n.endsWith("module-info.class"))
                    .findFirst()
                    .map(n -> jobJar.getEntry(n) != null)
                    .orElse(false);
        }
    }

    private static void collectCommands(CommandLine command, Set<Class<?>> into) {
        Class<?> type = command.getCommandSpec().userObject().getClass();
        if (type.getName().startsWith("io.kanstream.")) {
            into.add(type);
        }
        command.getSubcommands().values().forEach(sub -> collectCommands(sub, into));
    }

    private static String entry(Class<?> type) {
        return type.getName().replace('.', '/') + ".class";
    }
}
