using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Experiments;
using Foresight.Methods;
using Foresight.Presentation;
using Foresight.Reports;
using Foresight.Runs;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>
/// Data efficiency: each method trained on training sets of several sizes, every run for about the same
/// number of samples seen (a small set is passed over more epochs), and exact match plotted against the
/// set's size. Runs are experiment cells, so a killed curve resumes where it stopped.
/// </summary>
internal static class CurveCommand
{
    public static Command Create()
    {
        var command = new Command("curve", "Exact match against training-set size for several methods (data efficiency), with a figure");
        var methods = new Option<string>("--methods") { Description = "comma-separated methods", DefaultValueFactory = _ => "ntp,reverse,teacherless" };
        var sizes = new Option<string>("--samples") { Description = "training-set sizes, comma-separated (1k = 1,000; 1M = 1,000,000)", DefaultValueFactory = _ => "1k,3k,10k,30k,100k" };
        var seen = new Option<string?>("--samples-seen") { Description = "samples each run trains on, in epochs over its set (default: the largest size)" };
        var seeds = new Option<int>("--seeds") { Description = "seeds per point (--seed, --seed + 1, ...)", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "curve directory (default: runs/curve-<time>); an existing one is resumed" };
        foreach (var option in new Option[] { methods, sizes, seen, seeds, output }) command.Options.Add(option);
        var taskOptions = new TaskOptions(command);
        var trainingOptions = new TrainingOptions(command);
        var slurm = new SlurmExecutor.Flags(command);
        var table = new TableFlags(command);

        command.SetAction(result =>
        {
            var names = TrainingOptions.ParseMethods(result.GetValue(methods)!);
            if (names.Contains("grpo")) throw new UserError("curve trains every method from scratch; grpo fine-tunes a run (train --method grpo --init DIR)");
            var setSizes = ParseCounts("--samples", result.GetValue(sizes)!);
            long samplesSeen = result.GetValue(seen) is { } text ? ParseCounts("--samples-seen", text).Single() : setSizes.Max();
            int seedCount = result.GetValue(seeds);
            if (seedCount < 1) throw new UserError($"--seeds must be at least 1, got {seedCount}");
            var task = taskOptions.Build(result);
            var model = trainingOptions.Model(result);
            var training = trainingOptions.Training(result);
            var trainingOf = names.ToDictionary(name => name, name => trainingOptions.Training(result, name));
            var optionsOf = trainingOptions.MethodOptions(result, names);
            string root = result.GetValue(output) ?? OutputPaths.Default("curve");

            var cells = (from size in setSizes
                         from seed in Enumerable.Range(training.Seed, seedCount)
                         from name in names
                         let epochs = (int)Math.Max(1, Math.Round((double)samplesSeen / size))
                         select ExperimentCell.For(new RunConfig(name, task, model,
                             trainingOf[name] with { TrainSamples = size, Epochs = epochs, Seed = seed }, optionsOf[name]))).ToList();
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(task.Build().Description)}[/]: {string.Join(", ", names)} on {string.Join(", ", setSizes.Select(s => Count(s)))} examples, " +
                                   $"about {Count(samplesSeen)} samples seen each; {cells.Count} runs -> {Markup.Escape(root)}");
            return Experiment.Run(root, new Plan("curve", cells, new JsonObject
            {
                ["task"] = task.ToJson(),
                ["model"] = Json.ToObject(model),
                ["samples_seen"] = samplesSeen,
                ["sizes"] = new JsonArray([.. setSizes.Select(s => (JsonNode)s)]),
            }), slurm, result, result.GetValue(table.Wide));
        });
        return command;
    }

    /// <summary>The curve's figure, curve.png: each method's mean exact match against the training-set size.</summary>
    internal static void Draw(string root, IReadOnlyList<GroupResult> groups, JsonObject extra)
    {
        long samplesSeen = extra["samples_seen"]!.GetValue<long>();
        var setSizes = extra["sizes"]!.AsArray().Select(s => s!.GetValue<int>()).ToList();
        var names = groups.Select(g => g.Method).Distinct().ToList();
        string figure = Path.Combine(root, "curve.png");
        Estimate ExactAt(string method, int size) => groups.Single(g => g.Method == method && g.TrainSamples == size).ExactMatch;
        int seeds = groups.Max(g => g.Seeds);
        Figures.LogXLines(figure, $"{groups[0].Task}: exact match against training-set size",
            $"training examples (log scale; each run sees about {Count(samplesSeen)} samples)", "exact match",
            [.. names.Select(name => new Line(seeds > 1 ? $"{name} (mean ± 95% CI, {seeds} seeds)" : name, [.. setSizes.Select(s => (double)s)],
                [.. setSizes.Select(s => ExactAt(name, s).Mean)], seeds > 1 ? [.. setSizes.Select(s => ExactAt(name, s).Ci95)] : null))]);
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(figure)}");
    }

    /// <summary>"1k,3k,10k" -> 1000, 3000, 10000; each a positive count, at most 100M.</summary>
    internal static List<int> ParseCounts(string flag, string text)
    {
        var counts = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            (string digits, long unit) = part[^1] switch { 'k' or 'K' => (part[..^1], 1_000L), 'M' => (part[..^1], 1_000_000L), _ => (part, 1L) };
            if (!double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value * unit is < 1 or > 100_000_000 || value * unit % 1 != 0)
                throw new UserError($"{flag}: '{part}' is not a count such as 3000, 3k or 1.5M");
            counts.Add((int)(value * unit));
        }
        if (counts.Count == 0) throw new UserError($"{flag} is empty");
        if (counts.Distinct().Count() != counts.Count) throw new UserError($"{flag} lists a size twice: {text}");
        return [.. counts.Order()];
    }

    private static string Count(long n) => n >= 1_000_000 && n % 100_000 == 0 ? $"{n / 1e6:0.#}M" : n >= 1_000 && n % 100 == 0 ? $"{n / 1e3:0.#}k" : $"{n:N0}";
}
