package io.kanstream.jobs.replay;

import io.kanstream.eval.ClassificationFigures;
import io.kanstream.eval.ClassificationMetrics;
import io.kanstream.eval.MetricsConfig;
import io.kanstream.eval.MetricsSnapshot;
import io.kanstream.eval.Prediction;
import io.kanstream.eval.RegressionFigures;
import io.kanstream.eval.RegressionMetrics;
import io.kanstream.eval.Reliability;
import io.kanstream.kan.Task;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The prequential metrics of one model (the KAN or a baseline) on one stream, whatever the task,
 * with its figures under the names {@code summary.json} uses.
 */
final class ModelTrack {
    private final ClassificationMetrics classification;
    private final RegressionMetrics regression;
    private final Reliability reliability; // classification only, cumulative

    ModelTrack(Task task, int classes, MetricsConfig config) {
        if (task == Task.REGRESSION) {
            classification = null;
            regression = new RegressionMetrics(config);
            reliability = null;
        } else {
            classification = new ClassificationMetrics(Math.max(2, classes), config);
            regression = null;
            reliability = new Reliability(Math.max(2, classes));
        }
    }

    void add(double label, Prediction prediction) {
        if (classification != null) {
            classification.add((int) label, prediction);
            reliability.add((int) label, prediction);
        } else {
            regression.add(label, prediction);
        }
    }

    long examples() {
        return classification != null ? classification.examples() : regression.examples();
    }

    /** The headline metric's name: accuracy, or rmse for regression. */
    String headline() {
        return classification != null ? "accuracy" : "rmse";
    }

    /** The cumulative reliability diagram; null for regression. */
    Reliability.Diagram reliability() {
        return reliability != null ? reliability.snapshot() : null;
    }

    /** Cumulative figures. */
    Map<String, Double> cumulative() {
        return figures(false);
    }

    /** Sliding-window figures. */
    Map<String, Double> window() {
        return figures(true);
    }

    private Map<String, Double> figures(boolean window) {
        Map<String, Double> figures = new LinkedHashMap<>();
        if (classification != null) {
            MetricsSnapshot<ClassificationFigures> s = classification.snapshot();
            ClassificationFigures f = window ? s.window() : s.cumulative();
            figures.put("accuracy", f.accuracy());
            figures.put("kappa", f.kappa());
            figures.put("kappa_temporal", f.kappaTemporal());
            figures.put("log_loss", f.logLoss());
            figures.put("auc", f.auc());
            if (!window) {
                // Calibration is tracked cumulatively only: its bins need many examples each.
                figures.put("ece", reliability.ece());
            }
            figures.put("no_change_accuracy", f.noChangeAccuracy());
        } else {
            MetricsSnapshot<RegressionFigures> s = regression.snapshot();
            RegressionFigures f = window ? s.window() : s.cumulative();
            figures.put("rmse", f.rmse());
            figures.put("mae", f.mae());
            figures.put("r2", f.r2());
            figures.put("skill_vs_no_change", f.skillVsNoChange());
        }
        return figures;
    }
}
