package io.kanstream.jobs.kafka;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * How every kanstream client reaches Kafka: the bootstrap servers and the client settings of a
 * secured cluster (security.protocol, sasl.*, ssl.*), read from a Java properties file as Kafka's
 * own tools read {@code --command-config}. Each producer, consumer, admin client, Kafka source and
 * sink starts from {@link #clientProperties()} and adds its own settings on top.
 *
 * <p>It travels with the job: it is part of {@code OnlineJobConfig}, and the sources and sinks
 * carry its properties inside the job graph submitted to a cluster, so the TaskManagers need no
 * copy of the file (file paths inside it, such as a truststore location, must exist there too).
 *
 * <p>Secret values never leave it in text: {@link #toString} and {@link #redact} replace the value
 * of every key that names a password, secret, key, credential, token or JAAS configuration with
 * {@value #REDACTED}.
 */
public final class KafkaConnection implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Where clients look when nobody says otherwise. */
    public static final String DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092";

    /** What stands in for a secret in any text. */
    public static final String REDACTED = "[redacted]";

    /**
     * Settings each kanstream client sets itself because exactly-once depends on them (or the bytes
     * it reads and writes do); a file that sets them is refused rather than silently overridden.
     */
    static final Set<String> OWNED =
            Set.of(
                    "key.serializer",
                    "value.serializer",
                    "key.deserializer",
                    "value.deserializer",
                    "isolation.level",
                    "enable.idempotence",
                    "transactional.id",
                    "group.id",
                    "enable.auto.commit");

    private static final Pattern SECRET_WORD =
            Pattern.compile("password|secret|jaas|credential|token");
    private static final Pattern JAAS_USER = Pattern.compile("username\\s*=\\s*\"([^\"]*)\"");
    private static final Pattern JAAS_SECRET =
            Pattern.compile("(\\w*(?:password|secret|token)\\w*)\\s*=\\s*\"([^\"]*)\"");

    private final String bootstrapServers;
    private final TreeMap<String, String> properties;
    private final String source;

    private KafkaConnection(
            String bootstrapServers, Map<String, String> properties, String source) {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException(
                    "bootstrap servers must be set, e.g. " + DEFAULT_BOOTSTRAP_SERVERS);
        }
        this.bootstrapServers = bootstrapServers.trim();
        this.properties = new TreeMap<>(properties);
        this.source = source;
        String where = source == null ? "Kafka client properties" : source;
        for (String key : this.properties.keySet()) {
            if (OWNED.contains(key)) {
                throw new IllegalArgumentException(
                        where
                                + " set "
                                + key
                                + ", which kanstream sets itself on each client (exactly-once"
                                + " depends on it): remove it");
            }
        }
        if (this.properties.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException(
                    where + " set bootstrap.servers: give the servers with --bootstrap-servers");
        }
    }

    /** A plaintext connection to {@code bootstrapServers}: no client settings. */
    public static KafkaConnection of(String bootstrapServers) {
        return new KafkaConnection(bootstrapServers, Map.of(), null);
    }

    /** A connection with these client settings (no bootstrap.servers among them). */
    public static KafkaConnection of(String bootstrapServers, Map<String, String> properties) {
        return new KafkaConnection(bootstrapServers, properties, null);
    }

    /**
     * Reads client settings from a Java properties file.
     *
     * @param bootstrapServers the servers, or null to take {@code bootstrap.servers} from the file
     *     (and the default when the file has none)
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public static KafkaConnection load(String bootstrapServers, Path file) {
        Properties read = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            read.load(in);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--kafka-properties: no such file " + file);
        } catch (IOException | IllegalArgumentException e) {
            // a malformed \\u escape is the only way Properties.load fails on content
            throw new IllegalArgumentException(
                    "--kafka-properties: cannot read " + file + ": " + e.getMessage());
        }
        Map<String, String> settings = new TreeMap<>();
        read.stringPropertyNames().forEach(k -> settings.put(k.trim(), read.getProperty(k)));
        String fromFile = settings.remove("bootstrap.servers");
        String servers = bootstrapServers;
        if (servers == null) {
            servers = fromFile != null ? fromFile : DEFAULT_BOOTSTRAP_SERVERS;
        } else if (fromFile != null && !fromFile.trim().equals(servers.trim())) {
            throw new IllegalArgumentException(
                    "--bootstrap-servers "
                            + servers
                            + " and bootstrap.servers="
                            + fromFile
                            + " in "
                            + file
                            + " disagree: give one");
        }
        return new KafkaConnection(servers, settings, "--kafka-properties " + file);
    }

    /** This connection to other servers, with the same client settings. */
    public KafkaConnection withBootstrapServers(String servers) {
        return new KafkaConnection(servers, properties, source);
    }

    /** {@code host:port[,host:port...]}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The client settings, without bootstrap.servers; secrets in clear: never print them. */
    public Map<String, String> properties() {
        return Collections.unmodifiableMap(properties);
    }

    /** A fresh copy of bootstrap.servers and the client settings, for one client to add to. */
    public Properties clientProperties() {
        Properties props = new Properties();
        props.putAll(properties);
        props.put("bootstrap.servers", bootstrapServers);
        return props;
    }

    /** security.protocol, PLAINTEXT when unset (Kafka's default). */
    public String securityProtocol() {
        return properties.getOrDefault("security.protocol", "PLAINTEXT").toUpperCase(Locale.ROOT);
    }

    /** The SASL user named in sasl.jaas.config, or null. */
    public String user() {
        String jaas = properties.get("sasl.jaas.config");
        if (jaas == null) {
            return null;
        }
        Matcher m = JAAS_USER.matcher(jaas);
        return m.find() ? m.group(1) : null;
    }

    /** Where the settings came from ({@code --kafka-properties FILE}), or null. */
    public String source() {
        return source;
    }

    /**
     * Whether a setting's value is a secret: its name mentions a password, secret, credential,
     * token or JAAS configuration, or a part of it ends in "key" ({@code ssl.keystore.key}, not
     * {@code ssl.keystore.location}).
     */
    public static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        if (SECRET_WORD.matcher(k).find()) {
            return true;
        }
        for (String part : k.split("[._-]")) {
            if (part.endsWith("key")) {
                return true;
            }
        }
        return false;
    }

    /** {@code text} with every secret value of these settings replaced by {@value #REDACTED}. */
    public String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String secret : secrets()) {
            out = out.replace(secret, REDACTED);
        }
        return out;
    }

    /** Secret values, longest first (a password inside a JAAS line goes after the line). */
    private List<String> secrets() {
        return properties.entrySet().stream()
                .filter(e -> isSecret(e.getKey()))
                .flatMap(
                        e -> {
                            List<String> found = new java.util.ArrayList<>();
                            found.add(e.getValue());
                            Matcher m = JAAS_SECRET.matcher(e.getValue());
                            while (m.find()) {
                                found.add(m.group(2));
                            }
                            return found.stream();
                        })
                .filter(v -> !v.isEmpty())
                .distinct()
                .sorted((a, b) -> b.length() - a.length())
                .toList();
    }

    /** The settings as {@code key=value}, secrets redacted. */
    private String printable() {
        return properties.entrySet().stream()
                .map(e -> e.getKey() + "=" + (isSecret(e.getKey()) ? REDACTED : e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KafkaConnection other
                && bootstrapServers.equals(other.bootstrapServers)
                && properties.equals(other.properties);
    }

    @Override
    public int hashCode() {
        return bootstrapServers.hashCode() * 31 + properties.hashCode();
    }

    @Override
    public String toString() {
        return "KafkaConnection[bootstrapServers="
                + bootstrapServers
                + (properties.isEmpty() ? "" : ", properties=" + printable())
                + "]";
    }
}
