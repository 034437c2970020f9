package io.kanstream.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kanstream.jobs.bench.CallTimer.Timing;
import io.kanstream.kan.LayerParameters;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * efficient-kan on PyTorch, measured beside the learner in the same run: a Python process running
 * {@code efficient_kan_peer.py} (shipped as a resource next to this class), driven one JSON line at
 * a time over its stdin and stdout. It builds efficient-kan's network from the learner's own
 * parameters, trains and scores the same pool of batches, and times its rounds the way {@link
 * CallTimer} times the learner's, interleaved with them, at the same PyTorch thread count.
 *
 * <p>Where {@code python3} or its {@code torch} is missing, {@link #start} says so in one line and
 * the bench reports no ratio.
 */
final class EfficientKanPeer implements AutoCloseable {
    static final String SCRIPT = "efficient_kan_peer.py";
    static final String TRAIN = "train";
    static final String SCORE = "score";

    /** How long a reply may take beyond the work a request asked for. */
    private static final Duration SLACK = Duration.ofSeconds(60);

    private final ObjectMapper mapper = new ObjectMapper();
    private final Process process;
    private final Writer requests;
    private final BufferedReader replies;
    private final ExecutorService reader;
    private final Path work;

    /**
     * The outcome of {@link #start}.
     *
     * @param peer the running peer, or null when it cannot run
     * @param description one line: what runs (Python, torch and thread count), or why nothing does
     */
    record Start(EfficientKanPeer peer, String description) {}

    private EfficientKanPeer(
            Process process,
            Writer requests,
            BufferedReader replies,
            ExecutorService reader,
            Path work) {
        this.process = process;
        this.requests = requests;
        this.replies = replies;
        this.reader = reader;
        this.work = work;
    }

    /**
     * Starts the first of {@code pythons} that can import torch on the peer script, with PyTorch at
     * {@code threads} intra-op threads. When none can, says why the first one could not.
     *
     * @param pythons interpreters, each looked up on the PATH unless it is a path
     */
    static Start start(List<String> pythons, int threads) {
        Start first = null;
        for (String python : pythons) {
            Start start = start(python, threads);
            if (start.peer() != null) {
                return start;
            }
            first = first == null ? start : first;
        }
        if (first == null) {
            throw new IllegalArgumentException("no Python to try");
        }
        return first;
    }

    /**
     * Starts {@code python} on the peer script with PyTorch at {@code threads} intra-op threads.
     *
     * @param python the interpreter, looked up on the PATH unless it is a path
     */
    static Start start(String python, int threads) {
        Path work;
        try {
            work = Files.createTempDirectory("kanstream-peer");
            try (InputStream script = EfficientKanPeer.class.getResourceAsStream(SCRIPT)) {
                if (script == null) {
                    throw new IOException(SCRIPT + " is missing from the classpath");
                }
                Files.copy(script, work.resolve(SCRIPT), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            return new Start(null, "efficient-kan peer not run: " + e.getMessage());
        }
        Process process;
        try {
            ProcessBuilder builder =
                    new ProcessBuilder(
                                    python,
                                    work.resolve(SCRIPT).toString(),
                                    Integer.toString(threads))
                            .redirectError(work.resolve("stderr.txt").toFile());
            builder.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
            builder.environment().put("MKL_NUM_THREADS", Integer.toString(threads));
            builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            process = builder.start();
        } catch (IOException e) {
            deleteQuietly(work);
            return new Start(
                    null,
                    "efficient-kan peer not run: cannot start "
                            + python
                            + " ("
                            + e.getMessage()
                            + "); no ratio to efficient-kan in this run");
        }
        ExecutorService reader =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread thread = new Thread(r, "efficient-kan-peer-reader");
                            thread.setDaemon(true);
                            return thread;
                        });
        EfficientKanPeer peer =
                new EfficientKanPeer(
                        process,
                        new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8),
                        new BufferedReader(
                                new InputStreamReader(
                                        process.getInputStream(), StandardCharsets.UTF_8)),
                        reader,
                        work);
        try {
            // importing torch takes seconds on a busy machine
            JsonNode hello = peer.read(Duration.ofSeconds(120));
            if (!hello.path("ready").asBoolean(false)) {
                peer.close();
                return new Start(
                        null,
                        "efficient-kan peer not run: "
                                + python
                                + ": "
                                + hello.path("reason").asText("no reason given")
                                + "; no ratio to efficient-kan in this run");
            }
            return new Start(
                    peer,
                    String.format(
                            java.util.Locale.ROOT,
                            "efficient-kan peer: %s (Python %s), torch %s, %d intra-op"
                                    + " thread(s), same run",
                            python,
                            hello.path("python").asText(),
                            hello.path("torch").asText(),
                            hello.path("threads").asInt()));
        } catch (PeerFailure e) {
            peer.close();
            return new Start(
                    null,
                    "efficient-kan peer not run: "
                            + e.getMessage()
                            + "; no ratio to efficient-kan in this run");
        }
    }

    /**
     * Builds efficient-kan's network from the given parameters and hands it the pool of batches.
     *
     * @param rows [q] (batch, inputs) row-major
     * @param labels [q] (batch)
     * @return the network's outputs for rows[0], (batch, outputs) row-major
     */
    float[] model(
            List<Integer> layers,
            int order,
            double learningRate,
            int batch,
            List<LayerParameters> parameters,
            float[][] rows,
            float[][] labels) {
        try {
            Path rowsFile = work.resolve("rows.f32");
            Path labelsFile = work.resolve("labels.f32");
            writeFloats(rowsFile, rows);
            writeFloats(labelsFile, labels);
            ObjectNode request = mapper.createObjectNode().put("op", "model");
            ArrayNode widths = request.putArray("layers");
            layers.forEach(widths::add);
            request.put("order", order)
                    .put("learning_rate", learningRate)
                    .put("batch", batch)
                    .put("pool", rows.length)
                    .put("rows", rowsFile.toString())
                    .put("labels", labelsFile.toString());
            ArrayNode layerNodes = request.putArray("parameters");
            for (LayerParameters p : parameters) {
                ObjectNode layer = layerNodes.addObject();
                ArrayNode grid = layer.putArray("grid"); // (in, G + 2k + 1) row-major
                for (float[] knots : p.grid().toArray()) {
                    floats(grid, knots);
                }
                floats(layer.putArray("base_weight"), p.baseWeight());
                floats(layer.putArray("spline_weight"), p.splineWeight());
                floats(layer.putArray("spline_scaler"), p.splineScaler());
            }
            return floats(ask(request, Duration.ZERO).path("outputs"));
        } catch (IOException e) {
            throw new PeerFailure("could not hand the pool of batches to the peer: " + e, e);
        }
    }

    /** Runs both workloads for a while untimed. */
    void warmUp(Duration perWorkload) {
        ask(
                mapper.createObjectNode().put("op", "warmup").put("seconds", seconds(perWorkload)),
                perWorkload.multipliedBy(2));
    }

    /** Times {@link #TRAIN} or {@link #SCORE} for one round; the figures accumulate. */
    void round(String workload, Duration budget) {
        ask(
                mapper.createObjectNode()
                        .put("op", "round")
                        .put("workload", workload)
                        .put("seconds", seconds(budget)),
                budget);
    }

    /** What the rounds since the last {@link #model} measured, by workload. */
    Map<String, Timing> timings() {
        JsonNode reply = ask(mapper.createObjectNode().put("op", "timings"), Duration.ZERO);
        Map<String, Timing> timings = new LinkedHashMap<>();
        for (String workload : List.of(TRAIN, SCORE)) {
            JsonNode t = reply.path(workload);
            if (t.isMissingNode()) {
                throw new PeerFailure("the peer timed no " + workload + " rounds", null);
            }
            timings.put(
                    workload,
                    new Timing(
                            t.path("calls").asLong(),
                            t.path("samples").asLong(),
                            t.path("samples_per_second").asDouble(),
                            t.path("cpu_samples_per_second").asDouble(),
                            t.path("p50_ms").asDouble(),
                            t.path("p99_ms").asDouble(),
                            t.path("wall_seconds").asDouble(),
                            t.path("cpu_seconds").asDouble(),
                            t.path("minor_faults_per_call").asDouble()));
        }
        return timings;
    }

    /**
     * The peer's outputs for the rows of an efficient-kan reference case.
     *
     * @param rows the rows it read, (n, inputs) row-major
     * @param outputs its outputs for them, (n, outputs) row-major
     * @param expected the outputs efficient-kan computed for them, as the case stores them
     */
    record Scored(float[] rows, int n, float[] outputs, float[] expected) {}

    /**
     * Scores the rows of {@code input} (CSV) with an efficient-kan {@code state_dict} (npz), and
     * reads the outputs efficient-kan stored for them ({@code output}, CSV).
     */
    Scored reference(Path weights, Path input, Path output) {
        JsonNode reply =
                ask(
                        mapper.createObjectNode()
                                .put("op", "reference")
                                .put("weights", weights.toAbsolutePath().toString())
                                .put("input", input.toAbsolutePath().toString())
                                .put("output", output.toAbsolutePath().toString()),
                        Duration.ZERO);
        return new Scored(
                floats(reply.path("rows")),
                reply.path("n").asInt(),
                floats(reply.path("outputs")),
                floats(reply.path("expected")));
    }

    private JsonNode ask(ObjectNode request, Duration work) {
        try {
            requests.write(mapper.writeValueAsString(request));
            requests.write('\n');
            requests.flush();
        } catch (IOException e) {
            throw new PeerFailure("the peer stopped reading requests" + stderrTail(), e);
        }
        JsonNode reply = read(work.plus(SLACK));
        if (reply.has("error")) {
            throw new PeerFailure(
                    "the peer failed on "
                            + request.path("op").asText()
                            + ": "
                            + reply.get("error").asText(),
                    null);
        }
        return reply;
    }

    private JsonNode read(Duration timeout) {
        Future<String> line = reader.submit(replies::readLine);
        String text;
        try {
            text = line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            process.destroyForcibly();
            throw new PeerFailure("the peer did not answer within " + timeout, e);
        } catch (ExecutionException e) {
            throw new PeerFailure("could not read the peer's reply: " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PeerFailure("interrupted waiting for the peer", e);
        }
        if (text == null) {
            throw new PeerFailure("the peer exited" + stderrTail(), null);
        }
        try {
            return mapper.readTree(text);
        } catch (IOException e) {
            throw new PeerFailure("the peer answered something that is not JSON: " + text, e);
        }
    }

    /** The last lines the peer wrote to stderr, as " (stderr: ...)", or nothing. */
    private String stderrTail() {
        try {
            waitQuietly(Duration.ofSeconds(2));
            List<String> lines = Files.readAllLines(work.resolve("stderr.txt"));
            if (lines.isEmpty()) {
                return "";
            }
            return " (stderr: "
                    + String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()))
                    + ")";
        } catch (IOException e) {
            return "";
        }
    }

    private void waitQuietly(Duration timeout) {
        try {
            process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        try {
            requests.close(); // end of input: the peer exits
        } catch (IOException e) {
            // it is gone already
        }
        waitQuietly(Duration.ofSeconds(5));
        if (process.isAlive()) {
            process.destroyForcibly();
            waitQuietly(Duration.ofSeconds(5));
        }
        reader.shutdownNow();
        deleteQuietly(work);
    }

    private static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }

    private static void floats(ArrayNode into, float[] values) {
        for (float v : values) {
            into.add(v);
        }
    }

    private static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int q = 0; q < values.length; q++) {
            values[q] = (float) array.get(q).asDouble();
        }
        return values;
    }

    /** Raw little-endian float32, the arrays one after another: what numpy.fromfile reads. */
    private static void writeFloats(Path file, float[][] arrays) throws IOException {
        int count = 0;
        for (float[] a : arrays) {
            count += a.length;
        }
        ByteBuffer buffer = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] a : arrays) {
            buffer.asFloatBuffer().put(a);
            buffer.position(buffer.position() + 4 * a.length);
        }
        buffer.flip();
        try (FileChannel channel =
                FileChannel.open(
                        file,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE)) {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary directory left behind
        }
    }

    /** The peer failed or went away; the bench carries on without it. */
    static final class PeerFailure extends RuntimeException {
        PeerFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
