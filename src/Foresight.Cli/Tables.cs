using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Probes;
using Foresight.Runs;
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
        var probesByRun = runs.Select(r => Probes(r.Path)).ToList();
        bool probed = probesByRun.Any(p => p.Count > 0);
        if (probed) AddProbeColumns(table);
        foreach (var ((_, result), probes) in runs.Zip(probesByRun))
        {
            var test = result.Test;
            var cells = new List<string>
            {
                Markup.Escape(result.Training.Method),
                $"{100 * test.ExactMatch:F1}% ± {100 * test.ExactMatchMargin95:F1}",
                $"{100 * test.FirstDecisionAccuracy:F1}%",
                $"{100 * test.FirstDecisionChance:F1}%",
                $"{100 * test.TeacherForcedAccuracy:F1}%",
                $"{result.Training.TrainSeconds:F0} s",
                $"{result.Training.TokensPerSecond:N0}",
            };
            if (probed)
            {
                cells.AddRange(ProbeMeasures.Select(m => m.Value(probes) is { } v ? $"{100 * v:F1}%" : "-"));
                cells.Add(SearchTokens(probes) is { } tokens ? $"{tokens:F1}" : "-");
            }
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        foreach (var (path, result) in runs) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(result.Training.Method)}: {Markup.Escape(path)}[/]");
        Legend("± 95% CI over test examples", probed);
    }

    /// <summary>One row per method: mean ± 95% CI (Student t) over seeds.</summary>
    public static void PrintAcrossSeeds(ITask task, IReadOnlyList<string> methods, IReadOnlyList<int> seeds, IReadOnlyList<(string Path, RunResult Result)> runsWithPaths)
    {
        var results = runsWithPaths.Select(r => r.Result).ToList();
        var probesByRun = runsWithPaths.Select(r => Probes(r.Path)).ToList();
        bool probed = probesByRun.Any(p => p.Count > 0);
        var table = new Table().Title($"{task.Description}, {seeds.Count} seeds ({string.Join(", ", seeds)}), {results[0].Test.Examples} held-out examples each")
            .AddColumn("method")
            .AddColumn(new TableColumn("exact").RightAligned())
            .AddColumn(new TableColumn("first dec.").RightAligned())
            .AddColumn(new TableColumn("chance").RightAligned())
            .AddColumn(new TableColumn("forced").RightAligned())
            .AddColumn(new TableColumn("time").RightAligned());
        if (probed) AddProbeColumns(table);
        foreach (string method in methods)
        {
            var runs = results.Where(r => r.Training.Method == method).ToList();
            var probes = probesByRun.Where((_, i) => results[i].Training.Method == method).ToList();
            string Cell(IReadOnlyList<double> values)
            {
                if (values.Count == 0) return "-";
                var (mean, margin) = Statistics.MeanWithMargin(values);
                return $"{100 * mean:F1}% ± {100 * margin:F1}";
            }
            var cells = new List<string>
            {
                Markup.Escape(method), Cell(runs.Select(r => r.Test.ExactMatch).ToList()), Cell(runs.Select(r => r.Test.FirstDecisionAccuracy).ToList()),
                $"{100 * runs[0].Test.FirstDecisionChance:F1}%", Cell(runs.Select(r => r.Test.TeacherForcedAccuracy).ToList()),
                $"{runs.Sum(r => r.Training.TrainSeconds):F0} s",
            };
            if (probed)
            {
                cells.AddRange(ProbeMeasures.Select(m => Cell(probes.Select(m.Value).OfType<double>().ToList())));
                var tokens = probes.Select(SearchTokens).OfType<double>().ToList();
                cells.Add(tokens.Count == 0 ? "-" : $"{tokens.Average():F1}");
            }
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        Legend("mean ± 95% CI over seeds (Student t)", probed);
    }

    /// <summary>The probe numbers the comparison tables show, each read from a run's probe-*.json.</summary>
    private static readonly (string Header, Func<IReadOnlyDictionary<string, JsonObject>, double?> Value)[] ProbeMeasures =
    [
        ("CH follow", p => p.GetValueOrDefault(CleverHansProbe.Name)?["follow_rate_before_last"]?.GetValue<double>()),
        ("plan probe", p => p.GetValueOrDefault(PlanningProbe.Name)?["best"]?["branch_accuracy"]?.GetValue<double>()),
        ("backtrack", p => p.GetValueOrDefault(SearchProbe.Name)?["backtrack"]?["exact_match"]?.GetValue<double>()),
    ];

    /// <summary>Backtracking's cost, tokens written per instance: a count, not a rate, so it has a column of its own.</summary>
    private static double? SearchTokens(IReadOnlyDictionary<string, JsonObject> probes) =>
        probes.GetValueOrDefault(SearchProbe.Name)?["backtrack"]?["tokens_per_instance"]?.GetValue<double>();

    private static void AddProbeColumns(Table table)
    {
        foreach (var (header, _) in ProbeMeasures) table.AddColumn(new TableColumn(header).RightAligned());
        table.AddColumn(new TableColumn("search tok").RightAligned());
    }

    private static IReadOnlyDictionary<string, JsonObject> Probes(string runPath) => RunDirectory.Open(runPath).ReadProbes();

    private static void Legend(string interval, bool probed)
    {
        AnsiConsole.MarkupLine($"[grey]exact: the whole answer right under greedy decoding ({interval}). first dec.: the hard token (path-star: the node " +
                               "after the source, chance 1/degree; addition: the first digit written). forced: per-token accuracy given the true earlier tokens. time: training only.[/]");
        if (probed)
            AnsiConsole.MarkupLine("[grey]CH follow: after a forced wrong first node, greedy continuations that follow the wrong arm at every step " +
                                   "before the last (Clever Hans). plan probe: a linear probe at '=' picks the goal's arm (chance 1/d), best layer, held out. " +
                                   "backtrack: exact match when the verifier prunes a depth-first search over the model's ranked tokens; search tok: the tokens it wrote per instance.[/]");
    }
}
