package io.kanstream.jobs.demo;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The newest progress line of {@code kanstream run}'s log: events scored, rate, checkpoint. */
final class JobProgressLog {
    private static final Pattern PROGRESS =
            Pattern.compile("events (\\d+) \\((\\d+)/s\\).*?(?:newest checkpoint (\\S+))?$");

    private final Path file;
    private long offset;
    private long events = -1;
    private long rate;
    private String checkpoint;

    JobProgressLog(Path file) {
        this.file = file;
    }

    long events() {
        return events;
    }

    long rate() {
        return rate;
    }

    String checkpoint() {
        return checkpoint;
    }

    /** Reads what the log gained since the last call. */
    void refresh() {
        if (file == null || !Files.exists(file)) {
            return;
        }
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            if (in.length() < offset) {
                offset = 0; // the log was replaced
            }
            in.seek(offset);
            byte[] bytes = new byte[(int) Math.min(in.length() - offset, 1 << 20)];
            in.readFully(bytes);
            String text = new String(bytes, StandardCharsets.UTF_8);
            int end = text.lastIndexOf('\n');
            if (end < 0) {
                return;
            }
            offset += text.substring(0, end + 1).getBytes(StandardCharsets.UTF_8).length;
            for (String line : text.substring(0, end).split("\n")) {
                Matcher m = PROGRESS.matcher(line.trim());
                if (m.find()) {
                    events = Long.parseLong(m.group(1));
                    rate = Long.parseLong(m.group(2));
                    if (m.group(3) != null) {
                        checkpoint = m.group(3);
                    }
                }
            }
        } catch (IOException e) {
            // the job's log is a nicety; the metric records are what counts
        }
    }
}
