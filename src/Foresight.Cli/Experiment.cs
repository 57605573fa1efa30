using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Experiments;
using Foresight.Probes;
using Foresight.Reports;
using Foresight.Runs;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>What compare, curve and run share once they have built their plan: the executor (local or Slurm), the table, the results file and the report.</summary>
internal static class Experiment
{
    /// <summary>Runs the plan here, or submits it as a job array with --executor slurm.</summary>
    public static int Run(string root, Plan plan, SlurmExecutor.Flags slurm, ParseResult result, bool wide)
    {
        if (slurm.UseSlurm(result)) return SlurmExecutor.Run(root, plan, slurm, result, wide);
        Finish(root, plan, Execute(root, plan), wide);
        return 0;
    }

    /// <summary>
    /// Runs the plan (or only its cell <paramref name="only"/>) with the live training view; finished cells are skipped,
    /// interrupted ones resumed, and each cell then gets the plan's probes, those it does not have yet.
    /// </summary>
    public static IReadOnlyList<CellResult> Execute(string root, Plan plan, int? only = null) =>
        new ExperimentExecutor(root,
                c => TrainingView.Train(c.Cell.Config, c.Train, c.Test, c.Run, c.Resume), Log)
            .Run(plan, plan.Probes is { } sizes ? done => ProbeSuite.Run(RunDirectory.Open(done.Path), sizes, log: Log, missingOnly: true) : null, only);

    /// <summary>Pools the seeds, prints the table, writes the results file (one schema for every kind), report.md and, for a curve, its figure.</summary>
    public static List<GroupResult> Finish(string root, Plan plan, IReadOnlyList<CellResult> results, bool wide = false)
    {
        var groups = GroupResult.Aggregate(results);
        Tables.Print(groups, results, wide);
        string file = Path.Combine(root, plan.ResultsFile);
        Json.WriteAtomic(file, ExperimentResults.ToJson(plan.Kind, results, groups, plan.Extra));
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)}");
        ReportCommand.Write(ReportRun.Find(results.Select(r => r.Path)), root, overwrite: true);
        if (plan.Kind == "curve") CurveCommand.Draw(root, groups, plan.Extra);
        return groups;
    }

    private static void Log(string line) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
}
