package io.kanstream.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RecordsTest {

    @Test
    void eventsAreEqualWhenTheirFeaturesAreEqual() {
        Event a = new Event("a", "k", 1, new float[] {1f, 2f}, 1.0);
        Event b = new Event("a", "k", 1, new float[] {1f, 2f}, 1.0);

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(new Event("a", "k", 1, new float[] {1f, 3f}, 1.0));
        assertThat(a.toString()).contains("features=[1.0, 2.0]");
    }

    @Test
    void eventsCannotBeChangedThroughTheirFeatureArrays() {
        float[] features = {1f, 2f};
        Event event = new Event("a", "k", 1, features);

        features[0] = 99f;
        event.features()[1] = 99f;

        assertThat(event.features()).containsExactly(1f, 2f);
    }

    @Test
    void eventsCopyTheirFeaturesIntoABatchRow() {
        float[] batch = new float[6];

        new Event("a", "k", 1, new float[] {1f, 2f, 3f}).copyFeaturesInto(batch, 3);

        assertThat(batch).containsExactly(0f, 0f, 0f, 1f, 2f, 3f);
    }

    @Test
    void aLateLabelMakesALabeledCopyOfTheEvent() {
        Event event = new Event("a", "k", 1, new float[] {1f});

        assertThat(event.withLabel(0).label()).isEqualTo(0.0);
        assertThat(event.isLabeled()).isFalse();
    }

    @Test
    void eventsNeedAnIdAKeyAndFeatures() {
        assertThatThrownBy(() -> new Event(null, "k", 1, new float[1]))
                .hasMessage("event id must not be null");
        assertThatThrownBy(() -> new Event("a", null, 1, new float[1]))
                .hasMessageContaining("Event.DEFAULT_KEY");
        assertThatThrownBy(() -> new Event("a", "k", 1, null))
                .hasMessage("event features must not be null");
    }

    @Test
    void parsedResultsMapAcceptedValuesAndPassRejectionsThrough() {
        Parsed<Integer> accepted = Parsed.accepted(2);
        Parsed<Integer> rejected = Parsed.rejected("id is missing");

        assertThat(accepted.map(x -> x * 3)).isEqualTo(Parsed.accepted(6));
        assertThat(rejected.map(x -> x * 3)).isEqualTo(Parsed.rejected("id is missing"));
        assertThat(accepted.isAccepted()).isTrue();
        assertThat(rejected.isAccepted()).isFalse();
        assertThatThrownBy(rejected::orElseThrow)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("id is missing");
    }

    @Test
    void aRejectionMustSayWhy() {
        assertThatThrownBy(() -> Parsed.rejected(" ")).hasMessage("a rejection needs a reason");
        assertThatThrownBy(() -> new DeadLetter("", "x", "events", 0, 0))
                .hasMessage("a dead letter needs a reason");
    }
}
