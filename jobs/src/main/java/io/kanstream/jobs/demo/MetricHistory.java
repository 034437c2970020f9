package io.kanstream.jobs.demo;

import io.kanstream.stream.Metric;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each key went through, from its committed metric records: the first record, the one before
 * and at its first drift signal, the newest; what the demo's live view and its summary print.
 * Records replayed after a restore (fewer labels than the newest) are skipped.
 */
final class MetricHistory {
    private final Map<String, KeyTrack> keys = new TreeMap<>();

    boolean isEmpty() {
        return keys.isEmpty();
    }

    /** Takes a record; returns a line worth printing at once (a drift, a refit), or null. */
    String add(Metric m) {
        KeyTrack k = keys.get(m.key());
        if (k == null) {
            keys.put(m.key(), new KeyTrack(m));
            return null;
        }
        return k.add(m);
    }

    /** Events the records report scored, summed over keys; -1 before the first record. */
    long eventsReported() {
        return keys.isEmpty() ? -1 : keys.values().stream().mapToLong(k -> k.last.events()).sum();
    }

    /** The live view's per-key lines: labels, steps, first and current figure, grid epoch. */
    void printStatus(PrintStream out, String indent) {
        long labeled = 0;
        long steps = 0;
        for (KeyTrack k : keys.values()) {
            labeled += k.last.labeled();
            steps += k.last.steps();
        }
        out.printf(Locale.ROOT, "%slearned from %,d labels in %,d steps%n", indent, labeled, steps);
        String metric = keys.values().iterator().next().last.metricName();
        out.printf(
                "%s%-8s %8s %6s  %9s -> %-7s %9s %5s%n",
                indent, "key", "labeled", "steps", metric + "@1st", "now", "no-change", "grid");
        for (KeyTrack k : keys.values()) {
            Metric last = k.last;
            String state = last.drift() ? "  DRIFT: adapting" : (k.drifts > 0 ? "  recovered" : "");
            out.printf(
                    Locale.ROOT,
                    "%s%-8s %,8d %,6d  %9s -> %-7s %9s %5d%s%n",
                    indent,
                    k.key,
                    last.labeled(),
                    last.steps(),
                    fmt(k.first.metricValue()),
                    fmt(last.metricValue()),
                    fmt(last.baselineValue()),
                    last.gridEpoch(),
                    state);
        }
    }

    /**
     * The end-of-run summary: per key the rolling figure first, before and at the drift, last; then
     * whether the models learned and recovered. False when there is no record at all.
     */
    boolean printSummary(PrintStream out) {
        if (keys.isEmpty()) {
            out.println(
                    "No metric record was committed: a key reports after every --metrics-every"
                            + " labels, visible once the next checkpoint commits (stopped too"
                            + " early, or see the job's log).");
            return false;
        }
        String metric = keys.values().iterator().next().last.metricName();
        boolean lowerIsBetter = Metric.RMSE.equals(metric);
        out.printf(
                "Rolling %s per key, each over the key's labeled events since its previous record,"
                        + " scored before the model learned from them (%s is better):%n",
                metric, lowerIsBetter ? "lower" : "higher");
        out.printf(
                "  %-8s %8s %6s  %7s %13s %9s %7s %10s %7s %7s%n",
                "key",
                "labeled",
                "steps",
                "first",
                "before drift",
                "at drift",
                "last",
                "no-change",
                "drifts",
                "refits");
        Totals all = new Totals();
        Totals drifted = new Totals();
        int better = 0;
        int learnedBefore = 0;
        int recovering = 0;
        for (KeyTrack k : keys.values()) {
            Metric last = k.lastFull();
            out.printf(
                    Locale.ROOT,
                    "  %-8s %,8d %,6d  %7s %13s %9s %7s %10s %7d %7d%n",
                    k.key,
                    k.last.labeled(),
                    k.last.steps(),
                    fmt(k.first.metricValue()),
                    k.beforeDrift == null ? "-" : fmt(k.beforeDrift.metricValue()),
                    k.atDrift == null ? "-" : fmt(k.atDrift.metricValue()),
                    fmt(last.metricValue()),
                    fmt(last.baselineValue()),
                    k.drifts,
                    k.last.gridEpoch());
            if (better(lowerIsBetter, last.metricValue(), k.first.metricValue())) {
                better++;
            }
            all.add(k.first, null, null, last);
            if (k.atDrift != null) {
                drifted.add(k.first, k.beforeDrift, k.atDrift, last);
                if (better(lowerIsBetter, k.beforeDrift.metricValue(), k.first.metricValue())) {
                    learnedBefore++;
                }
                if (better(lowerIsBetter, last.metricValue(), k.atDrift.metricValue())) {
                    recovering++;
                }
            }
        }
        int n = keys.size();
        out.printf(
                Locale.ROOT,
                "%s: on %d of %d keys the last rolling %s is better than the first (mean %s -> %s).%n",
                better == n
                        ? "The models learned"
                        : better > 0 ? "Partly learned" : "Not better yet",
                better,
                n,
                metric,
                fmt(all.first / n),
                fmt(all.last / n));
        if (drifted.count > 0) {
            int d = drifted.count;
            out.printf(
                    Locale.ROOT,
                    "Drift: the detector fired on %d of %d keys. Up to its first signal those"
                            + " models had improved on %d (mean %s -> %s); at the signal they stood"
                            + " at %s, and since then they improved on %d (now %s).%n",
                    d,
                    n,
                    learnedBefore,
                    fmt(drifted.first / d),
                    fmt(drifted.before / d),
                    fmt(drifted.at / d),
                    recovering,
                    fmt(drifted.last / d));
        }
        return true;
    }

    private static final class Totals {
        int count;
        double first;
        double before;
        double at;
        double last;

        void add(Metric first, Metric before, Metric at, Metric last) {
            count++;
            this.first += first.metricValue();
            this.before += before == null ? 0 : before.metricValue();
            this.at += at == null ? 0 : at.metricValue();
            this.last += last.metricValue();
        }
    }

    private static boolean better(boolean lowerIsBetter, double a, double b) {
        return lowerIsBetter ? a < b : a > b;
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static final class KeyTrack {
        final String key;
        final Metric first;
        final List<Metric> history = new ArrayList<>();
        Metric last;
        Metric beforeDrift;
        Metric atDrift;
        int drifts;
        long maxSamples;

        KeyTrack(Metric first) {
            this.key = first.key();
            this.first = first;
            this.last = first;
            history.add(first);
            maxSamples = first.metricSamples();
            if (first.drift()) {
                drifts = 1;
                atDrift = first;
            }
        }

        String add(Metric m) {
            if (m.labeled() < last.labeled()) {
                return null; // a record replayed after a restore: already counted
            }
            Metric previous = last;
            last = m;
            history.add(m);
            maxSamples = Math.max(maxSamples, m.metricSamples());
            List<String> said = new ArrayList<>();
            if (m.drift() && !previous.drift()) {
                drifts++;
                if (atDrift == null) {
                    atDrift = m;
                    beforeDrift = previous;
                }
                said.add(
                        String.format(
                                Locale.ROOT,
                                "!! drift on %s at %,d labels: rolling %s %s -> %s",
                                key,
                                m.labeled(),
                                m.metricName(),
                                fmt(previous.metricValue()),
                                fmt(m.metricValue())));
            } else if (!m.drift() && previous.drift()) {
                said.add(
                        String.format(
                                Locale.ROOT,
                                "   %s: drift signal over at %,d labels, rolling %s %s",
                                key,
                                m.labeled(),
                                m.metricName(),
                                fmt(m.metricValue())));
            }
            if (m.gridEpoch() > previous.gridEpoch()) {
                said.add(
                        said.isEmpty()
                                ? String.format(
                                        Locale.ROOT,
                                        "   grid refit on %s at %,d labels -> grid epoch %d",
                                        key,
                                        m.labeled(),
                                        m.gridEpoch())
                                : "; grids refit -> grid epoch " + m.gridEpoch());
            }
            return said.isEmpty() ? null : String.join("", said);
        }

        /** The newest record over a full window (a drift makes the operator report early). */
        Metric lastFull() {
            for (int i = history.size() - 1; i >= 0; i--) {
                if (history.get(i).metricSamples() * 2 >= maxSamples) {
                    return history.get(i);
                }
            }
            return last;
        }
    }
}
