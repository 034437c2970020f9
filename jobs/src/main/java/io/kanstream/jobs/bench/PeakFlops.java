package io.kanstream.jobs.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;

/**
 * What the cores can do, measured in the run: a large single-precision matMul through the same DJL
 * and PyTorch (the best case for arithmetic: BLAS, cache-blocked, vectorized), and the cost of one
 * trivial NDArray op (the floor every op pays, whatever its size).
 */
final class PeakFlops {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private PeakFlops() {}

    /**
     * @param gflops 2n³ per product over wall time
     * @param cpuGflops over the calling thread's CPU time (one thread only: other threads' CPU time
     *     is not seen)
     */
    record Peak(int size, int threads, double gflops, double cpuGflops, int products) {}

    /** Times (n, n) × (n, n) products at {@code threads} intra-op threads, then restores them. */
    static Peak matMul(int size, int threads, Duration time) {
        int saved = JniUtils.getNumThreads();
        JniUtils.setNumThreads(threads);
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray a = manager.randomUniform(-1, 1, new Shape(size, size));
            NDArray b = manager.randomUniform(-1, 1, new Shape(size, size));
            for (int warm = 0; warm < 3; warm++) {
                product(a, b);
            }
            long cpuStart = THREADS.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            long deadline = start + time.toNanos();
            int products = 0;
            do {
                product(a, b);
                products++;
            } while (System.nanoTime() < deadline);
            double wall = (System.nanoTime() - start) / 1e9;
            double cpu = (THREADS.getCurrentThreadCpuTime() - cpuStart) / 1e9;
            double flops = 2.0 * size * size * size * products;
            return new Peak(size, threads, flops / wall / 1e9, flops / cpu / 1e9, products);
        } finally {
            JniUtils.setNumThreads(saved);
        }
    }

    private static void product(NDArray a, NDArray b) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            a.matMul(b);
        }
    }

    /** µs of wall time per {@code add} of two 1-element arrays, including closing its result. */
    static double trivialOpMicros(Duration time) {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray a = manager.create(new float[] {1f});
            NDArray b = manager.create(new float[] {2f});
            for (int warm = 0; warm < 20_000; warm++) {
                a.add(b).close();
            }
            long start = System.nanoTime();
            long deadline = start + time.toNanos();
            long ops = 0;
            do {
                for (int q = 0; q < 1000; q++) {
                    a.add(b).close();
                }
                ops += 1000;
            } while (System.nanoTime() < deadline);
            return (System.nanoTime() - start) / 1e3 / ops;
        }
    }
}
