package io.kanstream.kan;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/**
 * The {@code auto|cpu|gpu[:N]} setting. {@code auto} takes a GPU when the engine sees one and the
 * CPU otherwise; {@code gpu} fails loudly when there is none rather than running slowly on the CPU
 * without saying so.
 */
public final class DeviceSetting {
    private DeviceSetting() {}

    /** Validates the text without touching the engine. */
    static void parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("device must be auto, cpu, gpu or gpu:N");
        }
        String value = text.trim().toLowerCase(Locale.ROOT);
        if (value.equals("auto") || value.equals("cpu") || value.equals("gpu")) {
            return;
        }
        if (value.startsWith("gpu:")) {
            try {
                if (Integer.parseInt(value.substring(4)) >= 0) {
                    return;
                }
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException(
                "device '" + text + "' is not one of auto, cpu, gpu, gpu:N (N a GPU index)");
    }

    private static volatile int gpuCount = -1;

    /** The engine's GPU count, asked once per JVM: asking costs a CUDA probe every time. */
    private static int gpus() {
        int count = gpuCount;
        if (count < 0) {
            count = Engine.getEngine("PyTorch").getGpuCount();
            gpuCount = count;
        }
        return count;
    }

    /** The last setting resolved and what it resolved to: every decoded learner asks again. */
    private record Resolved(String text, Device device) {}

    private static volatile Resolved last;

    /** Resolves the setting against the PyTorch engine. */
    public static Device resolve(String text) {
        Resolved known = last;
        if (known != null && known.text.equals(text)) {
            return known.device;
        }
        Device device = resolveAnew(text);
        last = new Resolved(text, device);
        return device;
    }

    private static Device resolveAnew(String text) {
        parse(text);
        String value = text.trim().toLowerCase(Locale.ROOT);
        if (value.equals("cpu")) {
            return Device.cpu();
        }
        int gpus = gpus();
        if (value.equals("auto")) {
            return gpus > 0 ? Device.gpu(0) : Device.cpu();
        }
        int index = value.equals("gpu") ? 0 : Integer.parseInt(value.substring(4));
        if (index >= gpus) {
            throw new IllegalArgumentException(
                    "device '"
                            + text
                            + "' asked for GPU "
                            + index
                            + " but the PyTorch engine sees "
                            + gpus
                            + " GPU(s); use cpu or auto, or install a CUDA native library (the"
                            + " gpu Maven profile)");
        }
        return Device.gpu(index);
    }
}
