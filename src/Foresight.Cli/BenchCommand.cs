using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Bench;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace Foresight.Cli;

/// <summary>foresight bench: this machine's multiply peaks and what a method gets out of them, in one process.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Measure the fp32/bf16 matrix-multiply peak, a method's training and decoding throughput (MFU) and peak memory; writes bench.json");
        var method = new Option<string>("--method") { Description = "method to measure", DefaultValueFactory = _ => "ntp" };
        var steps = new Option<int>("--steps") { Description = "timed training steps (after 3 untimed)", DefaultValueFactory = _ => 20 };
        var solve = new Option<bool>("--time-to-solve") { Description = "also train reverse (or --method, if given) until 99% exact match and time it" };
        var output = new Option<string?>("--out") { Description = "directory for bench.json (default: runs/bench-<time>)" };
        foreach (var option in new Option[] { method, steps, solve, output }) command.Options.Add(option);
        var taskOptions = new TaskOptions(command);
        var trainingOptions = new TrainingOptions(command);

        command.SetAction(result =>
        {
            string name = result.GetValue(method)!;
            MethodRegistry.Validate(name);
            int timed = result.GetValue(steps);
            if (timed < 1) throw new UserError($"--steps must be at least 1, got {timed}");
            var task = taskOptions.Build(result);
            var config = new RunConfig(name, task.ToJson(), trainingOptions.Model(result), trainingOptions.Training(result, name), trainingOptions.MethodOptions(result, name));
            Trainer.CheckBuilds(config, task);
            var root = RunDirectory.Create(result.GetValue(output) ?? OutputPaths.Default("bench"));

            AnsiConsole.MarkupLine($"[grey]{get_num_threads()} threads; measuring the multiply peaks...[/]");
            var fp32 = Benchmark.Gemm(ScalarType.Float32);
            var bf16 = Benchmark.Gemm(ScalarType.BFloat16);
            AnsiConsole.MarkupLine($"[grey]training {Markup.Escape(name)} for {timed} steps on {Markup.Escape(task.Description)}...[/]");
            var training = Benchmark.Training(config, task, timed, warmup: 3, fp32.FlopsPerSecond, bf16.FlopsPerSecond, out var trained);
            DecodingThroughput decoding;
            using (trained) decoding = Benchmark.Decoding(trained, task, examples: 1_000, config.Training.Seed);

            TimeToSolve? solved = null;
            if (result.GetValue(solve))
            {
                var solveConfig = config with { Method = result.GetResult(method) is { Implicit: false } ? name : "reverse", Training = config.Training with { EvalEvery = config.Training.EvalEvery > 0 ? config.Training.EvalEvery : 20 } };
                AnsiConsole.MarkupLine($"[grey]time to solve: {solveConfig.Method} until 99% exact match, evaluating every {solveConfig.Training.EvalEvery} steps...[/]");
                solved = Benchmark.Solve(solveConfig, task, RunDirectory.Create(Path.Combine(root.Path, "time-to-solve")), target: 0.99);
            }
            long peak = Benchmark.PeakResidentBytes();

            Print(fp32, bf16, training, decoding, solved, peak, config.Model.Precision);
            var json = new JsonObject
            {
                ["threads"] = get_num_threads(),
                ["task"] = task.ToJson(),
                ["model"] = Json.ToObject(config.Model),
                ["training_config"] = Json.ToObject(config.Training),
                ["gemm_fp32"] = Json.ToObject(fp32),
                ["gemm_bf16"] = Json.ToObject(bf16),
                ["training"] = Json.ToObject(training),
                ["decoding"] = Json.ToObject(decoding),
                ["peak_resident_bytes"] = peak,
            };
            if (solved is not null) json["time_to_solve"] = Json.ToObject(solved);
            string file = Path.Combine(root.Path, "bench.json");
            Json.WriteAtomic(file, json);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)}");
            return 0;
        });
        return command;
    }

    private static void Print(GemmPeak fp32, GemmPeak bf16, TrainingThroughput training, DecodingThroughput decoding, TimeToSolve? solved, long peak, Precision precision)
    {
        var table = new Table().Title("foresight bench").AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow($"GEMM peak, fp32 ({fp32.Size}³)", $"{fp32.FlopsPerSecond / 1e9:F1} GFLOP/s");
        table.AddRow($"GEMM peak, bf16 ({bf16.Size}³)", $"{bf16.FlopsPerSecond / 1e9:F1} GFLOP/s");
        table.AddRow($"training {Markup.Escape(training.Method)}, batch {training.BatchSize}, {Json.EnumName(precision)}", $"{training.TokensPerSecond:N0} tokens/s, {training.SamplesPerSecond:N0} samples/s");
        table.AddRow("model FLOP/s (matmuls, 6N + 12LCT per token)", $"{training.ModelFlopsPerSecond / 1e9:F1} GFLOP/s");
        table.AddRow("MFU (of the fp32 peak)", $"{100 * training.Mfu:F1}%");
        table.AddRow("MFU (of the bf16 peak)", $"{100 * training.MfuOfBf16Peak:F1}%");
        table.AddRow($"greedy decoding, {decoding.Examples:N0} answers", $"{decoding.TokensPerSecond:N0} tokens/s");
        if (solved is not null)
            table.AddRow($"time to solve: {Markup.Escape(solved.Method)} to {100 * solved.Target:F0}%",
                solved.Reached ? $"{solved.WallSeconds:F1} s wall ({solved.TrainSeconds:F1} s training), {solved.SamplesSeen:N0} samples"
                               : $"not reached in {solved.SamplesSeen:N0} samples ({100 * solved.ExactMatch:F1}%), {solved.WallSeconds:F1} s");
        table.AddRow("peak resident memory", $"{peak / 1e9:F2} GB");
        AnsiConsole.Write(table);
    }
}
