package io.kanstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * {@code docker-compose.yml} is valid and names nothing that is not in the repository: {@code
 * docker-compose config} (Debian's {@code docker-compose} package, which needs no Docker engine)
 * accepts it, every build context, Dockerfile and file a Dockerfile copies exists and is not
 * excluded by {@code .dockerignore}, every image is built here or pinned to a version, and the
 * Flink settings baked into the image fit a TaskManager by Flink's own memory arithmetic.
 *
 * <p>No Docker engine runs where these tests run, so nothing is started: this is what can be
 * checked without one. {@code .ci/run} installs {@code docker-compose} when it is missing; without
 * it these tests fail and say so, rather than skip.
 */
class DockerComposeTest {
    private static final Path REPO =
            Path.of(System.getProperty("kanstream.repo.dir", "..")).toAbsolutePath().normalize();
    private static final Path FLINK_SETTINGS = REPO.resolve("docker/flink/kanstream-config.yaml");
    private static final Pattern FROM =
            Pattern.compile("(?i)^FROM\\s+(?:--\\S+\\s+)*(\\S+)(?:\\s+AS\\s+(\\S+))?");
    private static final Pattern ARG = Pattern.compile("(?i)^ARG\\s+(\\w+)=(\\S+)");
    private static final Pattern ARG_REF = Pattern.compile("\\$\\{?(\\w+)}?");

    private static Map<String, Object> config;

    @BeforeAll
    static void runDockerComposeConfig() throws Exception {
        Path compose = REPO.resolve("docker-compose.yml");
        assertThat(compose).as("the compose file").exists();
        Path out = Files.createTempFile("docker-compose-config", ".yml");
        Path err = Files.createTempFile("docker-compose-config", ".err");
        Process process;
        try {
            process =
                    new ProcessBuilder("docker-compose", "-f", compose.toString(), "config")
                            .directory(REPO.toFile())
                            .redirectOutput(out.toFile())
                            .redirectError(err.toFile())
                            .start();
        } catch (IOException e) {
            throw new AssertionError(
                    "docker-compose is not installed, and this test needs it to validate"
                            + " docker-compose.yml (no Docker engine needed). Install the Debian"
                            + " package: apt-get install -y docker-compose (.ci/run does this"
                            + " when it is missing). Cause: "
                            + e.getMessage(),
                    e);
        }
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("docker-compose config did not finish in 120 s");
        }
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertThat(process.exitValue())
                .as("docker-compose config exit status; it said:%n%s", stderr)
                .isZero();
        config = asMap(new Load(LoadSettings.builder().build()).loadFromString(read(out)));
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
    }

    @Test
    void composeFileHasTheBrokerTheFlinkClusterTheSubmitterAndTheGenerator() {
        assertThat(services().keySet())
                .contains(
                        "kafka", "jobmanager", "taskmanager", "submit", "generator", "prometheus");
        assertThat(String.valueOf(services().get("kafka").get("image")))
                .startsWith("apache/kafka:");
        assertThat(services().get("jobmanager")).containsKey("build");
    }

    @Test
    void everyBuildContextDockerfileAndCopiedFileExists() throws IOException {
        int builds = 0;
        for (Map.Entry<String, Map<String, Object>> service : services().entrySet()) {
            Object build = service.getValue().get("build");
            if (build == null) {
                continue;
            }
            builds++;
            Map<String, Object> b = asMap(build);
            Path context = REPO.resolve(String.valueOf(b.get("context")));
            assertThat(context).as("build context of %s", service.getKey()).isDirectory();
            Path dockerfile =
                    context.resolve(String.valueOf(b.getOrDefault("dockerfile", "Dockerfile")));
            assertThat(dockerfile).as("Dockerfile of %s", service.getKey()).isRegularFile();
            List<PathMatcher> ignored = dockerignore(context);
            for (String source : copiedSources(dockerfile)) {
                Path file = context.resolve(source).normalize();
                assertThat(file)
                        .as("%s copies %s from the build context", dockerfile, source)
                        .exists();
                Path relative = context.relativize(file);
                for (PathMatcher m : ignored) {
                    assertThat(m.matches(relative))
                            .as("%s copies %s, which .dockerignore leaves out", dockerfile, source)
                            .isFalse();
                }
            }
        }
        assertThat(builds).as("services built from this repository").isPositive();
    }

    @Test
    void everyImageIsBuiltHereOrPinnedToAVersion() throws IOException {
        Set<String> built = new TreeSet<>();
        for (Map<String, Object> service : services().values()) {
            if (service.get("build") != null && service.get("image") != null) {
                built.add(String.valueOf(service.get("image")));
            }
        }
        for (Map.Entry<String, Map<String, Object>> service : services().entrySet()) {
            Object image = service.getValue().get("image");
            assertThat(image).as("image of %s", service.getKey()).isNotNull();
            if (!built.contains(String.valueOf(image))) {
                assertPinned(String.valueOf(image), "service " + service.getKey());
            }
            Object build = service.getValue().get("build");
            if (build != null) {
                Map<String, Object> b = asMap(build);
                Path context = REPO.resolve(String.valueOf(b.get("context")));
                Path dockerfile =
                        context.resolve(String.valueOf(b.getOrDefault("dockerfile", "Dockerfile")));
                Set<String> stages = new TreeSet<>();
                Map<String, String> args = new LinkedHashMap<>();
                for (String line : instructions(dockerfile)) {
                    Matcher arg = ARG.matcher(line);
                    if (arg.find()) {
                        args.put(arg.group(1), arg.group(2));
                    }
                    Matcher from = FROM.matcher(line);
                    if (from.find()) {
                        // FROM ${NAME}: the ARG's default, the image a plain build uses
                        String base = from.group(1);
                        Matcher ref = ARG_REF.matcher(base);
                        if (ref.matches()) {
                            base = args.get(ref.group(1));
                            assertThat(base)
                                    .as(
                                            "%s: FROM %s needs an ARG with a default",
                                            dockerfile, from.group(1))
                                    .isNotNull();
                        }
                        if (!stages.contains(base)) {
                            assertPinned(base, dockerfile.toString());
                        }
                        if (from.group(2) != null) {
                            stages.add(from.group(2));
                        }
                    }
                }
            }
        }
    }

    @Test
    void namedVolumesAreDeclaredAndBindMountsExist() {
        Set<String> declared =
                config.get("volumes") == null
                        ? Set.of()
                        : new TreeSet<>(asMap(config.get("volumes")).keySet());
        for (Map.Entry<String, Map<String, Object>> service : services().entrySet()) {
            Object volumes = service.getValue().get("volumes");
            if (volumes == null) {
                continue;
            }
            for (Object volume : (List<?>) volumes) {
                String source = String.valueOf(volume).split(":")[0];
                if (source.startsWith("/") || source.startsWith(".")) {
                    assertThat(REPO.resolve(source))
                            .as("bind mount of %s", service.getKey())
                            .exists();
                } else {
                    assertThat(declared).as("volumes of %s", service.getKey()).contains(source);
                }
            }
        }
    }

    @Test
    void commandsNameClassesTheJobJarHas() {
        for (Map.Entry<String, Map<String, Object>> service : services().entrySet()) {
            Object command = service.getValue().get("command");
            if (!(command instanceof List<?> words)) {
                continue;
            }
            for (Object word : words) {
                String w = String.valueOf(word);
                if (w.matches("io\\.kanstream(\\.\\w+)+")) {
                    try {
                        Class.forName(w, false, getClass().getClassLoader());
                    } catch (ClassNotFoundException e) {
                        fail("service %s runs %s, which does not exist", service.getKey(), w);
                    }
                }
            }
        }
    }

    @Test
    void flinkSettingsKeepDjlParentFirstAndFitTheTaskManager() throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String line : Files.readAllLines(FLINK_SETTINGS, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.strip().startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(": ");
            assertThat(colon).as("'key: value' in %s: %s", FLINK_SETTINGS, line).isPositive();
            String value = line.substring(colon + 2);
            // the Dockerfile passes each as -Dkey=value through config-parser-utils.sh,
            // which splits its arguments at whitespace
            assertThat(value)
                    .as("value of %s in %s", line.substring(0, colon), FLINK_SETTINGS)
                    .doesNotContainAnyWhitespaces();
            settings.put(line.substring(0, colon), value);
        }
        Configuration conf = Configuration.fromMap(settings);
        assertThat(conf.get(CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL))
                .as("DJL loads parent-first: PyTorch's native library loads once per JVM")
                .contains("ai.djl.");

        TaskExecutorProcessSpec tm = TaskExecutorProcessUtils.processSpecFromConfig(conf);
        assertThat(tm.getTaskOffHeapSize())
                .as("task off-heap memory, for PyTorch's native memory")
                .isGreaterThanOrEqualTo(MemorySize.parse("512m"));
        assertThat(tm.getTaskHeapSize())
                .as("task heap left for the job")
                .isGreaterThanOrEqualTo(MemorySize.parse("256m"));
    }

    @Test
    void prometheusScrapesBothFlinkRolesOnTheReportersPort() throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String line : Files.readAllLines(FLINK_SETTINGS, StandardCharsets.UTF_8)) {
            int colon = line.indexOf(": ");
            if (!line.strip().startsWith("#") && colon > 0) {
                settings.put(line.substring(0, colon), line.substring(colon + 2));
            }
        }
        assertThat(settings.get("metrics.reporter.prom.factory.class"))
                .isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        String port = settings.get("metrics.reporter.prom.port");
        assertThat(port).as("the reporter's port in %s", FLINK_SETTINGS).matches("\\d+");

        Map<String, Object> prometheus =
                asMap(
                        new Load(LoadSettings.builder().build())
                                .loadFromString(
                                        read(REPO.resolve("docker/prometheus/prometheus.yml"))));
        List<?> jobs = (List<?>) prometheus.get("scrape_configs");
        Map<String, Object> flink = asMap(jobs.get(0));
        Map<String, Object> dns = asMap(((List<?>) flink.get("dns_sd_configs")).get(0));
        List<String> names = ((List<?>) dns.get("names")).stream().map(String::valueOf).toList();
        assertThat(names).contains("jobmanager", "taskmanager");
        assertThat(String.valueOf(dns.get("port"))).isEqualTo(port);
        assertThat(services()).containsKeys("jobmanager", "taskmanager");
    }

    private static void assertPinned(String image, String where) {
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        assertThat(colon > slash && !image.endsWith(":latest"))
                .as("%s uses image %s: pin a version tag", where, image)
                .isTrue();
    }

    /** Sources of COPY and ADD instructions that read the build context (not another stage). */
    private static List<String> copiedSources(Path dockerfile) throws IOException {
        List<String> sources = new ArrayList<>();
        for (String line : instructions(dockerfile)) {
            String[] words = line.trim().split("\\s+");
            String op = words[0].toUpperCase(Locale.ROOT);
            if (!op.equals("COPY") && !op.equals("ADD")) {
                continue;
            }
            List<String> args = new ArrayList<>();
            boolean fromStage = false;
            for (int i = 1; i < words.length; i++) {
                if (words[i].startsWith("--from")) {
                    fromStage = true;
                } else if (!words[i].startsWith("--")) {
                    args.add(words[i]);
                }
            }
            if (!fromStage) {
                sources.addAll(args.subList(0, args.size() - 1));
            }
        }
        return sources;
    }

    /** The Dockerfile's instructions, continuation lines joined, comments dropped. */
    private static List<String> instructions(Path dockerfile) throws IOException {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile, StandardCharsets.UTF_8)) {
            String stripped = line.strip();
            if (current.length() == 0 && (stripped.isEmpty() || stripped.startsWith("#"))) {
                continue;
            }
            if (stripped.endsWith("\\")) {
                current.append(stripped, 0, stripped.length() - 1).append(' ');
            } else {
                out.add(current.append(stripped).toString());
                current.setLength(0);
            }
        }
        return out;
    }

    private static List<PathMatcher> dockerignore(Path context) throws IOException {
        Path file = context.resolve(".dockerignore");
        List<PathMatcher> matchers = new ArrayList<>();
        if (!Files.exists(file)) {
            return matchers;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String pattern = line.strip();
            if (pattern.isEmpty() || pattern.startsWith("#") || pattern.startsWith("!")) {
                continue;
            }
            pattern = pattern.endsWith("/") ? pattern.substring(0, pattern.length() - 1) : pattern;
            // an excluded directory excludes what is under it
            matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + pattern));
            matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + pattern + "/**"));
        }
        return matchers;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> services() {
        return (Map<String, Map<String, Object>>) config.get("services");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object yaml) {
        assertThat(yaml).isInstanceOf(Map.class);
        return (Map<String, Object>) yaml;
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }
}
