using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Experiments;
using Spectre.Console;

namespace Foresight.Cli;

internal static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Run an experiment file (a grid of tasks x models x budgets x seeds x methods); finished cells are skipped, interrupted ones resumed");
        var file = new Argument<string>("experiment") { Description = "experiment JSON file" };
        var output = new Option<string?>("--out") { Description = "experiment directory (default: runs/<file name>)" };
        var scale = new Option<string?>("--scale")
        {
            Description = "for a paper file (experiments/papers/): cpu runs its grid shrunk to about 30 minutes a cell on 2 cores, as its cpu_scale says",
        };
        var cell = new Option<int?>("--cell") { Description = "run only this cell of the plan (0-based, in plan order; one task of a job array); nothing is aggregated" };
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.Options.Add(scale);
        command.Options.Add(cell);

        command.SetAction(result =>
        {
            string path = result.GetValue(file)!;
            var extra = new JsonObject { ["experiment"] = Path.GetFullPath(path) };
            List<ExperimentCell> cells;
            if (Papers.Published.IsPaperFile(path))
            {
                if (result.GetValue(scale) is not "cpu")
                    throw new UserError(result.GetValue(scale) is { } other
                        ? $"--scale must be 'cpu', got '{other}'"
                        : $"{path} is a paper file: run it with --scale cpu (its own budget is the paper's)");
                var paper = Papers.Published.Parse(File.ReadAllText(path), path);
                cells = Papers.PaperPlan.AtCpuScale(paper);
                extra["paper"] = paper.Id;
                extra["scale"] = "cpu";
                extra["paper_budget"] = paper.Budget;
                extra["scaled_because"] = paper.CpuScale!.Why;
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(paper.Short)} at CPU scale: {Markup.Escape(paper.CpuScale.Why)}[/]");
            }
            else
            {
                if (result.GetValue(scale) is not null) throw new UserError("--scale applies to paper files (experiments/papers/)");
                cells = ExperimentPlan.Load(path);
            }
            string root = result.GetValue(output) ?? Path.Combine("runs", Path.GetFileNameWithoutExtension(path));
            if (result.GetValue(cell) is { } index)
            {
                if (index < 0 || index >= cells.Count)
                    throw new UserError($"--cell {index} is out of range: {path} has {cells.Count} cells (0..{cells.Count - 1})");
                var done = Experiment.Execute(root, cells, only: index).Single();
                AnsiConsole.MarkupLine($"cell {index} of {cells.Count} finished: {Markup.Escape(done.Path)}");
                return 0;
            }
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(path)}[/]: {cells.Count} runs -> {Markup.Escape(root)}");
            var results = Experiment.Execute(root, cells);
            Experiment.Finish(root, "experiment", "experiment.json", results, extra);
            return 0;
        });
        return command;
    }
}
