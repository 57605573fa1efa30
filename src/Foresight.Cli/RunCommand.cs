using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Experiments;
using Foresight.Runs;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

internal static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Run an experiment file (a grid of tasks x models x budgets x seeds x methods); finished cells are skipped, interrupted ones resumed");
        var file = new Argument<string>("experiment") { Description = "experiment JSON file" };
        var output = new Option<string?>("--out") { Description = "experiment directory (default: runs/<file name>)" };
        command.Arguments.Add(file);
        command.Options.Add(output);

        command.SetAction(result =>
        {
            string path = result.GetValue(file)!;
            var cells = ExperimentPlan.Load(path);
            string root = result.GetValue(output) ?? Path.Combine("runs", Path.GetFileNameWithoutExtension(path));
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(path)}[/]: {cells.Count} runs -> {Markup.Escape(root)}");
            var summaries = TrainAll(cells, root);

            var groups = Aggregate(summaries);
            Print(groups);
            string resultsFile = Path.Combine(root, "experiment.json");
            Json.WriteAtomic(resultsFile, new JsonObject
            {
                ["experiment"] = Path.GetFullPath(path),
                ["groups"] = new JsonArray(groups.Select(g => (JsonNode)g).ToArray()),
                ["runs"] = new JsonArray(summaries.Select(s => (JsonNode)Json.Merge(new JsonObject { ["run"] = Path.Combine(root, s.Cell.Id) }, s.Summary)).ToArray()),
            });
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(resultsFile)}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Trains every cell in its directory under <paramref name="root"/>: a finished cell is read, not trained
    /// again; an interrupted one is resumed. Every cell's method is built once first, so a bad option fails before anything is written.
    /// </summary>
    public static List<(ExperimentCell Cell, JsonObject Summary)> TrainAll(IReadOnlyList<ExperimentCell> cells, string root)
    {
        var summaries = new List<(ExperimentCell Cell, JsonObject Summary)>();
        int skipped = 0;
        foreach (var cell in cells) Trainer.CheckBuilds(cell.Config, cell.Task);
        foreach (var cell in cells)
        {
            string directory = Path.Combine(root, cell.Id);
            var run = Existing(directory, cell);
            if (run is not null && File.Exists(run.SummaryFile))
            {
                summaries.Add((cell, run.ReadSummary()));
                skipped++;
                continue;
            }
            bool resume = run is not null;
            run ??= RunDirectory.Create(directory);
            summaries.Add((cell, TrainingView.Train(cell.Config, cell.Task, run, resume).ToJson()));
        }
        if (skipped > 0) AnsiConsole.MarkupLine($"[grey]{skipped} of {cells.Count} runs had already finished and were not trained again[/]");
        return summaries;
    }

    /// <summary>The cell's directory if it already holds this very run; an error if it holds another.</summary>
    private static RunDirectory? Existing(string directory, ExperimentCell cell)
    {
        if (!File.Exists(Path.Combine(directory, "config.json"))) return null;
        var run = RunDirectory.Open(directory);
        if (Json.ToObject(run.ReadConfig()).ToJsonString() != Json.ToObject(cell.Config).ToJsonString())
            throw new UserError($"'{directory}' holds a run with another config than the experiment asks for; use another --out");
        if (!File.Exists(run.SummaryFile) && !File.Exists(run.TrainingCheckpointFile))
            throw new UserError($"'{directory}' holds a started run with no checkpoint to resume from; remove it to train it again");
        return run;
    }

    /// <summary>Seeds of the same task, model, budget and method pooled into mean ± 95% CI.</summary>
    public static List<JsonObject> Aggregate(List<(ExperimentCell Cell, JsonObject Summary)> summaries) =>
        summaries.GroupBy(s => Path.GetDirectoryName(s.Cell.Id)!, StringComparer.Ordinal).Select(group =>
        {
            var first = group.First().Cell;
            return Json.Merge(
                new JsonObject
                {
                    ["group"] = group.Key,
                    ["method"] = first.Config.Method,
                    ["task"] = first.Task.Description,
                    ["model"] = Json.ToObject(first.Config.Model),
                    ["train_samples"] = first.Config.Training.TrainSamples,
                    ["epochs"] = first.Config.Training.Epochs,
                },
                Statistics.AcrossSeeds(group.Select(s => s.Summary).ToList()));
        }).ToList();

    private static void Print(List<JsonObject> groups)
    {
        var table = new Table().AddColumn("task").AddColumn("method").AddColumn("model").AddColumn(new TableColumn("samples").RightAligned())
            .AddColumn(new TableColumn("seeds").RightAligned()).AddColumn(new TableColumn("exact").RightAligned()).AddColumn(new TableColumn("first dec.").RightAligned());
        foreach (var g in groups)
        {
            var model = g["model"]!;
            table.AddRow(Markup.Escape(g["task"]!.GetValue<string>()), Markup.Escape(g["method"]!.GetValue<string>()),
                $"{model["layers"]}x{model["width"]}", $"{g["train_samples"]!.GetValue<int>():N0}", g["seeds"]!.ToString(),
                $"{100 * g["exact_match_mean"]!.GetValue<double>():F1}% ± {100 * g["exact_match_ci95"]!.GetValue<double>():F1}",
                $"{100 * g["first_decision_accuracy_mean"]!.GetValue<double>():F1}% ± {100 * g["first_decision_accuracy_ci95"]!.GetValue<double>():F1}");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]mean ± 95% CI over seeds (Student t); first dec.: the node after the source, chance = 1/degree[/]");
    }
}
