using Foresight.Evaluation;
using Foresight.Tasks;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

internal static class Tables
{
    /// <summary>One row per run: the comparison the mission is about.</summary>
    public static void Print(ITask task, IReadOnlyList<(string Path, RunResult Result)> runs)
    {
        var table = new Table().Title($"{task.Description}, {runs[0].Result.Test.Examples} held-out examples")
            .AddColumn("method")
            .AddColumn(new TableColumn("exact").RightAligned())
            .AddColumn(new TableColumn("first dec.").RightAligned())
            .AddColumn(new TableColumn("chance").RightAligned())
            .AddColumn(new TableColumn("forced").RightAligned())
            .AddColumn(new TableColumn("time").RightAligned())
            .AddColumn(new TableColumn("tokens/s").RightAligned());
        foreach (var (path, result) in runs)
        {
            var test = result.Test;
            table.AddRow(
                Markup.Escape(result.Training.Method),
                $"{100 * test.ExactMatch:F1}% ± {100 * test.ExactMatchMargin95:F1}",
                $"{100 * test.FirstDecisionAccuracy:F1}%",
                $"{100 * test.FirstDecisionChance:F1}%",
                $"{100 * test.TeacherForcedAccuracy:F1}%",
                $"{result.Training.TrainSeconds:F0} s",
                $"{result.Training.TokensPerSecond:N0}");
        }
        AnsiConsole.Write(table);
        foreach (var (path, result) in runs) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(result.Training.Method)}: {Markup.Escape(path)}[/]");
        Legend("± 95% CI over test examples");
    }

    /// <summary>One row per method: mean ± 95% CI (Student t) over seeds.</summary>
    public static void PrintAcrossSeeds(ITask task, IReadOnlyList<string> methods, IReadOnlyList<int> seeds, IReadOnlyList<RunResult> results)
    {
        var table = new Table().Title($"{task.Description}, {seeds.Count} seeds ({string.Join(", ", seeds)}), {results[0].Test.Examples} held-out examples each")
            .AddColumn("method")
            .AddColumn(new TableColumn("exact").RightAligned())
            .AddColumn(new TableColumn("first dec.").RightAligned())
            .AddColumn(new TableColumn("chance").RightAligned())
            .AddColumn(new TableColumn("forced").RightAligned())
            .AddColumn(new TableColumn("time").RightAligned());
        foreach (string method in methods)
        {
            var runs = results.Where(r => r.Training.Method == method).ToList();
            string Cell(Func<RunResult, double> metric)
            {
                var (mean, margin) = Statistics.MeanWithMargin(runs.Select(metric).ToList());
                return $"{100 * mean:F1}% ± {100 * margin:F1}";
            }
            table.AddRow(Markup.Escape(method), Cell(r => r.Test.ExactMatch), Cell(r => r.Test.FirstDecisionAccuracy),
                $"{100 * runs[0].Test.FirstDecisionChance:F1}%", Cell(r => r.Test.TeacherForcedAccuracy),
                $"{runs.Sum(r => r.Training.TrainSeconds):F0} s");
        }
        AnsiConsole.Write(table);
        Legend("mean ± 95% CI over seeds (Student t)");
    }

    private static void Legend(string interval)
    {
        AnsiConsole.MarkupLine($"[grey]exact: whole path right under greedy decoding ({interval}). first dec.: the node after the source, " +
                               "the only hard token; chance = 1/degree. forced: per-token accuracy given the true earlier tokens. time: training only.[/]");
    }
}
