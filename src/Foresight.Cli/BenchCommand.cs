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
    private const int ProfiledSteps = 3;
    private const int DecodedAnswers = 256; // one batch; the Mamba re-reads the sequence for every token, so 1,000 answers took minutes at 12 x 384

    public static Command Create()
    {
        var command = new Command("bench", "Measure the fp32/bf16 matrix-multiply peaks and, for each model size and backbone, training throughput against the peak (MFU), decoding and peak memory; writes bench.json");
        var method = new Option<string>("--method") { Description = "method to measure", DefaultValueFactory = _ => "ntp" };
        var steps = new Option<int>("--steps") { Description = "timed training steps per model (after 3 untimed); throughput is from their median", DefaultValueFactory = _ => 20 };
        var sizes = FieldFlags.Declare("bench.sizes", new Option<string>("--sizes")
        {
            Description = "model sizes, layers x width[x heads] (heads default to width / 32); --layers/--width/--heads measure one size instead",
            DefaultValueFactory = _ => string.Join(",", BenchSize.Grid.Select(s => $"{s.Layers}x{s.Width}x{s.Heads}")),
        });
        var backbones = new Option<string>("--backbones") { Description = "backbones to measure at each size; --backbone measures one", DefaultValueFactory = _ => "gpt,mamba" };
        var profile = new Option<bool>("--profile") { Description = $"also profile {ProfiledSteps} steps of each model: forward, backward, clip and optimizer times, and the top native operations of each (sampled with Linux perf when it is installed)" };
        var solve = new Option<bool>("--time-to-solve") { Description = "also train reverse (or --method, if given) until 99% exact match and time it" };
        var output = new Option<string?>("--out") { Description = "directory for bench.json (default: runs/bench-<time>)" };
        foreach (var option in new Option[] { method, steps, sizes, backbones, profile, solve, output }) command.Options.Add(option);
        var taskOptions = new TaskOptions(command);
        var trainingOptions = new TrainingOptions(command);

        command.SetAction(result =>
        {
            string name = result.GetValue(method)!;
            MethodRegistry.Validate(name);
            int timed = result.GetValue(steps);
            if (timed < 1) throw new UserError($"--steps must be at least 1, got {timed}");
            var spec = taskOptions.Build(result);
            var task = spec.Build();
            var baseConfig = new RunConfig(name, spec, trainingOptions.Model(result), trainingOptions.Training(result, name), trainingOptions.MethodOptions(result, name));
            var configs = Grid(result, sizes, backbones, trainingOptions).Select(size => baseConfig with { Model = size }).ToList();
            foreach (var config in configs) Trainer.CheckBuilds(config);
            var root = RunDirectory.Create(result.GetValue(output) ?? OutputPaths.Default("bench"));

            AnsiConsole.MarkupLine($"[grey]{get_num_threads()} threads; measuring the multiply peaks...[/]");
            var fp32 = Benchmark.Gemm(ScalarType.Float32);
            var bf16 = Benchmark.Gemm(ScalarType.BFloat16);
            var rows = new List<BenchRow>();
            foreach (var config in configs)
            {
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(name)} on a {Json.EnumName(config.Model.Backbone)} {config.Model.Layers} x {config.Model.Width}: {timed} steps on {Markup.Escape(task.Description)}...[/]");
                rows.Add(Benchmark.Row(config, timed, warmup: 3, decodeExamples: DecodedAnswers, result.GetValue(profile) ? ProfiledSteps : 0, root.Path, (fp32, bf16)));
            }

            TimeToSolve? solved = null;
            if (result.GetValue(solve))
            {
                var solveConfig = baseConfig with { Method = result.GetResult(method) is { Implicit: false } ? name : "reverse", Training = baseConfig.Training with { EvalEvery = baseConfig.Training.EvalEvery > 0 ? baseConfig.Training.EvalEvery : 20 } };
                AnsiConsole.MarkupLine($"[grey]time to solve: {solveConfig.Method} until 99% exact match, evaluating every {solveConfig.Training.EvalEvery} steps...[/]");
                solved = Benchmark.Solve(solveConfig, RunDirectory.Create(Path.Combine(root.Path, "time-to-solve")), target: 0.99);
            }

            Print(name, fp32, bf16, rows, solved);
            var json = new JsonObject
            {
                ["threads"] = get_num_threads(),
                ["method"] = name,
                ["task"] = spec.ToJson(),
                ["training_config"] = Json.ToObject(baseConfig.Training),
                ["gemm_fp32"] = Json.ToObject(fp32),
                ["gemm_bf16"] = Json.ToObject(bf16),
                ["rows"] = new JsonArray(rows.Select(r => (JsonNode)Json.ToObject(r)).ToArray()),
            };
            if (solved is not null) json["time_to_solve"] = Json.ToObject(solved);
            string file = Path.Combine(root.Path, "bench.json");
            Json.WriteAtomic(file, json);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)}");
            return 0;
        });
        return command;
    }

    /// <summary>The model sizes to measure: --sizes x --backbones, or the one size and backbone the model flags name.</summary>
    private static IEnumerable<ModelSize> Grid(ParseResult result, Option<string> sizes, Option<string> backbones, TrainingOptions trainingOptions)
    {
        var model = trainingOptions.Model(result);
        bool oneSize = trainingOptions.SizeGiven(result), oneBackbone = trainingOptions.BackboneGiven(result);
        if (oneSize && TrainingOptions.Given(result, sizes)) throw new UserError("give --sizes or --layers/--width/--heads, not both");
        if (oneBackbone && TrainingOptions.Given(result, backbones)) throw new UserError("give --backbones or --backbone, not both");
        var sizeList = oneSize ? [new BenchSize(model.Layers, model.Width, model.Heads)] : ParseList(result.GetValue(sizes)!, "--sizes", BenchSize.Parse);
        var backboneList = oneBackbone ? [model.Backbone] : ParseList(result.GetValue(backbones)!, "--backbones", b => TrainingOptions.ParseFlag<BackboneKind>("--backbones", b));
        foreach (var backbone in backboneList)
            foreach (var size in sizeList)
            {
                var chosen = model with { Layers = size.Layers, Width = size.Width, Heads = size.Heads, Backbone = backbone };
                chosen.Validate();
                yield return chosen;
            }
    }

    private static List<T> ParseList<T>(string text, string flag, Func<string, T> parse)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length == 0) throw new UserError($"{flag} is empty");
        return items.Select(parse).Distinct().ToList();
    }

    private static void Print(string method, GemmPeak fp32, GemmPeak bf16, IReadOnlyList<BenchRow> rows, TimeToSolve? solved)
    {
        AnsiConsole.MarkupLine($"GEMM peak ({fp32.Size}³, median of 8): fp32 {fp32.FlopsPerSecond / 1e9:F1} GFLOP/s, bf16 {bf16.FlopsPerSecond / 1e9:F1} GFLOP/s");
        var table = new Table().Title($"foresight bench: training {Markup.Escape(method)}, batch {rows[0].Training.BatchSize}")
            .AddColumn("backbone").AddColumn("size").AddColumn(new TableColumn("parameters").RightAligned()).AddColumn("precision")
            .AddColumn(new TableColumn("tokens/s").RightAligned()).AddColumn(new TableColumn("model GFLOP/s").RightAligned())
            .AddColumn(new TableColumn("peak GFLOP/s").RightAligned()).AddColumn(new TableColumn("of peak").RightAligned())
            .AddColumn(new TableColumn("decoding tokens/s").RightAligned()).AddColumn(new TableColumn("peak memory").RightAligned());
        foreach (var row in rows)
            table.AddRow(row.Backbone, row.Size, $"{row.Parameters / 1e6:F2}M", row.Precision, $"{row.Training.TokensPerSecond:N0}",
                $"{row.Training.ModelFlopsPerSecond / 1e9:F1}", $"{row.Peak.FlopsPerSecond / 1e9:F1}", $"{100 * row.ShareOfPeak:F1}%",
                $"{row.Decoding.TokensPerSecond:N0}", $"{row.PeakResidentBytes / 1e9:F2} GB");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]model FLOPs: the matmuls, 6N + 12LCT per token; \"of peak\": over the multiply peak of the row's precision, measured just before it; tokens/s from the median step; decoding: {DecodedAnswers} greedy answers in one batch[/]");
        foreach (var row in rows.Where(r => r.Profile is not null)) PrintProfile(row);
        if (solved is not null)
            AnsiConsole.MarkupLine($"time to solve: {Markup.Escape(solved.Method)} to {100 * solved.Target:F0}%: " + (solved.Reached
                ? $"{solved.WallSeconds:F1} s wall ({solved.TrainSeconds:F1} s training), {solved.SamplesSeen:N0} samples"
                : $"not reached in {solved.SamplesSeen:N0} samples ({100 * solved.ExactMatch:F1}%), {solved.WallSeconds:F1} s"));
    }

    private static void PrintProfile(BenchRow row)
    {
        var profile = row.Profile!;
        double step = profile.Phases.Sum(p => p.MedianMilliseconds);
        var table = new Table().Title($"profile: {row.Backbone} {row.Size}, median of {profile.Steps} steps, {step:F1} ms a step")
            .AddColumn("phase").AddColumn(new TableColumn("ms").RightAligned()).AddColumn(new TableColumn("of step").RightAligned())
            .AddColumn(profile.Sampler == "perf" ? "top operations (share of the phase's CPU samples, both threads)" : "top operations (install linux-perf to see them)");
        foreach (var phase in profile.Phases)
            table.AddRow(Json.EnumName(phase.Phase), $"{phase.MedianMilliseconds:F1}", $"{100 * phase.MedianMilliseconds / step:F0}%",
                Markup.Escape(string.Join("\n", phase.Operations.Select(o => $"{100 * o.Share,3:F0}%  {o.Operation}"))));
        AnsiConsole.Write(table);
    }
}
