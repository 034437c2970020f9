package io.kanstream.jobs.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The git commit a run's code was built from, for the reports that say what ran. */
public final class Checkout {
    private Checkout() {}

    /**
     * The short commit of the git checkout that holds {@code anchor}'s compiled classes, with
     * {@code +dirty} when tracked files have changes, or {@code unknown} outside a checkout (a jar
     * on a cluster). Call it when a run starts: a report written at its end would otherwise name
     * whatever the checkout moved to while it ran.
     */
    public static String commit(Class<?> anchor) {
        try {
            Path classes =
                    Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path where = Files.isDirectory(classes) ? classes : classes.getParent();
            String commit = git(where, "rev-parse", "--short", "HEAD");
            if (commit == null || commit.isEmpty()) {
                return "unknown";
            }
            String status = git(where, "status", "--porcelain", "--untracked-files=no");
            return status == null || status.isEmpty() ? commit : commit + "+dirty";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static String git(Path where, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("git", "-C", where.toString()));
        command.addAll(List.of(args));
        Process process =
                new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroy();
            return null;
        }
        return out.trim();
    }
}
