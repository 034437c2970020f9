package io.kanstream.jobs.online;

import io.kanstream.stream.Event;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * Passes events through, and fails the task once, at the event with a given id. A flag file makes
 * "once" hold across the restart (which replays that event) and across classloaders.
 */
final class FailOnce implements MapFunction<Event, Event> {
    private static final long serialVersionUID = 1L;

    private final String failAt;
    private final String flag;

    FailOnce(String failAt, Path flag) {
        this.failAt = failAt;
        this.flag = flag.toString();
    }

    @Override
    public Event map(Event event) throws IOException {
        if (event.id().equals(failAt)) {
            try {
                Files.createFile(Path.of(flag));
            } catch (FileAlreadyExistsException e) {
                return event; // failed before: this is the replay after the restore
            }
            throw new IllegalStateException("injected failure at event " + failAt);
        }
        return event;
    }
}
