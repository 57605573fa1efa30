using Foresight.Evaluation;
using Foresight.Experiments;
using Foresight.Probes;
using Foresight.Runs;
using Foresight.Reports;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>The one results table: a row per group of runs (a method variant on a task, model and budget), seeds pooled.</summary>
internal static class Tables
{
    /// <summary>
    /// Prints <paramref name="groups"/>: a column for task, model or budget only where they differ between rows, probe
    /// columns where any run was probed. One seed: the run's score with its Wilson 95% interval over test examples;
    /// several: mean ± 95% CI over seeds (Student t).
    /// </summary>
    public static void Print(IReadOnlyList<GroupResult> groups, IReadOnlyList<CellResult> results)
    {
        var runs = results.ToDictionary(r => r.Path);
        var probes = results.ToDictionary(r => r.Path, r => ProbeSuite.Read(RunDirectory.Open(r.Path)));
        bool manyTasks = groups.Select(g => g.Task).Distinct().Count() > 1;
        bool manyModels = groups.Select(g => g.Model).Distinct().Count() > 1;
        bool manyBudgets = groups.Select(g => (g.TrainSamples, g.Epochs)).Distinct().Count() > 1;
        bool manySeeds = groups.Any(g => g.Seeds > 1);
        bool probed = probes.Values.Any(p => p.Count > 0);
        var examples = results.Select(r => r.Result.Test.Examples).Distinct().ToList();
        string seeds = string.Join(", ", results.Select(r => r.Cell.Config.Training.Seed).Distinct());

        var table = new Table().Title($"{string.Join(", ", groups.Select(g => g.Task).Distinct())}, " +
                                      (manySeeds ? $"{groups.Max(g => g.Seeds)} seeds ({seeds}), " : "") +
                                      $"{string.Join(" / ", examples)} held-out examples{(manySeeds ? " each" : "")}")
            .AddColumn("method");
        void Column(string header) => table.AddColumn(new TableColumn(header).RightAligned());
        if (manyTasks) table.AddColumn("task");
        if (manyModels) table.AddColumn("model");
        if (manyBudgets) Column("samples");
        if (manySeeds) Column("seeds");
        bool withTrainSet = groups.Any(g => g.TrainExactMatch is not null);
        bool anyStillLearning = groups.Any(g => g.StillLearning > 0);
        var published = new Papers.PublishedColumn();
        string PublishedCell(GroupResult g)
        {
            var first = runs[g.Runs[0]];
            return published.Cell(first.Cell.Task, g.Method, g.Model.Backbone,
                Papers.PublishedColumn.Budget(first.Cell.Config.Training, g.Model, first.Result.Training.Parameters));
        }
        var publishedCells = groups.ToDictionary(g => g.Group, PublishedCell);
        if (groups.All(g => g.Creativity is not null))
        {
            PrintCreativity(table, groups, results, publishedCells, published, manyTasks, manyModels, manyBudgets, manySeeds);
            return;
        }
        Column("exact");
        if (published.Any) Column("published");
        if (withTrainSet)
        {
            Column("train exact");
            Column("fits");
        }
        foreach (string header in new[] { "first dec.", "chance", "forced", "time", "tokens/s" }) Column(header);
        var probeColumns = ProbeSuite.All.SelectMany(p => p.Columns.Select(c => (Probe: p.Name, Column: c))).ToList();
        if (probed) foreach (var (_, column) in probeColumns) Column(column.Header);

        foreach (var g in groups)
        {
            var members = g.Runs.Select(p => runs[p]).ToList();
            var cells = LeadingCells(g, manyTasks, manyModels, manyBudgets, manySeeds);
            cells.Add((g.Seeds == 1 ? Format.Proportion(members[0].Result.Test.ExactMatch, members[0].Result.Test.Examples) : Format.Estimate(g.ExactMatch))
                      + (g.StillLearning > 0 ? " *" : ""));
            if (published.Any) cells.Add(publishedCells[g.Group]);
            if (withTrainSet)
            {
                cells.Add(g.TrainExactMatch is not { } train ? "-" : g.Seeds == 1 ? Format.Percent(train.Mean) : Format.Estimate(train));
                cells.Add(g.Fits is { } fits ? Evaluation.Fits.Describe(fits) : "-");
            }
            cells.Add(g.Seeds == 1 ? Format.Percent(g.FirstDecisionAccuracy.Mean) : Format.Estimate(g.FirstDecisionAccuracy));
            cells.Add(Format.Percent(g.FirstDecisionChance));
            cells.Add(g.Seeds == 1 ? Format.Percent(g.TeacherForcedAccuracy.Mean) : Format.Estimate(g.TeacherForcedAccuracy));
            cells.Add($"{g.TrainSeconds:F0} s");
            cells.Add($"{members.Average(m => m.Result.Training.TokensPerSecond):N0}");
            if (probed)
                foreach (var (probe, column) in probeColumns)
                {
                    var values = members.Select(m => probes[m.Path].GetValueOrDefault(probe)).OfType<object>().Select(column.Value).OfType<double>().ToList();
                    cells.Add(values switch
                    {
                        [] => "-",
                        _ when !column.IsRate => $"{values.Average():F1}",
                        [var one] => Format.Percent(one),
                        _ => Format.Estimate(Estimate.Of(values)),
                    });
                }
            table.AddRow([.. cells.Select(Markup.Escape)]); // labels and intervals hold brackets
        }
        AnsiConsole.Write(table);
        if (!manySeeds)
            foreach (var r in results) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(ReportLabel(r))}: {Markup.Escape(r.Path)}[/]");
        Legend(manySeeds ? "mean ± 95% CI over seeds (Student t)" : "[lower, upper] Wilson 95% interval over test examples", probed);
        foreach (string footnote in published.Footnotes) AnsiConsole.MarkupLine($"[grey]published {Markup.Escape(footnote)}[/]");
        if (withTrainSet)
            AnsiConsole.MarkupLine($"[grey]train exact: the same greedy decoding on the first {Markup.Escape($"{results[0].Result.TrainSet?.Examples:N0}")} training examples, which the run trained on. " +
                                   $"fits: exact match >= {100 * Evaluation.Fits.Threshold:F0}% on the training sample, the test set, both or neither.[/]");
        if (anyStillLearning)
        {
            AnsiConsole.MarkupLine("[yellow]* still learning when it stopped (test exact match above its earlier 95% interval, or the loss still falling): " +
                                   "a budget, not a result; more samples (--train-samples, --epochs) may change it.[/]");
            foreach (var r in results.Where(r => r.Result.Convergence is { Converged: false }))
                AnsiConsole.MarkupLine($"[grey]  {Markup.Escape(ReportLabel(r))} seed {r.Cell.Config.Training.Seed}: {Markup.Escape(r.Result.Convergence!.Reason)}[/]");
        }
    }

    /// <summary>One run's row (train, train --resume).</summary>
    public static void Print(RunConfig config, Tasks.ITask task, string path, Training.RunResult result)
    {
        var results = new[] { new CellResult(new ExperimentCell(path, path, config, task), path, result) };
        Print(GroupResult.Aggregate(results), results);
    }

    /// <summary>Open-ended tasks: creativity and its parts per group, the published creativity beside them.</summary>
    private static void PrintCreativity(Table table, IReadOnlyList<GroupResult> groups, IReadOnlyList<CellResult> results, IReadOnlyDictionary<string, string> publishedCells,
        Papers.PublishedColumn published, bool manyTasks, bool manyModels, bool manyBudgets, bool manySeeds)
    {
        void Column(string header) => table.AddColumn(new TableColumn(header).RightAligned());
        foreach (string header in new[] { "creativity" }.Concat(published.Any ? ["published"] : []).Concat(["coherent", "unique", "original", "answers", "drawn", "time"])) Column(header);
        foreach (var g in groups)
        {
            var c = g.Creativity!;
            string Cell(Estimate e) => g.Seeds == 1 ? Format.Percent(e.Mean) : Format.Estimate(e);
            var cells = LeadingCells(g, manyTasks, manyModels, manyBudgets, manySeeds);
            cells.Add(Cell(c.Creativity) + (g.StillLearning > 0 ? " *" : ""));
            if (published.Any) cells.Add(publishedCells[g.Group]);
            cells.AddRange([Cell(c.Coherence), Cell(c.Uniqueness), Cell(c.Originality), $"{c.Samples:N0}",
                Evaluation.CreativityMetrics.Drawing(c.Prefix, c.Temperature), $"{g.TrainSeconds:F0} s"]);
            table.AddRow([.. cells.Select(Markup.Escape)]);
        }
        AnsiConsole.Write(table);
        if (!manySeeds)
            foreach (var r in results) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(ReportLabel(r))}: {Markup.Escape(r.Path)}[/]");
        AnsiConsole.MarkupLine("[grey]" + Markup.Escape((manySeeds ? "mean ± 95% CI over seeds (Student t). " : "") +
            "creativity (Nagarajan et al. 2025): distinct answers that are coherent and not in the training set, over all answers generated for the " +
            "held-out prompts; coherent, unique, original: each part alone, as a share of all answers. drawn: the prompts' prefix and how answers were decoded.") + "[/]");
        foreach (string footnote in published.Footnotes) AnsiConsole.MarkupLine($"[grey]published {Markup.Escape(footnote)}[/]");
        if (groups.Any(g => g.StillLearning > 0))
            AnsiConsole.MarkupLine("[yellow]* still learning when it stopped: a budget, not a result.[/]");
    }

    /// <summary>A row's label, then its task, model, budget and seed count where the table's rows differ in them.</summary>
    private static List<string> LeadingCells(GroupResult g, bool manyTasks, bool manyModels, bool manyBudgets, bool manySeeds)
    {
        var cells = new List<string> { g.Label };
        if (manyTasks) cells.Add(g.Task);
        if (manyModels) cells.Add($"{g.Model.Layers}x{g.Model.Width}");
        if (manyBudgets) cells.Add($"{g.TrainSamples:N0}" + (g.Epochs > 1 ? $" x {g.Epochs}" : ""));
        if (manySeeds) cells.Add($"{g.Seeds}");
        return cells;
    }

    private static string ReportLabel(CellResult r) => Reports.ReportRun.VariantLabel(r.Cell.Config);

    private static void Legend(string interval, bool probed)
    {
        AnsiConsole.MarkupLine($"[grey]exact: the whole answer right under greedy decoding ({Markup.Escape(interval)}). first dec.: the hard token (path-star: the node " +
                               "after the source, chance 1/degree; addition: the first digit written; minimal planning: the shared node's successor, at distances 2 and up). forced: per-token accuracy given the true earlier tokens. time: training only.[/]");
        if (probed)
            AnsiConsole.MarkupLine("[grey]CH follow: after a forced wrong first node, greedy continuations that follow the wrong arm at every step " +
                                   "before the last (Clever Hans). plan probe: a linear probe at '=' picks the goal's arm (chance 1/d), best layer, held out. " +
                                   "backtrack: exact match when the verifier prunes a depth-first search over the model's ranked tokens; search tok: the tokens it wrote per instance.[/]");
    }
}
