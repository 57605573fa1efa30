using System.Diagnostics;
using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Bench;

/// <summary>The machine's matrix-multiply peak through libtorch, for one dtype: FLOP/s of an n x n x n product.</summary>
public sealed record GemmPeak(string Dtype, int Size, double FlopsPerSecond);

/// <summary>
/// Training throughput of one method; MFU is model FLOP/s over the measured fp32 peak (above 1 when the
/// model multiplies in bf16), <see cref="MfuOfBf16Peak"/> the same over the bf16 peak.
/// </summary>
public sealed record TrainingThroughput(string Method, int BatchSize, int Steps, double Seconds, double SamplesPerSecond,
    double TokensPerSecond, double ModelFlopsPerExample, double ModelFlopsPerSecond, double Mfu, double MfuOfBf16Peak);

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
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++) a.matmul(b).Dispose();
        return new GemmPeak(dtype.ToString().ToLowerInvariant(), size, 2.0 * size * size * size * repeats / clock.Elapsed.TotalSeconds);
    }

    /// <summary>Times <paramref name="steps"/> optimizer steps after <paramref name="warmup"/> untimed ones, on fresh examples, at the config's batch size.</summary>
    public static TrainingThroughput Training(RunConfig config, ITask task, int steps, int warmup, double fp32Peak, double bf16Peak, out ITrainingMethod trained)
    {
        var method = Trainer.BuildMethod(config, task);
        var parameters = method.Model.parameters().ToList();
        using var optimizer = Trainer.Optimizer(method.Model, config.Training);
        int batchSize = config.Training.BatchSize;
        using var data = TokenDataset.Generate(task, (warmup + steps) * batchSize, SeededRandom.For(config.Training.Seed, "bench"));
        method.Model.train();
        var clock = new Stopwatch();
        for (int step = 0; step < warmup + steps; step++)
        {
            if (step == warmup) clock.Start();
            using var scope = NewDisposeScope();
            Trainer.Step(method, optimizer, parameters, data.Slice(step * batchSize, batchSize) with { NoiseSeed = step }, config.Training.LearningRate, config.Training.GradientClip);
        }
        clock.Stop();
        double seconds = clock.Elapsed.TotalSeconds, samples = (double)steps * batchSize;
        double flopsPerExample = ModelFlops.TrainingPerExample(method), flopsPerSecond = samples * flopsPerExample / seconds;
        trained = method;
        return new TrainingThroughput(config.Method, batchSize, steps, seconds, samples / seconds, samples * method.TokensPerExample / seconds,
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
    public static TimeToSolve Solve(RunConfig config, ITask task, RunDirectory run, double target)
    {
        var clock = Stopwatch.StartNew();
        var (train, test) = Trainer.MakeData(task, config.Training);
        using (train)
        using (test)
        {
            double best = 0;
            var result = Trainer.Train(config, task, train, test, run, stopWhen: line =>
            {
                best = Math.Max(best, line.Metrics.ExactMatch);
                return best >= target;
            });
            best = Math.Max(best, result.Test.ExactMatch);
            return new TimeToSolve(config.Method, target, best >= target, result.Test.ExactMatch, result.Training.SamplesSeen, result.Training.Steps,
                clock.Elapsed.TotalSeconds, result.Training.TrainSeconds);
        }
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
