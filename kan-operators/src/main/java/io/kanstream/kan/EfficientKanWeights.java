package io.kanstream.kan;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * efficient-kan's {@code state_dict}, saved with numpy as {@code .npz}: per layer N the arrays
 * {@code layers.N.grid} (in, G+2k+1), {@code layers.N.base_weight} (out, in), {@code
 * layers.N.spline_weight} (out, in, G+k) and {@code layers.N.spline_scaler} (out, in), float32. The
 * shapes give the layer sizes, G and k; nothing else is needed.
 */
public final class EfficientKanWeights {
    private static final String[] NAMES = {"grid", "base_weight", "spline_weight", "spline_scaler"};

    private EfficientKanWeights() {}

    /** Reads the layers of an efficient-kan state dict. */
    public static List<LayerParameters> read(Path file) throws IOException {
        Map<String, float[]> values = new HashMap<>();
        Map<String, Shape> shapes = new HashMap<>();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                InputStream in = Files.newInputStream(file)) {
            NDList arrays;
            try {
                arrays = NDList.decode(manager, in);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        file + " is not a numpy .npz archive: " + e.getMessage(), e);
            }
            for (NDArray array : arrays) {
                String name = array.getName() == null ? "" : array.getName();
                shapes.put(name, array.getShape());
                values.put(name, array.toType(DataType.FLOAT32, false).toFloatArray());
            }
        }
        List<LayerParameters> layers = new ArrayList<>();
        for (int l = 0; values.containsKey("layers." + l + ".grid"); l++) {
            for (String suffix : NAMES) {
                if (!values.containsKey("layers." + l + "." + suffix)) {
                    throw new IllegalArgumentException(
                            file + " has layers." + l + ".grid but no layers." + l + "." + suffix);
                }
            }
            layers.add(layer(file, l, values, shapes));
        }
        if (layers.isEmpty()) {
            throw new IllegalArgumentException(
                    file
                            + " holds no efficient-kan layers: expected arrays named layers.0.grid,"
                            + " layers.0.base_weight, ...; found "
                            + shapes.keySet());
        }
        for (int l = 1; l < layers.size(); l++) {
            if (layers.get(l).in() != layers.get(l - 1).out()) {
                throw new IllegalArgumentException(
                        file
                                + ": layer "
                                + (l - 1)
                                + " has "
                                + layers.get(l - 1).out()
                                + " outputs but layer "
                                + l
                                + " has "
                                + layers.get(l).in()
                                + " inputs");
            }
        }
        return layers;
    }

    private static LayerParameters layer(
            Path file, int l, Map<String, float[]> values, Map<String, Shape> shapes) {
        String prefix = "layers." + l + ".";
        Shape base = shapes.get(prefix + "base_weight");
        Shape spline = shapes.get(prefix + "spline_weight");
        Shape grid = shapes.get(prefix + "grid");
        Shape scaler = shapes.get(prefix + "spline_scaler");
        if (base.dimension() != 2 || spline.dimension() != 3 || grid.dimension() != 2) {
            throw new IllegalArgumentException(
                    file
                            + " "
                            + prefix
                            + "*: expected base_weight (out, in), spline_weight (out, in,"
                            + " G+k), grid (in, G+2k+1); got "
                            + base
                            + ", "
                            + spline
                            + ", "
                            + grid);
        }
        int out = (int) base.get(0);
        int in = (int) base.get(1);
        int coefficients = (int) spline.get(2);
        int k = (int) grid.get(1) - coefficients - 1;
        int g = coefficients - k;
        if (spline.get(0) != out
                || spline.get(1) != in
                || grid.get(0) != in
                || k < 0
                || g < 1
                || !scaler.equals(new Shape(out, in))) {
            throw new IllegalArgumentException(
                    file
                            + " "
                            + prefix
                            + "*: shapes do not fit together: base_weight "
                            + base
                            + ", spline_weight "
                            + spline
                            + ", spline_scaler "
                            + scaler
                            + ", grid "
                            + grid
                            + " (expected (out, in), (out, in, G+k), (out, in),"
                            + " (in, G+2k+1))");
        }
        KnotGrid knotGrid;
        try {
            knotGrid = KnotGrid.fromFlat(values.get(prefix + "grid"), in, g, k);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " " + prefix + "grid: " + e.getMessage(), e);
        }
        try {
            return new LayerParameters(
                    knotGrid,
                    values.get(prefix + "base_weight"),
                    values.get(prefix + "spline_weight"),
                    values.get(prefix + "spline_scaler"),
                    out);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " " + prefix + e.getMessage(), e);
        }
    }

    /**
     * A learner from efficient-kan weights: no input normalization (the first layer expects inputs
     * as they come), no logit bound or calibration (it computes exactly what efficient-kan
     * computed), fresh optimizer state.
     *
     * @param settings optimizer and refit settings; layers, G and k come from the file
     * @param task what the outputs mean; null infers regression for one output and multiclass for
     *     several
     */
    public static KanLearner importLearner(Path file, KanConfig.Builder settings, Task task)
            throws IOException {
        List<LayerParameters> layers = read(file);
        List<Integer> widths = new ArrayList<>();
        widths.add(layers.get(0).in());
        for (LayerParameters p : layers) {
            widths.add(p.out());
        }
        KnotGrid first = layers.get(0).grid();
        for (int l = 1; l < layers.size(); l++) {
            KnotGrid grid = layers.get(l).grid();
            if (grid.gridSize() != first.gridSize() || grid.splineOrder() != first.splineOrder()) {
                throw new IllegalArgumentException(
                        file
                                + ": layer "
                                + l
                                + " has G="
                                + grid.gridSize()
                                + ", k="
                                + grid.splineOrder()
                                + " but layer 0 has G="
                                + first.gridSize()
                                + ", k="
                                + first.splineOrder()
                                + "; kanstream needs one G and k per network");
            }
        }
        KanConfig config =
                settings.layers(widths)
                        .gridSize(first.gridSize())
                        .splineOrder(first.splineOrder())
                        .normalize(false)
                        .logitBound(0)
                        .task(
                                task != null
                                        ? task
                                        : widths.get(widths.size() - 1) == 1
                                                ? Task.REGRESSION
                                                : Task.MULTICLASS)
                        .build();
        return KanLearner.fromParameters(config, layers);
    }

    /** Writes the learner's layers with efficient-kan's names, shapes and float32. */
    public static void write(KanLearner learner, Path file) throws IOException {
        List<LayerParameters> layers = learner.parameters();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                OutputStream out = Files.newOutputStream(file)) {
            NDList arrays = new NDList();
            for (int l = 0; l < layers.size(); l++) {
                LayerParameters p = layers.get(l);
                int in = p.in();
                int c = p.grid().coefficients();
                int m = p.grid().knotCount();
                String prefix = "layers." + l + ".";
                arrays.add(
                        named(
                                manager.create(p.baseWeight(), new Shape(p.out(), in)),
                                prefix + "base_weight"));
                arrays.add(
                        named(
                                manager.create(p.splineWeight(), new Shape(p.out(), in, c)),
                                prefix + "spline_weight"));
                arrays.add(
                        named(
                                manager.create(p.splineScaler(), new Shape(p.out(), in)),
                                prefix + "spline_scaler"));
                arrays.add(
                        named(manager.create(p.grid().flat(), new Shape(in, m)), prefix + "grid"));
            }
            arrays.encode(out, NDList.Encoding.NPZ);
        }
    }

    private static NDArray named(NDArray array, String name) {
        array.setName(name);
        return array;
    }
}
