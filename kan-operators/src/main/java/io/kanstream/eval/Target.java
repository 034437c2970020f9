package io.kanstream.eval;

import io.kanstream.kan.Task;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Locale;

/**
 * What a learner predicts: a real number, or one of {@code classes} classes numbered {@code 0 ..
 * classes-1}.
 *
 * @param task regression, binary or multiclass
 * @param classes 2 for binary, at least 2 for multiclass, 1 for regression
 */
public record Target(Task task, int classes) {

    public Target {
        if (task == null) {
            throw new IllegalArgumentException("target task must be set");
        }
        switch (task) {
            case REGRESSION -> {
                if (classes != 1) {
                    throw new IllegalArgumentException(
                            "a regression target has 1 output, got classes = " + classes);
                }
            }
            case BINARY -> {
                if (classes != 2) {
                    throw new IllegalArgumentException(
                            "a binary target has 2 classes, got classes = " + classes);
                }
            }
            case MULTICLASS -> {
                if (classes < 2) {
                    throw new IllegalArgumentException(
                            "a multiclass target needs at least 2 classes, got " + classes);
                }
            }
        }
    }

    public static Target regression() {
        return new Target(Task.REGRESSION, 1);
    }

    public static Target binary() {
        return new Target(Task.BINARY, 2);
    }

    public static Target multiclass(int classes) {
        return new Target(Task.MULTICLASS, classes);
    }

    public boolean isClassification() {
        return task != Task.REGRESSION;
    }

    /**
     * Checks a label and returns it as a class index (classification) or leaves it to the caller
     * (regression, returns -1).
     *
     * @throws IllegalArgumentException naming the label and what was expected
     */
    int checkLabel(double label) {
        if (!Double.isFinite(label)) {
            throw new IllegalArgumentException("label is " + label + ", expected a finite number");
        }
        if (task == Task.REGRESSION) {
            return -1;
        }
        if (label != Math.rint(label) || label < 0 || label >= classes) {
            throw new IllegalArgumentException(
                    "label is "
                            + label
                            + ", expected a class index in 0.."
                            + (classes - 1)
                            + " for this "
                            + task.name().toLowerCase(Locale.ROOT)
                            + " target");
        }
        return (int) label;
    }

    void write(DataOutput out) throws IOException {
        StateFormat.writeTask(out, task);
        out.writeInt(classes);
    }

    static Target read(DataInput in) throws IOException {
        Task task = StateFormat.readTask(in);
        int classes = in.readInt();
        try {
            return new Target(task, classes);
        } catch (IllegalArgumentException e) {
            throw new IOException("Corrupt state: " + e.getMessage(), e);
        }
    }
}
