package io.kanstream.jobs.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything one {@code kanstream bench} run measured, as written to its JSON file. Other tools
 * read that file: field names are snake_case forms of the component names below ({@code
 * trainSamplesPerS} → {@code train_samples_per_s}), rates are per second of wall time unless the
 * name says {@code cpu}, latencies are per call in milliseconds, memory is in MiB.
 *
 * @param model one row per shape and batch
 * @param pipeline broker → job → broker figures per key count, beside the pass-through job; empty
 *     when the run left the part out
 * @param state bytes per key and checkpoint durations; empty when the run left the part out
 * @param steady many keys once each has its model, per state backend, beside the pass-through job;
 *     empty when the run left the part out
 * @param memory process memory over the run
 * @param flops arithmetic per sample against the measured peak
 * @param ops PyTorch ops per call, from PyTorch's profiler
 * @param efficientKanReference the fixed efficient-kan figures the ratios are taken against
 * @param checks issue 6's "must show" targets for the model part
 * @param machine where and how it ran
 * @param date when the run started, ISO-8601 UTC
 * @param command the command line that produced it
 * @param mode quick or full
 * @param durationS wall seconds of the whole run
 * @param notes what a reader must know to read the figures
 */
public record BenchReport(
        List<ModelRow> model,
        List<PipelineBench.Row> pipeline,
        List<PipelineBench.StateRow> state,
        List<PipelineBench.SteadyRow> steady,
        Memory memory,
        Flops flops,
        List<OpsRow> ops,
        EfficientKanRows efficientKanReference,
        List<Check> checks,
        Machine machine,
        String date,
        String command,
        String mode,
        double durationS,
        List<String> notes) {

    /**
     * Training ({@code KanLearner.learn}, regression on random data) and scoring ({@code
     * KanLearner.outputs}) of one shape and batch, beside the autograd baseline timed in the same
     * rounds.
     *
     * @param layers widths, input first, e.g. {@code 8,16,1}
     * @param batch rows per call
     * @param trainMinorFaultsPerCall page faults per training call: above a few, the native
     *     allocator is handing memory back to the OS and faulting it in again on every op
     * @param cpuFraction thread CPU time ÷ wall time over the four workloads; well below 1 means
     *     other processes held the cores and the wall-time rates understate the code
     * @param baselineMaxAbsDiff largest |learner − baseline| output on one batch before training:
     *     both compute the same function
     * @param efficientKanTrainSamplesPerS reference figure, not measured in this run (null if none)
     * @param peerTrainSamplesPerS efficient-kan on PyTorch ({@link EfficientKanPeer}) measured in
     *     this run, in rounds interleaved with the learner's; this and every other {@code peer}
     *     field null when the peer did not run
     * @param trainRatioVsPeer learner ÷ peer, wall rates; {@code trainCpuRatioVsPeer} the same per
     *     second of each process's thread CPU time
     * @param peerMaxAbsDiff largest |learner − peer| output on one batch before training: both
     *     compute the same function from the same parameters
     * @param rssStartMb process resident set before this row's learner and baseline were built
     * @param rssWarmMb after their warm-up
     * @param rssMb after the timed rounds, before they were closed: growth from warm to here is
     *     what thousands of steady-state calls added (native leaks, but also Java heap pages
     *     touched for the first time)
     */
    public record ModelRow(
            String layers,
            int batch,
            double trainSamplesPerS,
            double scoreSamplesPerS,
            double trainP50Ms,
            double trainP99Ms,
            double scoreP50Ms,
            double scoreP99Ms,
            double trainCpuSamplesPerS,
            double scoreCpuSamplesPerS,
            double autogradTrainSamplesPerS,
            double autogradScoreSamplesPerS,
            double autogradTrainP50Ms,
            double autogradTrainP99Ms,
            double autogradScoreP50Ms,
            double autogradScoreP99Ms,
            double autogradTrainCpuSamplesPerS,
            double autogradScoreCpuSamplesPerS,
            double trainRatioVsAutograd,
            double scoreRatioVsAutograd,
            Double efficientKanTrainSamplesPerS,
            Double efficientKanScoreSamplesPerS,
            Double trainRatioVsEfficientKan,
            Double scoreRatioVsEfficientKan,
            Double trainCpuRatioVsEfficientKan,
            Double scoreCpuRatioVsEfficientKan,
            long trainCalls,
            long scoreCalls,
            long autogradTrainCalls,
            long autogradScoreCalls,
            long trainSkippedSteps,
            double trainMinorFaultsPerCall,
            double scoreMinorFaultsPerCall,
            double cpuFraction,
            double baselineMaxAbsDiff,
            double rssStartMb,
            double rssWarmMb,
            double rssMb,
            Double peerTrainSamplesPerS,
            Double peerScoreSamplesPerS,
            Double peerTrainP50Ms,
            Double peerScoreP50Ms,
            Double peerTrainCpuSamplesPerS,
            Double peerScoreCpuSamplesPerS,
            Double trainRatioVsPeer,
            Double scoreRatioVsPeer,
            Double trainCpuRatioVsPeer,
            Double scoreCpuRatioVsPeer,
            Double peerMaxAbsDiff) {}

    /**
     * @param convention how FLOPs are counted (see {@link FlopCount})
     * @param peakMatmulSize n of the (n, n) × (n, n) products timed
     * @param peakGflopsOneThread matMul GFLOP/s at one intra-op thread, wall time
     * @param peakCpuGflopsOneThread the same per second of the thread's CPU time: one core's peak
     *     even while other processes share it
     * @param peakGflopsTwoThreads matMul GFLOP/s at two intra-op threads, wall time, as measured
     *     (low when other processes hold the cores)
     * @param twoCoreCapacityGflops what two cores can do: the larger of the two-thread figure and
     *     twice one core's peak
     * @param trivialOpMicros wall µs of one 1-element {@code add}: the floor every NDArray op pays
     * @param rows per shape and batch
     */
    public record Flops(
            String convention,
            int peakMatmulSize,
            double peakGflopsOneThread,
            double peakCpuGflopsOneThread,
            double peakGflopsTwoThreads,
            double twoCoreCapacityGflops,
            double trivialOpMicros,
            List<FlopRow> rows) {}

    /**
     * Achieved GFLOP/s are FLOP per sample × samples per second; {@code cpu} ones use samples per
     * second of thread CPU time, and the fractions use those, so that load from other processes
     * does not count against the code.
     *
     * @param scoreFractionOfCorePeak scoring GFLOP/s per CPU-second ÷ one core's matMul peak
     * @param scoreFractionOfTwoCores the same ÷ two cores' capacity
     */
    public record FlopRow(
            String layers,
            int batch,
            double forwardFlopsPerSample,
            double trainFlopsPerSample,
            Map<String, Double> forwardBreakdown,
            Map<String, Double> trainBreakdown,
            double scoreGflops,
            double trainGflops,
            double scoreCpuGflops,
            double trainCpuGflops,
            double autogradScoreCpuGflops,
            double autogradTrainCpuGflops,
            double scoreFractionOfCorePeak,
            double trainFractionOfCorePeak,
            double scoreFractionOfTwoCores,
            double trainFractionOfTwoCores) {}

    /**
     * @param peakVmHwmMb VmHWM after the model rows: peak resident set of learner, baseline and JVM
     * @param phases readings along the run
     */
    public record Memory(
            double peakVmHwmMb,
            double vmRssMb,
            double heapUsedMb,
            double heapPeakMb,
            double heapCommittedMb,
            List<MemoryProbe.Reading> phases) {}

    /**
     * @param workload {@code learner train}, {@code learner score}, {@code autograd train} or
     *     {@code autograd score}
     * @param opsPerCall top-level profiled events per call, exact: PyTorch ops plus, for autograd,
     *     the backward nodes its engine runs natively
     * @param backwardNodesPerCall of those, autograd-engine nodes (no Java in between)
     * @param cpuMicrosPerCall thread CPU µs per call in the timed rounds (not under the profiler)
     * @param microsPerOp CPU µs per call ÷ ops per call; 0 when a call runs no PyTorch op (scoring
     *     in Java on the CPU)
     * @param profiledOpShare share of the profiled wall time spent inside ops; the rest is Java,
     *     JNI and DJL bookkeeping (the profiler inflates both)
     * @param opsByName top-level ops per call, most frequent first
     */
    public record OpsRow(
            String layers,
            int batch,
            String workload,
            double opsPerCall,
            double backwardNodesPerCall,
            double cpuMicrosPerCall,
            double wallMicrosPerCall,
            double microsPerOp,
            double profiledOpShare,
            Map<String, Double> opsByName) {}

    public record EfficientKanRows(String source, List<EfficientKanReference.Figure> figures) {}

    /**
     * @param check what issue 6 asks, in words
     * @param measured the figure from this run
     * @param target the figure asked for
     * @param pass whether measured meets target
     * @param cpuFraction of the model row it comes from: below 0.9 the figure was measured while
     *     other processes held the cores, and says little about the code; null for pipeline checks
     */
    public record Check(
            String check,
            double measured,
            double target,
            String unit,
            boolean pass,
            Double cpuFraction) {}

    /**
     * This report with the pipeline and state parts: their rows, their checks after the model's,
     * their notes after the model's.
     */
    public BenchReport withPipeline(
            List<PipelineBench.Row> pipelineRows,
            List<PipelineBench.StateRow> stateRows,
            List<Check> moreChecks,
            List<String> moreNotes,
            double totalDurationS) {
        return with(pipelineRows, stateRows, steady, moreChecks, moreNotes, totalDurationS);
    }

    /** This report with the steady rows, their checks after the others. */
    public BenchReport withSteady(
            List<PipelineBench.SteadyRow> steadyRows, List<Check> moreChecks) {
        return with(pipeline, state, steadyRows, moreChecks, List.of(), durationS);
    }

    /** This report with the pipeline's parts replaced, and checks and notes added after its own. */
    private BenchReport with(
            List<PipelineBench.Row> pipelineRows,
            List<PipelineBench.StateRow> stateRows,
            List<PipelineBench.SteadyRow> steadyRows,
            List<Check> moreChecks,
            List<String> moreNotes,
            double totalDurationS) {
        return new BenchReport(
                model,
                List.copyOf(pipelineRows),
                List.copyOf(stateRows),
                List.copyOf(steadyRows),
                memory,
                flops,
                ops,
                efficientKanReference,
                java.util.stream.Stream.concat(checks.stream(), moreChecks.stream()).toList(),
                machine,
                date,
                command,
                mode,
                totalDurationS,
                java.util.stream.Stream.concat(notes.stream(), moreNotes.stream()).toList());
    }

    /**
     * @param loadAverageStart /proc/loadavg at the start: other work on the cores
     * @param kanOperators where the benchmarked KAN code was loaded from, and its modification time
     * @param allocatorSettings the environment that tunes glibc's malloc ({@code GLIBC_TUNABLES},
     *     {@code MALLOC_*}, {@code LD_PRELOAD}); large batches depend on it
     * @param peer the efficient-kan peer of this run (Python, torch, threads), or why none ran
     */
    public record Machine(
            String cpu,
            int availableProcessors,
            String os,
            String java,
            String djl,
            int torchThreads,
            int torchInteropThreads,
            String loadAverageStart,
            String loadAverageEnd,
            String kanOperators,
            String allocatorSettings,
            String gitCommit,
            String peer) {}

    /** The mapper that writes (and reads) the report: snake_case, nulls kept, indented. */
    public static ObjectMapper mapper() {
        return new ObjectMapper()
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .setSerializationInclusion(JsonInclude.Include.ALWAYS)
                .enable(SerializationFeature.INDENT_OUTPUT);
    }

    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        mapper().writeValue(file.toFile(), this);
    }
}
