using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Experiments;
using Spectre.Console;

namespace Foresight.Cli;

internal static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Run an experiment file (a grid of tasks x models x budgets x seeds x methods), a paper file, or a plan.json; finished cells are skipped, interrupted ones resumed");
        var file = new Argument<string>("experiment") { Description = "experiment JSON file, paper file (experiments/papers/, with --scale), or the plan.json an experiment wrote" };
        var output = new Option<string?>("--out") { Description = "experiment directory (default: runs/<file name>; for a plan.json, its own directory)" };
        var scale = new Option<string?>("--scale")
        {
            Description = "for a paper file (experiments/papers/): cpu runs its grid shrunk to about 30 minutes a cell on 2 cores, as its cpu_scale says",
        };
        var cell = new Option<int?>("--cell") { Description = "run only this cell of the plan (0-based, in plan order; one task of a job array); nothing is aggregated" };
        var status = new Option<bool>("--status") { Description = "show each cell as finished, running, pending, failed, interrupted or not started (with Slurm's queue when there is one) and its log; trains nothing" };
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.Options.Add(scale);
        command.Options.Add(cell);
        command.Options.Add(status);
        var slurm = new SlurmExecutor.Flags(command);
        var table = new TableFlags(command);

        command.SetAction(result =>
        {
            string path = result.GetValue(file)!;
            if (!File.Exists(path)) throw new UserError($"experiment file '{path}' does not exist");
            var (plan, defaultRoot) = Load(path, result.GetValue(scale));
            string root = Path.GetFullPath(result.GetValue(output) ?? defaultRoot);
            if (result.GetValue(status))
            {
                if (result.GetValue(cell) is not null) throw new UserError("--status shows every cell; drop --cell");
                if (slurm.UseSlurm(result)) throw new UserError("--status trains and submits nothing; drop --executor slurm");
                return PlanStatus.Show(root, plan);
            }
            if (result.GetValue(cell) is { } index)
            {
                if (slurm.UseSlurm(result)) throw new UserError("--cell is what each array task runs; drop it with --executor slurm");
                if (index < 0 || index >= plan.Cells.Count)
                    throw new UserError($"--cell {index} is out of range: {path} has {plan.Cells.Count} cells (0..{plan.Cells.Count - 1})");
                var done = Experiment.Execute(root, plan, only: index).Single();
                AnsiConsole.MarkupLine($"cell {index} of {plan.Cells.Count} finished: {Markup.Escape(done.Path)}");
                return 0;
            }
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(path)}[/]: {plan.Cells.Count} runs -> {Markup.Escape(root)}");
            return Experiment.Run(root, plan, slurm, result, result.GetValue(table.Wide));
        });
        return command;
    }

    /// <summary>The plan a file describes, and where it runs by default.</summary>
    private static (Plan Plan, string Root) Load(string path, string? scale)
    {
        if (Papers.Published.IsPaperFile(path))
        {
            if (scale is not "cpu")
                throw new UserError(scale is { } other
                    ? $"--scale must be 'cpu', got '{other}'"
                    : $"{path} is a paper file: run it with --scale cpu (its own budget is the paper's)");
            var paper = Papers.Published.Parse(File.ReadAllText(path), path);
            var cells = Papers.PaperPlan.AtCpuScale(paper); // a paper without cpu_scale is refused here
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(paper.Short)} at CPU scale: {Markup.Escape(paper.CpuScale!.Why)}[/]");
            return (new Plan("experiment", cells, new JsonObject
            {
                ["experiment"] = Path.GetFullPath(path),
                ["paper"] = paper.Id,
                ["scale"] = "cpu",
                ["paper_budget"] = paper.Budget,
                ["scaled_because"] = paper.CpuScale.Why,
            }), DefaultRoot(path));
        }
        if (scale is not null) throw new UserError("--scale applies to paper files (experiments/papers/)");
        if (Plan.IsPlanFile(path)) return (Plan.Read(path), Path.GetDirectoryName(Path.GetFullPath(path))!);
        return (new Plan("experiment", ExperimentFile.Load(path), new JsonObject { ["experiment"] = Path.GetFullPath(path) }), DefaultRoot(path));
    }

    private static string DefaultRoot(string path) => Path.Combine("runs", Path.GetFileNameWithoutExtension(path));
}
