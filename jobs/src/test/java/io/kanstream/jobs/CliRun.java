package io.kanstream.jobs;

import io.kanstream.jobs.cli.KanstreamCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The command line run in-process, as a test sees it: its exit code and everything it printed on
 * standard output and error together.
 */
public record CliRun(int exit, String output) {

    /** Runs {@code kanstream args...}, capturing its output. */
    public static CliRun of(String... args) {
        return run(false, args);
    }

    /** {@code args} followed by {@code more}: one command's variations from a common start. */
    public static String[] with(String[] args, String... more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    /** The same, and the output is printed again afterwards, for the test's log. */
    public static CliRun echoed(String... args) {
        return run(true, args);
    }

    private static CliRun run(boolean echo, String... args) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = System.out;
        PrintStream err = System.err;
        PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
        try {
            return new CliRun(KanstreamCli.execute(args), buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
            if (echo) {
                System.out.print(buffer.toString(StandardCharsets.UTF_8));
            }
        }
    }
}
