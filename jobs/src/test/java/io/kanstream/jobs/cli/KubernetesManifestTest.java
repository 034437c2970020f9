package io.kanstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kanstream.jobs.online.OnlineJobConfig;
import io.kanstream.jobs.online.OnlineLearningJob;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code deploy/kubernetes/kanstream.yaml} holds what the Flink Kubernetes Operator's validator
 * requires of a FlinkDeployment (apiVersion, kind, image, a flinkVersion of its enum, memory and
 * cpu for both roles, the job's jar, parallelism and upgrade mode, and for upgradeMode savepoint
 * both a checkpoint and a savepoint directory), and that it agrees with the rest of the repository:
 * the image docker-compose builds, the jar path the Dockerfile writes, the directories and
 * parallelism the job itself sets from its arguments, a TaskManager size that leaves PyTorch its
 * off-heap budget by Flink's arithmetic, and shared storage mounted where the checkpoints go. No
 * Kubernetes runs here: this is what can be checked without one.
 */
class KubernetesManifestTest {
    private static final Path REPO =
            Path.of(System.getProperty("kanstream.repo.dir", "..")).toAbsolutePath().normalize();
    private static final Path MANIFEST = REPO.resolve("deploy/kubernetes/kanstream.yaml");
    private static final String MAIN_CONTAINER = "flink-main-container";

    private static final List<JsonNode> documents = new ArrayList<>();
    private static JsonNode deployment;
    private static JsonNode spec;
    private static Configuration flink;

    @BeforeAll
    static void read() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        try (var docs = yaml.readerFor(JsonNode.class).<JsonNode>readValues(MANIFEST.toFile())) {
            docs.forEachRemaining(documents::add);
        }
        deployment =
                documents.stream()
                        .filter(d -> d.path("kind").asText().equals("FlinkDeployment"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no FlinkDeployment in " + MANIFEST));
        spec = deployment.path("spec");
        Map<String, String> settings = new LinkedHashMap<>();
        spec.path("flinkConfiguration")
                .fields()
                .forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
        flink = Configuration.fromMap(settings);
    }

    @Test
    void resourceHasTheOperatorsApiKindNameAndAFlinkVersionOfItsEnum() {
        assertThat(deployment.path("apiVersion").asText()).isEqualTo("flink.apache.org/v1beta1");
        assertThat(deployment.path("metadata").path("name").asText())
                .matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
        // the operator's FlinkVersion enum names versions v<major>_<minor>; v2_2 since 1.13
        String[] version = EnvironmentInformation.getVersion().split("\\.");
        assertThat(spec.path("flinkVersion").asText())
                .isEqualTo("v" + version[0] + "_" + version[1]);
        assertThat(spec.path("serviceAccount").asText()).isNotBlank();
    }

    @Test
    void imageIsTheOneDockerComposeBuildsAndTheJarIsWhereItsDockerfilePutsIt() throws IOException {
        String compose = Files.readString(REPO.resolve("docker-compose.yml"));
        Matcher image =
                Pattern.compile("(?m)^\\s*image:\\s*\\$\\{KANSTREAM_IMAGE:-([^}]+)}")
                        .matcher(compose);
        assertThat(image.find()).as("the kanstream image in docker-compose.yml").isTrue();
        assertThat(spec.path("image").asText()).isEqualTo(image.group(1));

        String jar = spec.path("job").path("jarURI").asText();
        assertThat(jar).startsWith("local:///");
        String dockerfile =
                Files.readString(REPO.resolve("docker/flink/Dockerfile"), StandardCharsets.UTF_8);
        assertThat(dockerfile)
                .as("docker/flink/Dockerfile copies the job jar to %s", jar)
                .containsPattern(
                        "(?m)^COPY .* " + Pattern.quote(jar.substring("local://".length())) + "$");
    }

    @Test
    void bothRolesHaveMemoryAndCpuAndTheTaskManagerLeavesPyTorchItsOffHeapBudget() {
        for (String role : List.of("jobManager", "taskManager")) {
            JsonNode resource = spec.path(role).path("resource");
            assertThat(MemorySize.parse(resource.path("memory").asText()).getBytes())
                    .as("%s memory", role)
                    .isGreaterThan(MemorySize.parse("512m").getBytes());
            assertThat(resource.path("cpu").asDouble()).as("%s cpu", role).isPositive();
        }
        Configuration tm = new Configuration(flink);
        tm.set(
                TaskManagerOptions.TOTAL_PROCESS_MEMORY,
                MemorySize.parse(
                        spec.path("taskManager").path("resource").path("memory").asText()));
        TaskExecutorProcessSpec process = TaskExecutorProcessUtils.processSpecFromConfig(tm);
        assertThat(process.getTaskOffHeapSize()).isGreaterThanOrEqualTo(MemorySize.parse("512m"));
        assertThat(process.getTaskHeapSize()).isGreaterThanOrEqualTo(MemorySize.parse("256m"));
        assertThat(flink.get(CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL))
                .as("DJL loads parent-first")
                .contains("ai.djl.");
    }

    @Test
    void savepointUpgradesHaveBothDirectoriesAndTheJobWritesToTheSameOnes() throws Exception {
        JsonNode job = spec.path("job");
        assertThat(job.path("upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(job.path("state").asText()).isEqualTo("running");
        assertThat(job.path("parallelism").asInt()).isPositive();
        String checkpoints = flink.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
        String savepoints = flink.get(CheckpointingOptions.SAVEPOINT_DIRECTORY);
        assertThat(checkpoints)
                .as("the checkpoint directory upgradeMode savepoint needs")
                .isNotBlank();
        assertThat(savepoints)
                .as("the savepoint directory upgradeMode savepoint needs")
                .isNotBlank();

        // the job's own arguments, parsed by the job jar's main (`kanstream run`'s options)
        List<String> args = new ArrayList<>();
        job.path("args").forEach(a -> args.add(a.asText()));
        String entry = job.path("entryClass").asText();
        assertThat(Class.forName(entry)).isEqualTo(KanstreamJob.class);
        CommandLine main = KanstreamJob.commandLine();
        main.parseArgs(args.toArray(String[]::new));
        RunCommand run = main.getCommand();
        OnlineJobConfig config = run.config();
        Configuration jobs = OnlineLearningJob.flinkConfiguration(config);
        assertThat(jobs.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo(checkpoints);
        assertThat(jobs.get(CheckpointingOptions.SAVEPOINT_DIRECTORY)).isEqualTo(savepoints);
        assertThat(jobs.get(CoreOptions.DEFAULT_PARALLELISM))
                .as("--parallelism of the job's args (the job sets it) and spec.job.parallelism")
                .isEqualTo(job.path("parallelism").asInt());
    }

    @Test
    void checkpointsGoToSharedStorageMountedInEveryPod() {
        JsonNode pod = spec.path("podTemplate").path("spec");
        JsonNode container = null;
        for (JsonNode c : pod.path("containers")) {
            if (c.path("name").asText().equals(MAIN_CONTAINER)) {
                container = c;
            }
        }
        assertThat(container).as("a %s in spec.podTemplate", MAIN_CONTAINER).isNotNull();
        for (String dir :
                List.of(
                        flink.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY),
                        flink.get(CheckpointingOptions.SAVEPOINT_DIRECTORY))) {
            if (!dir.startsWith("file:")) {
                continue; // object storage: nothing to mount
            }
            String path = dir.replaceFirst("^file:/*", "/");
            JsonNode mount = null;
            for (JsonNode m : container.path("volumeMounts")) {
                if (path.startsWith(m.path("mountPath").asText() + "/")) {
                    mount = m;
                }
            }
            assertThat(mount).as("a volume mounted above %s", path).isNotNull();
            String volume = mount.path("name").asText();
            JsonNode claim = null;
            for (JsonNode v : pod.path("volumes")) {
                if (v.path("name").asText().equals(volume)) {
                    claim = v.path("persistentVolumeClaim").path("claimName");
                }
            }
            assertThat(claim).as("volume %s is a persistent volume claim", volume).isNotNull();
            String claimName = claim.asText();
            assertThat(documents)
                    .as("the claim %s, shared by JobManager and TaskManagers", claimName)
                    .anySatisfy(
                            d -> {
                                assertThat(d.path("kind").asText())
                                        .isEqualTo("PersistentVolumeClaim");
                                assertThat(d.path("metadata").path("name").asText())
                                        .isEqualTo(claimName);
                                assertThat(d.path("spec").path("accessModes").toString())
                                        .contains("ReadWriteMany");
                            });
        }
    }

    @Test
    void everyPodServesFlinksPrometheusReporterOnTheDeclaredPort() throws Exception {
        String factory = flink.getString("metrics.reporter.prom.factory.class", "");
        assertThat(Class.forName(factory).getSimpleName()).isEqualTo("PrometheusReporterFactory");
        String port = flink.getString("metrics.reporter.prom.port", "");
        assertThat(port).matches("\\d+");
        assertThat(spec.path("podTemplate").toString())
                .contains("\"containerPort\":" + port)
                .contains("\"prometheus.io/port\":\"" + port + "\"");
    }
}
