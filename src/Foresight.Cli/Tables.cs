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
        AnsiConsole.MarkupLine("[grey]exact: whole path right under greedy decoding (± 95% CI). first dec.: the node after the source, " +
                               "the only hard token; chance = 1/degree. forced: per-token accuracy given the true earlier tokens. time: training only.[/]");
    }
}
