package io.kanstream.jobs.cli;

import picocli.CommandLine;

/**
 * How every kanstream program answers bad input, the whole command line and the job jar's alike:
 * one line naming what was wrong ({@code error: ...}) and exit status 2, never a stack trace.
 */
final class BadInput {
    /** The status a command exits with when its input was wrong. */
    static final int EXIT = 2;

    private BadInput() {}

    /** A command line for {@code command} whose wrong-input exceptions become one line and 2. */
    static CommandLine reported(Object command) {
        CommandLine commandLine = new CommandLine(command);
        commandLine.setExecutionExceptionHandler(
                (exception, cmd, parseResult) -> {
                    if (exception instanceof IllegalArgumentException
                            || exception instanceof IllegalStateException) {
                        cmd.getErr().println("error: " + exception.getMessage());
                        return EXIT;
                    }
                    throw exception;
                });
        return commandLine;
    }
}
