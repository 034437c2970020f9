package io.kanstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CheckoutTest {
    @Test
    void namesTheCommitOfTheCheckoutTheClassesWereBuiltIn() throws Exception {
        Process git =
                new ProcessBuilder("git", "rev-parse", "--short", "HEAD")
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
        String head =
                new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String commit = Checkout.commit(CheckoutTest.class);
        if (git.waitFor() == 0 && !head.isEmpty()) {
            assertThat(commit).matches(java.util.regex.Pattern.quote(head) + "(\\+dirty)?");
        } else {
            assertThat(commit).isEqualTo("unknown");
        }
    }

    @Test
    void codeFromOutsideAnyCheckoutIsUnknown() {
        // the JDK's classes have no code source
        assertThat(Checkout.commit(String.class)).isEqualTo("unknown");
    }
}
