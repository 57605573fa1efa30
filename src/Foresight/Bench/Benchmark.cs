using System.Diagnostics;
using System.Globalization;
using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Bench;

/// <summary>The machine's matrix-multiply peak through libtorch, for one dtype: FLOP/s of an n x n x n product (the median of its repeats).</summary>
public sealed record GemmPeak(string Dtype, int Size, double FlopsPerSecond);

/// <summary>
/// Training throughput of one method, from the median step time (the machine here is shared and noisy; a median
/// ignores a step that another process slowed). MFU is model FLOP/s over the measured fp32 peak (above 1 when the
/// model multiplies in bf16), <see cref="MfuOfBf16Peak"/> the same over the bf16 peak.
/// </summary>
public sealed record TrainingThroughput(string Method, int BatchSize, int Steps, double Seconds, double MedianStepSeconds, double SamplesPerSecond,
    double TokensPerSecond, double ModelFlopsPerExample, double ModelFlopsPerSecond, double Mfu, double MfuOfBf16Peak);

/// <summary>A model size of the bench's grid, written LxC or LxCxH (heads default to C / 32).</summary>
public sealed record BenchSize(int Layers, int Width, int Heads)
{
    /// <summary>The default (4 x 128), where bst plans (8 x 128) and the papers' (12 x 384, six heads as in Bachmann and Nagarajan's GPT).</summary>
    public static readonly IReadOnlyList<BenchSize> Grid = [new(4, 128, 4), new(8, 128, 4), new(12, 384, 6)];

    public static BenchSize Parse(string text)
    {
        var parts = text.Trim().Split('x');
        int[] numbers = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : -1).ToArray();
        if (parts.Length is < 2 or > 3 || numbers.Any(n => n < 0))
            throw new ConfigError("bench.sizes", $"'{text}' is not a size: write layers x width[x heads], e.g. 4x128 or 12x384x6");
        var size = new BenchSize(numbers[0], numbers[1], parts.Length == 3 ? numbers[2] : Math.Max(1, numbers[1] / 32));
        if (size.Width % size.Heads != 0) throw new ConfigError("bench.sizes", $"'{text}': width {size.Width} is not divisible by {size.Heads} heads");
        return size;
    }

    public override string ToString() => $"{Layers} x {Width}";
}

/// <summary>One model of the bench's grid: its training throughput against the peak it multiplies at, decoding, and peak memory.</summary>
public sealed record BenchRow(string Backbone, string Size, int Layers, int Width, int Heads, long Parameters, string Precision,
    GemmPeak Peak, TrainingThroughput Training, double ShareOfPeak, DecodingThroughput Decoding, long PeakResidentBytes, StepProfile? Profile);

/// <summary>Greedy decoding throughput: answer tokens written per second.</summary>
public sealed record DecodingThroughput(int Examples, double Seconds, double TokensPerSecond);

/// <summary>How long reverse (or another method) takes to reach the target exact match, counting everything: data, training, evaluations.</summary>
public sealed record TimeToSolve(string Method, double Target, bool Reached, double ExactMatch, long SamplesSeen, int Steps, double WallSeconds, double TrainSeconds);

/// <summary>One process's measurements: the anchors (multiply peaks) and what a method gets out of them.</summary>
public static class Benchmark
{
    public static GemmPeak Gemm(ScalarType dtype, int size = 2048, int repeats = 8)
    {
        using var scope = NewDisposeScope();
        var a = randn(size, size).to(dtype);
        var b = randn(size, size).to(dtype);
        for (int i = 0; i < 2; i++) a.matmul(b).Dispose(); // warm up the kernels and the allocator
        var seconds = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            a.matmul(b).Dispose();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return new GemmPeak(dtype.ToString().ToLowerInvariant(), size, 2.0 * size * size * size / StepProfiler.Median(seconds));
    }

    /// <summary>
    /// Times <paramref name="steps"/> optimizer steps after <paramref name="warmup"/> untimed ones, on fresh examples, at the
    /// config's batch size; then, with <paramref name="profileSteps"/> above 0, profiles that many more
    /// (<paramref name="scratch"/> holds perf's file meanwhile).
    /// </summary>
    public static TrainingThroughput Training(RunConfig config, int steps, int warmup, double fp32Peak, double bf16Peak, out ITrainingMethod trained,
        out StepProfile? profile, int profileSteps = 0, string? scratch = null)
    {
        var method = Trainer.BuildMethod(config);
        var parameters = method.Model.parameters().ToList();
        using var optimizer = Trainer.Optimizer(method.Model, config.Training);
        int batchSize = config.Training.BatchSize;
        using var data = TokenDataset.Generate(config.Task.Build(), (warmup + steps + profileSteps) * batchSize, SeededRandom.For(config.Training.Seed, "bench"));
        method.Model.train();
        int step = 0;
        void Step(StepPhases? phases)
        {
            using var scope = NewDisposeScope();
            Trainer.Step(method, optimizer, parameters, data.Slice(step * batchSize, batchSize) with { NoiseSeed = step }, config.Training.LearningRate, config.Training.GradientClip, phases);
            step++;
        }
        for (int i = 0; i < warmup; i++) Step(null);
        var seconds = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Step(null);
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        profile = profileSteps <= 0 ? null : StepProfiler.Profile(profileSteps, Step, scratch ?? Path.GetTempPath());
        double median = StepProfiler.Median(seconds), samplesPerSecond = batchSize / median;
        double flopsPerExample = ModelFlops.TrainingPerExample(method), flopsPerSecond = samplesPerSecond * flopsPerExample;
        trained = method;
        return new TrainingThroughput(config.Method, batchSize, steps, seconds.Sum(), median, samplesPerSecond, samplesPerSecond * method.TokensPerExample,
            flopsPerExample, flopsPerSecond, flopsPerSecond / fp32Peak, flopsPerSecond / bf16Peak);
    }

    /// <summary>Greedy decoding of <paramref name="examples"/> prefixes in one batch, timed over <paramref name="repeats"/> runs after one untimed run of the same size.</summary>
    public static DecodingThroughput Decoding(ITrainingMethod method, ITask task, int examples, long seed, int repeats = 3)
    {
        using var data = TokenDataset.Generate(task, examples, SeededRandom.For(seed, "bench-decode"));
        using var _ = Evaluator.Inference(method.Model);
        var prefix = data.Slice(0, examples).Prefix;
        using (NewDisposeScope()) method.Decode(prefix); // warm-up at full size: the allocator's pages and the kernels' choices
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++)
            using (NewDisposeScope()) method.Decode(prefix);
        double seconds = clock.Elapsed.TotalSeconds / repeats;
        return new DecodingThroughput(examples, seconds, (double)examples * task.TargetLength / seconds);
    }

    /// <summary>Trains the run until an evaluation reaches <paramref name="target"/> exact match (or the budget ends), timing all of it.</summary>
    public static TimeToSolve Solve(RunConfig config, RunDirectory run, double target)
    {
        var clock = Stopwatch.StartNew();
        var (train, test) = Trainer.MakeData(config.Task.Build(), config.Training);
        using (train)
        using (test)
        {
            double best = 0;
            var result = Trainer.Train(config, train, test, run, stopWhen: line =>
            {
                best = Math.Max(best, line.Metrics.ExactMatch);
                return best >= target;
            });
            best = Math.Max(best, result.Test.ExactMatch);
            return new TimeToSolve(config.Method, target, best >= target, result.Test.ExactMatch, result.Training.SamplesSeen, result.Training.Steps,
                clock.Elapsed.TotalSeconds, result.Training.TrainSeconds);
        }
    }

    /// <summary>
    /// Measures one model of the grid: the multiply peak of its precision just before (the machine's peak drifts by
    /// ±20% over minutes), training, decoding, and the peak memory of this row alone (the freed heap handed back and
    /// the high-water mark reset first).
    /// </summary>
    /// <remarks>The MFU of the other precision (in <see cref="TrainingThroughput"/>) is over that precision's peak as measured at the start, <paramref name="startPeaks"/>.</remarks>
    public static BenchRow Row(RunConfig config, int steps, int warmup, int decodeExamples, int profileSteps, string scratch, (GemmPeak Fp32, GemmPeak Bf16) startPeaks)
    {
        NativeAllocator.ReleaseFreed();
        ResetPeakResident();
        var precision = config.Model.Precision;
        var peak = Gemm(precision.ComputeType());
        var (fp32, bf16) = precision == Precision.Fp32 ? (peak, startPeaks.Bf16) : (startPeaks.Fp32, peak);
        var training = Training(config, steps, warmup, fp32.FlopsPerSecond, bf16.FlopsPerSecond, out var trained, out var profile, profileSteps, scratch);
        long parameters = trained.Model.parameters().Sum(p => p.numel());
        DecodingThroughput decoding;
        using (trained) decoding = Decoding(trained, config.Task.Build(), decodeExamples, config.Training.Seed, repeats: 2);
        var size = config.Model;
        return new BenchRow(Json.EnumName(size.Backbone), $"{size.Layers} x {size.Width}", size.Layers, size.Width, size.Heads, parameters, Json.EnumName(precision),
            peak, training, training.ModelFlopsPerSecond / peak.FlopsPerSecond, decoding, PeakResidentBytes(), profile);
    }

    /// <summary>Starts a new high-water mark of resident memory (Linux: clear_refs 5); elsewhere the process's peak stays.</summary>
    private static void ResetPeakResident()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The process's peak resident memory (VmHWM), in bytes; 0 where /proc is not there.</summary>
    public static long PeakResidentBytes()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return 0;
        string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : StatusBytes(line);
    }

    /// <summary>A /proc status line such as "VmHWM:\t12345678 kB" (the padding shrinks as the number grows), in bytes.</summary>
    internal static long StatusBytes(string line) => long.Parse(line.Split([' ', '\t', ':'], StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
}
