package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Locale;
import org.junit.jupiter.api.Test;

class DriftActionTest {

    @Test
    void everyActionParsesFromTheSpellingTheCommandLineShowsAsItsDefault() {
        for (DriftAction action : DriftAction.values()) {
            // LearnerOptions prints the default this way
            String shown = action.name().toLowerCase(Locale.ROOT).replace("_and_", "+");
            assertThat(DriftAction.parse(shown)).as(shown).isEqualTo(action);
        }
    }

    @Test
    void aCombinedActionDoesBothOfItsParts() {
        assertThat(DriftAction.REFIT_AND_RESTART.refits()).isTrue();
        assertThat(DriftAction.REFIT_AND_RESTART.restarts()).isTrue();
        assertThat(DriftAction.REFIT_AND_RESTART.resets()).isFalse();
        assertThat(DriftAction.REFIT_AND_RESET.refits()).isTrue();
        assertThat(DriftAction.REFIT_AND_RESET.resets()).isTrue();
        assertThat(DriftAction.REFIT_AND_RESET.restarts()).isFalse();
        assertThat(DriftAction.REFIT_AND_BOOST.boosts()).isTrue();
        assertThat(DriftAction.NONE.refits()).isFalse();
    }

    @Test
    void anUnknownActionIsRefusedWithTheActionsThereAre() {
        assertThatThrownBy(() -> DriftAction.parse("rewind"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'rewind'")
                .hasMessageContaining("refit+restart");
    }
}
