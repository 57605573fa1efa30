using System.Text.Json.Nodes;
using Foresight.Experiments;
using Foresight.Reports;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>What compare, curve and run share once they have built their plan: the executor, the table, the results file and the report.</summary>
internal static class Experiment
{
    /// <summary>Runs the plan with the live training view; finished cells are skipped, interrupted ones resumed.</summary>
    public static IReadOnlyList<CellResult> Execute(string root, IReadOnlyList<ExperimentCell> cells, Action<CellResult>? afterCell = null, int? only = null) =>
        new ExperimentExecutor(root,
                c => TrainingView.Train(c.Cell.Config, c.Cell.Task, c.Train, c.Test, c.Run, c.Resume),
                line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"))
            .Run(cells, afterCell, only);

    /// <summary>Pools the seeds, prints the table, writes the results file (one schema for every kind) and report.md; returns the groups.</summary>
    public static List<GroupResult> Finish(string root, string kind, string fileName, IReadOnlyList<CellResult> results, JsonObject? extra = null)
    {
        var groups = GroupResult.Aggregate(results);
        Tables.Print(groups, results);
        string file = Path.Combine(root, fileName);
        Json.WriteAtomic(file, ExperimentResults.ToJson(kind, results, groups, extra));
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)}");
        ReportCommand.Write(ReportRun.Find(results.Select(r => r.Path)), root, overwrite: true);
        return groups;
    }
}
