package io.kanstream.jobs.kafka;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

/**
 * One bounded question to Kafka before a command starts its clients: does a broker answer at the
 * bootstrap servers with these settings? A Kafka client left to itself retries a wrong password or
 * an unreachable broker for a minute or for ever; this turns each into one sentence that names the
 * servers and the cause, and never the password.
 */
public final class KafkaPreflight {
    /**
     * How long a command waits for the first answer. A wrong password or certificate is refused at
     * once; only an unreachable broker takes this long. The margin is for the first TLS and SCRAM
     * handshake of a cold JVM on a busy machine, which can take many seconds (measured in
     * docs/kafka-security.md).
     */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    private KafkaPreflight() {}

    /** Kafka did not answer, or refused: the message says which and why. */
    public static final class KafkaUnavailableException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        KafkaUnavailableException(String message) {
            super(message);
        }
    }

    /**
     * Asks the cluster to describe itself, waiting at most {@code timeout}.
     *
     * @throws KafkaUnavailableException when no broker answered in time, authentication failed, the
     *     TLS handshake failed, or the settings cannot make a client
     */
    public static void check(KafkaConnection kafka, Duration timeout) {
        int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        Properties props = kafka.clientProperties();
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(ms));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(ms));
        Admin admin;
        try {
            admin = Admin.create(props);
        } catch (KafkaException e) {
            throw fail(kafka, "cannot make a Kafka client from " + settings(kafka), e);
        }
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(ms))
                    .clusterId()
                    .get(ms + 2_000L, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw explain(kafka, e.getCause(), timeout);
        } catch (java.util.concurrent.TimeoutException e) {
            throw unreachable(kafka, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaUnavailableException("interrupted while asking Kafka");
        } finally {
            admin.close(Duration.ofSeconds(1));
        }
    }

    private static KafkaUnavailableException explain(
            KafkaConnection kafka, Throwable cause, Duration timeout) {
        if (cause instanceof SaslAuthenticationException) {
            String user = kafka.user();
            return fail(
                    kafka,
                    "authentication failed for user "
                            + (user == null ? "(none named in sasl.jaas.config)" : user)
                            + " at "
                            + kafka.bootstrapServers()
                            + " ("
                            + kafka.properties().getOrDefault("sasl.mechanism", "GSSAPI")
                            + " over "
                            + kafka.securityProtocol()
                            + "): check the user and password in "
                            + settings(kafka),
                    cause);
        }
        if (cause instanceof SslAuthenticationException) {
            return fail(
                    kafka,
                    "the TLS handshake with "
                            + kafka.bootstrapServers()
                            + " failed: check ssl.truststore.* in "
                            + settings(kafka)
                            + " (it must hold the CA that signed the broker's certificate, whose"
                            + " name must match the host)",
                    cause);
        }
        if (cause instanceof AuthenticationException) {
            return fail(
                    kafka,
                    "Kafka at " + kafka.bootstrapServers() + " refused the connection",
                    cause);
        }
        if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
            return unreachable(kafka, timeout);
        }
        return fail(kafka, "Kafka at " + kafka.bootstrapServers() + " did not answer", cause);
    }

    private static KafkaUnavailableException unreachable(KafkaConnection kafka, Duration timeout) {
        String protocol = kafka.securityProtocol();
        return new KafkaUnavailableException(
                "no broker reachable at "
                        + kafka.bootstrapServers()
                        + " within "
                        + seconds(timeout)
                        + " (security.protocol "
                        + protocol
                        + "): is Kafka running there, and does that listener speak "
                        + protocol
                        + "?"
                        + ("PLAINTEXT".equals(protocol)
                                ? " A secured cluster needs its client settings:"
                                        + " --kafka-properties FILE."
                                : ""));
    }

    /** A failure with the deepest cause's message, every secret of the settings redacted. */
    private static KafkaUnavailableException fail(
            KafkaConnection kafka, String what, Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String detail =
                root instanceof java.nio.file.NoSuchFileException
                        ? "no such file " + root.getMessage()
                        : root.getMessage() == null ? root.getClass().getName() : root.getMessage();
        return new KafkaUnavailableException(kafka.redact(what + ": " + detail));
    }

    private static String settings(KafkaConnection kafka) {
        return kafka.source() != null ? kafka.source() : "the Kafka client properties";
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
