package io.kanstream.jobs;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Text files users bring (CSV and JSONL tables, event files), read as UTF-8. */
public final class UserFiles {
    private static final char BYTE_ORDER_MARK = '\uFEFF';

    private UserFiles() {}

    /**
     * A reader of {@code file} past its byte-order mark, if it has one: spreadsheet programs write
     * one before a UTF-8 CSV's header, where it would become part of the first column's name.
     */
    public static BufferedReader open(Path file) throws IOException {
        BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        try {
            reader.mark(1);
            int first = reader.read();
            if (first != BYTE_ORDER_MARK && first != -1) {
                reader.reset();
            }
            return reader;
        } catch (IOException | RuntimeException e) {
            reader.close();
            throw e;
        }
    }
}
