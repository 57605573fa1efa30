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
        var slurm = new SlurmExecutor.Flags(command);

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
            if (slurm.UseSlurm(result))
            {
                if (result.GetValue(cell) is not null) throw new UserError("--cell is what each array task runs; drop it with --executor slurm");
                return OnSlurm(path, Papers.Published.IsPaperFile(path) ? " --scale cpu" : "", root, cells, slurm, result, extra);
            }
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

    /// <summary>Writes the job array's script for the unfinished cells and submits it (unless --dry-run); with --wait, aggregates once it has ended.</summary>
    private static int OnSlurm(string path, string runArguments, string root, List<ExperimentCell> cells, SlurmExecutor.Flags slurm, ParseResult result, JsonObject extra)
    {
        var request = slurm.Request(result);
        bool dryRun = result.GetValue(slurm.DryRun);
        if (!dryRun && !SlurmExecutor.OnPath("sbatch"))
            throw new UserError("--executor slurm needs sbatch on PATH (run it on the cluster's login node); --dry-run writes the script without it");
        root = Path.GetFullPath(root);
        var executor = new ExperimentExecutor(root, _ => throw new InvalidOperationException("the Slurm executor trains nothing itself"));
        var pending = executor.Pending(cells);
        if (pending.Count == 0)
        {
            AnsiConsole.MarkupLine("every cell has finished; nothing to submit");
            Experiment.Finish(root, "experiment", "experiment.json", Experiment.Execute(root, cells), extra);
            return 0;
        }
        string directory = Path.Combine(root, SlurmExecutor.Directory);
        System.IO.Directory.CreateDirectory(directory);
        string script = Path.Combine(directory, SlurmExecutor.ScriptName);
        File.WriteAllText(script, SlurmExecutor.Script(Path.GetFileNameWithoutExtension(path), Path.GetFullPath(path), runArguments, root, pending, request));
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(script)}: {pending.Count} of {cells.Count} cells, one array task each");
        if (dryRun) return 0;

        string job = SlurmExecutor.Submit(script);
        AnsiConsole.MarkupLine($"submitted job {Markup.Escape(job)}; logs: {Markup.Escape(Path.Combine(directory, "cell-<index>.log"))}");
        if (!result.GetValue(slurm.Wait)) return 0;
        SlurmExecutor.WaitFor(job, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
        var failed = executor.Pending(cells);
        if (failed.Count > 0)
            throw new UserError($"job {job} ended with {failed.Count} cell(s) unfinished: see {string.Join(", ", failed.Select(i => Path.Combine(directory, $"cell-{i}.log")))}");
        Experiment.Finish(root, "experiment", "experiment.json", Experiment.Execute(root, cells), extra);
        return 0;
    }
}
