package io.kanstream.jobs.replay;

/**
 * One example of a historical stream, in replay order.
 *
 * @param index position after ordering by time (stable), 0-based
 * @param key the model key
 * @param ts event time (epoch ms, or whatever unit the time column uses)
 * @param features the model inputs, finite
 * @param label the label in the model's encoding (class index, 0/1, or value); NaN when the row has
 *     none
 */
public record HistoryRow(int index, String key, long ts, float[] features, double label) {
    public boolean labeled() {
        return !Double.isNaN(label);
    }
}
