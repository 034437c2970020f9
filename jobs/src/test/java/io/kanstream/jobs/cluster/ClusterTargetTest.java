package io.kanstream.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterTargetTest {
    @TempDir Path temp;

    @Test
    void readsHostAndPortAndKeepsTheGivenJobJar() throws Exception {
        Path jar = Files.createFile(temp.resolve("job.jar"));
        ClusterTarget target = ClusterTarget.parse("localhost:8081", jar);
        assertThat(target.host()).isEqualTo("localhost");
        assertThat(target.port()).isEqualTo(8081);
        assertThat(target.address()).isEqualTo("localhost:8081");
        assertThat(ClusterTarget.parse(" jm.example-1.net:443 ", jar).host())
                .isEqualTo("jm.example-1.net");
    }

    @Test
    void rejectsAddressesThatAreNotHostAndPortWithAnExample() throws Exception {
        Path jar = Files.createFile(temp.resolve("job.jar"));
        for (String bad : new String[] {"localhost", "http://localhost:8081", ":8081", "a:b", ""}) {
            assertThatThrownBy(() -> ClusterTarget.parse(bad, jar))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("host:port")
                    .hasMessageContaining("'" + bad + "'");
        }
        assertThatThrownBy(() -> ClusterTarget.parse("localhost:70000", jar))
                .hasMessageContaining("1..65535, got 70000");
    }

    @Test
    void saysHowToBuildAMissingJobJar() {
        assertThatThrownBy(() -> ClusterTarget.parse("localhost:8081", temp.resolve("no.jar")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no.jar does not exist")
                .hasMessageContaining("mvn -DskipTests package");
    }
}
