package io.kanstream.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryTableTest {
    @TempDir Path temp;

    private static HistoryTable.Options timed(String keyColumn) {
        return new HistoryTable.Options("label", keyColumn, "time", Set.of(), null, null);
    }

    /**
     * An export sorted by key, then time (as a per-card dump is), with the keys' events a second
     * apart at today's epoch milliseconds: read as a float32 those times round to steps of 131
     * seconds, and the stable sort would leave each key's rows in one block.
     */
    @Test
    void epochMillisecondsAreReadExactlySoAnExportSortedByKeyReplaysInTimeOrder() throws Exception {
        long start = 1_732_780_800_000L;
        List<String> lines = new ArrayList<>(List.of("time,card,x,label"));
        for (String card : List.of("a", "b")) {
            for (int i = 0; i < 50; i++) {
                long t = start + 2_000L * i + (card.equals("a") ? 0 : 1_000);
                lines.add(t + "," + card + "," + i + "," + (i % 2));
            }
        }
        Path csv = temp.resolve("cards.csv");
        Files.write(csv, lines);

        HistoryTable table = HistoryTable.read(csv, timed("card"));

        assertThat(table.rows()).hasSize(100);
        for (int r = 0; r < table.rows().size(); r++) {
            HistoryRow row = table.rows().get(r);
            assertThat(row.ts()).as("row %d", r).isEqualTo(start + 1_000L * r);
            assertThat(row.key()).as("row %d", r).isEqualTo(r % 2 == 0 ? "a" : "b");
            assertThat(row.index()).isEqualTo(r);
        }
    }

    @Test
    void isoDateTimesAreTimesInEveryCommonForm() throws Exception {
        Path csv = temp.resolve("iso.csv");
        Files.writeString(
                csv,
                "time,x,label\n"
                        + "2024-11-28T08:00:00.500Z,4,1\n"
                        + "2024-11-28T09:00:00.250+01:00,3,0\n"
                        + "2024-11-28 08:00:00,2,1\n"
                        + "2024-11-28,1,0\n"
                        + "1732780800001,5,1\n");

        HistoryTable table = HistoryTable.read(csv, timed(null));

        long eight = 1_732_780_800_000L;
        assertThat(table.rows())
                .extracting(HistoryRow::ts)
                .containsExactly(
                        eight - 8 * 3_600_000L, eight, eight + 1, eight + 250, eight + 500);
        assertThat(table.rows())
                .extracting(row -> row.features()[0])
                .containsExactly(1f, 2f, 5f, 3f, 4f);
    }

    @Test
    void aBadTimeNamesTheFileLineColumnAndTheFormsItTakes() throws Exception {
        Path csv = temp.resolve("bad-time.csv");
        Files.writeString(csv, "time,x,label\n1000,1,0\nyesterday,2,1\n");

        assertThatThrownBy(() -> HistoryTable.read(csv, timed(null)))
                .hasMessageContaining("bad-time.csv line 3, time column time: 'yesterday' is not")
                .hasMessageContaining("epoch milliseconds or an ISO-8601 date-time");
    }

    @Test
    void aTextFeatureSaysHowToLeaveItsColumnOut() throws Exception {
        Path csv = temp.resolve("merchants.csv");
        Files.writeString(csv, "amount,merchant,label\n31.4,travel,1\n");

        assertThatThrownBy(
                        () ->
                                HistoryTable.read(
                                        csv,
                                        new HistoryTable.Options(
                                                "label", null, null, Set.of(), null, null)))
                .hasMessageContaining("line 2, column merchant: 'travel' is not a number")
                .hasMessageContaining("--exclude-columns merchant");
        assertThat(
                        HistoryTable.read(
                                        csv,
                                        new HistoryTable.Options(
                                                "label",
                                                null,
                                                null,
                                                Set.of("merchant"),
                                                null,
                                                null))
                                .featureNames())
                .containsExactly("amount");
    }

    @Test
    void rowsWithAnEmptyOrNonFiniteFeatureAreLeftOutCountedAndNamedAsTheLiveJobWould()
            throws Exception {
        Path csv = temp.resolve("gaps.csv");
        Files.writeString(
                csv,
                "amount,hour,label\n"
                        + "31.4,13,1\n"
                        + ",2,0\n"
                        + "12.0,NaN,1\n"
                        + "5.5,1e39,0\n"
                        + "7.25,4,\n"
                        + "8.0,-Infinity,1\n"
                        + "9.0,5,0\n");

        HistoryTable table =
                HistoryTable.read(
                        csv, new HistoryTable.Options("label", null, null, Set.of(), null, null));

        assertThat(table.rows())
                .extracting(row -> row.features()[0])
                .containsExactly(31.4f, 7.25f, 9.0f);
        assertThat(table.rows().get(1).labeled()).as("an empty label: unlabeled").isFalse();
        assertThat(table.leftOut()).isEqualTo(4);
        assertThat(table.leftOutReasons())
                .containsExactly(
                        csv + " line 3, column amount: empty",
                        csv + " line 4, column hour: 'NaN'",
                        csv + " line 5, column hour: '1e39'");
        assertThat(table.leftOutNote())
                .startsWith("4 of 7 rows have an empty or non-finite feature");

        Path none = temp.resolve("none.csv");
        Files.writeString(none, "amount,label\n,1\nNaN,0\n");
        assertThatThrownBy(
                        () ->
                                HistoryTable.read(
                                        none,
                                        new HistoryTable.Options(
                                                "label", null, null, Set.of(), null, null)))
                .hasMessageContaining("every row of")
                .hasMessageContaining("line 2, column amount: empty");
    }

    /** As a spreadsheet saves "CSV UTF-8": a byte-order mark before the header, CRLF lines. */
    @Test
    void aByteOrderMarkIsNotPartOfTheFirstColumnsName() throws Exception {
        Path csv = temp.resolve("excel.csv");
        Files.write(
                csv,
                "\uFEFFtime,x,label\r\n2,0.5,1\r\n1,0.25,0\r\n"
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Path jsonl = temp.resolve("excel.jsonl");
        Files.write(
                jsonl,
                "\uFEFF{\"time\": 2, \"x\": 0.5, \"label\": 1}\n{\"time\": 1, \"x\": 0.25, \"label\": 0}\n"
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));

        for (Path file : List.of(csv, jsonl)) {
            HistoryTable table = HistoryTable.read(file, timed(null));
            assertThat(table.featureNames()).as(file.toString()).containsExactly("x");
            assertThat(table.rows()).extracting(HistoryRow::ts).containsExactly(1L, 2L);
        }
    }
}
