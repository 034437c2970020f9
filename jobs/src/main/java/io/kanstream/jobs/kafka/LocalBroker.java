package io.kanstream.jobs.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private Kafka broker: {@code scripts/kafka-local.sh} (a real KRaft broker in its own JVM) on a
 * free port, with its state under a directory of the caller's choosing. Plaintext, or secured
 * (SASL_SSL with SCRAM, the script's {@code --secure}). Stopped on {@link #close}, or by a shutdown
 * hook if the JVM ends first: the broker is a separate process that would outlive us.
 */
public final class LocalBroker implements AutoCloseable {
    private final Path script;
    private final Path home;
    private final int port;
    private final boolean secure;
    private final Thread shutdownHook;

    private LocalBroker(Path script, Path home, int port, boolean secure) {
        this.script = script;
        this.home = home;
        this.port = port;
        this.secure = secure;
        this.shutdownHook = new Thread(this::stop, "stop kafka-local");
    }

    /**
     * Starts a broker with empty state.
     *
     * @param repo the kanstream checkout ({@code scripts/kafka-local.sh} lives there)
     * @param home its state, logs and pid ({@code KANSTREAM_HOME} of the script)
     */
    public static LocalBroker start(Path repo, Path home) {
        return start(repo, home, false);
    }

    /**
     * Starts a broker with empty state whose client listener speaks SASL_SSL (SCRAM-SHA-512 over
     * TLS); {@link #connection} carries the client settings the script wrote.
     */
    public static LocalBroker startSecure(Path repo, Path home) {
        return start(repo, home, true);
    }

    private static LocalBroker start(Path repo, Path home, boolean secure) {
        Path script = repo.resolve("scripts/kafka-local.sh");
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException(
                    "no "
                            + script
                            + ": run from a kanstream checkout (scripts/kanstream sets"
                            + " kanstream.repo.dir)");
        }
        LocalBroker broker = new LocalBroker(script, home, freePortPair(), secure);
        Runtime.getRuntime().addShutdownHook(broker.shutdownHook);
        List<String> args =
                new ArrayList<>(List.of("start", "--port", "" + broker.port, "--clean"));
        if (secure) {
            args.add("--secure");
        }
        // first use resolves the broker's classpath with Maven: allow for that
        broker.script(Duration.ofMinutes(5), args.toArray(String[]::new));
        return broker;
    }

    /** The checkout this code runs from: {@code kanstream.repo.dir}, else the working directory. */
    public static Path repoDir() {
        return Path.of(System.getProperty("kanstream.repo.dir", ".")).toAbsolutePath().normalize();
    }

    public String bootstrapServers() {
        return "localhost:" + port;
    }

    /** How clients reach it: with the script's client.properties when it is secured. */
    public KafkaConnection connection() {
        return secure
                ? KafkaConnection.load(bootstrapServers(), clientProperties())
                : KafkaConnection.of(bootstrapServers());
    }

    /** The client settings the script wrote for a secured broker (password included). */
    public Path clientProperties() {
        if (!secure) {
            throw new IllegalStateException("a plaintext broker has no client properties");
        }
        return home.resolve("kafka/client.properties");
    }

    public Path home() {
        return home;
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs stop() again, which is idempotent
        }
    }

    private void stop() {
        script(Duration.ofMinutes(1), "stop");
    }

    private void script(Duration timeout, String... args) {
        List<String> command = new ArrayList<>(List.of("bash", script.toString()));
        command.addAll(List.of(args));
        try {
            Files.createDirectories(home);
            Path log = home.resolve("kafka-local-" + args[0] + ".out");
            ProcessBuilder pb =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(log.toFile());
            pb.environment().put("KANSTREAM_HOME", home.toString());
            pb.environment().put("KAFKA_PORT", "" + port);
            // the script's 60 s to answer is for a person at a terminal; tests and bench start it
            // on busy machines, where the broker JVM alone has taken 50 s to come up
            pb.environment().putIfAbsent("KAFKA_START_TIMEOUT", "180");
            Process p = pb.start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        "kafka-local.sh " + String.join(" ", args) + " timed out; see " + log);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(
                        "kafka-local.sh "
                                + String.join(" ", args)
                                + " exited "
                                + p.exitValue()
                                + ":\n"
                                + Files.readString(log));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A free port whose successor (the KRaft controller's) is free too. */
    private static int freePortPair() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket first = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int port = first.getLocalPort();
                if (port < 65535) {
                    try (ServerSocket second =
                            new ServerSocket(port + 1, 1, InetAddress.getLoopbackAddress())) {
                        return port;
                    } catch (IOException taken) {
                        // try another
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no two adjacent free ports found");
    }
}
