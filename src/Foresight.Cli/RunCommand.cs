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
        command.Arguments.Add(file);
        command.Options.Add(output);

        command.SetAction(result =>
        {
            string path = result.GetValue(file)!;
            var cells = ExperimentPlan.Load(path);
            string root = result.GetValue(output) ?? Path.Combine("runs", Path.GetFileNameWithoutExtension(path));
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(path)}[/]: {cells.Count} runs -> {Markup.Escape(root)}");
            var results = Experiment.Execute(root, cells);
            Experiment.Finish(root, "experiment", "experiment.json", results, new JsonObject { ["experiment"] = Path.GetFullPath(path) });
            return 0;
        });
        return command;
    }
}
