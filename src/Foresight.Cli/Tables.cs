using System.CommandLine;
using Foresight.Evaluation;
using Foresight.Experiments;
using Foresight.Presentation;
using Foresight.Probes;
using Foresight.Runs;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>--wide: the results table with every column, not only those that answer the question.</summary>
internal sealed class TableFlags
{
    public TableFlags(Command command) => command.Options.Add(Wide);

    public Option<bool> Wide { get; } = new("--wide")
    {
        Description = "print the results table with every column (train-set exact, chance, teacher-forced, time, tokens/s, probes; about 160 columns wide); without it, the columns that fit 80",
    };
}

/// <summary>
/// The one results table: a row per group of runs (a method variant on a task, model and budget), seeds pooled. By
/// default it holds what answers the question and fits an 80-column terminal: exact match with its interval, the
/// published number, the first decision, which sets the run fits and its verdict (converged, at the floor, still learning, stalled). --wide adds the
/// diagnostics (train-set exact, chance, teacher-forced accuracy, time, throughput, probes); report.md has them all.
/// </summary>
internal static class Tables
{
    /// <summary>
    /// Prints <paramref name="groups"/>: a column for task, model or budget only where they differ between rows. One
    /// seed: the run's score with its Wilson 95% interval over test examples; several: mean ± 95% CI over seeds (Student t).
    /// </summary>
    public static void Print(IReadOnlyList<GroupResult> groups, IReadOnlyList<CellResult> results, bool wide = false)
    {
        var runs = results.ToDictionary(r => r.Path);
        var shape = new Shape(groups);
        var published = new Papers.PublishedColumn();
        var publishedCells = groups.ToDictionary(g => g.Group, g =>
        {
            var first = runs[g.Runs[0]];
            return published.Cell(first.Cell.Task, g.Method, g.Model.Backbone,
                Papers.PublishedColumn.Budget(first.Cell.Config.Training, g.Model, first.Result.Training.Parameters), first.Cell.Config.MethodOptions);
        });
        if (groups.All(g => g.Creativity is not null))
        {
            PrintCreativity(groups, results, runs, publishedCells, published, shape, wide);
            return;
        }

        var probes = results.ToDictionary(r => r.Path, r => ProbeSuite.Read(RunDirectory.Open(r.Path)));
        bool probed = wide && probes.Values.Any(p => p.Count > 0);
        bool withTrainSet = groups.Any(g => g.TrainExactMatch is not null);
        var examples = results.Select(r => r.Result.Test.Examples).Distinct().ToList();
        var table = shape.Table($"{string.Join(" / ", examples)} held-out examples{(shape.ManySeeds ? " each" : "")}", results);
        foreach (string header in new[] { "exact" }.Concat(published.Any ? ["published"] : []).Append("first dec.").Concat(withTrainSet ? ["fits"] : []).Append("verdict"))
            Column(table, header);
        if (wide)
        {
            foreach (string header in (withTrainSet ? new[] { "train exact" } : []).Concat(["chance", "forced", "time", "tokens/s"])) Column(table, header);
            if (probed) foreach (var (_, column) in ProbeColumns()) Column(table, column.Header);
        }

        foreach (var g in groups)
        {
            var members = g.Runs.Select(p => runs[p]).ToList();
            string Rate(Estimate e) => g.Seeds == 1 ? Format.Percent(e.Mean) : Format.Estimate(e);
            var cells = shape.LeadingCells(g);
            cells.Add(g.Seeds == 1 ? Format.Proportion(members[0].Result.Test.ExactMatch, members[0].Result.Test.Examples) : Format.Estimate(g.ExactMatch));
            if (published.Any) cells.Add(publishedCells[g.Group]);
            cells.Add(Rate(g.FirstDecisionAccuracy));
            if (withTrainSet) cells.Add(g.Fits is { } fits ? Short(fits) : "-");
            cells.Add(g.Verdict);
            if (wide)
            {
                if (withTrainSet) cells.Add(g.TrainExactMatch is { } train ? Rate(train) : "-");
                cells.AddRange([Format.Percent(g.FirstDecisionChance), Rate(g.TeacherForcedAccuracy), $"{g.TrainSeconds:F0} s",
                    $"{members.Average(m => m.Result.Training.TokensPerSecond):N0}"]);
                if (probed)
                    foreach (var (probe, column) in ProbeColumns())
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
            }
            table.AddRow([.. cells.Select(Markup.Escape)]); // labels and intervals hold brackets
        }
        AnsiConsole.Write(table);

        shape.RunPaths(results);
        Note((shape.ManySeeds ? "exact: the whole answer right under greedy decoding, mean ± 95% CI over seeds (Student t)"
                 : "exact: the whole answer right under greedy decoding [Wilson 95% interval over test examples]") +
             $". first dec.: the hard token, {FirstDecisionMeaning(groups)} (path-star: the node after the source; addition: the first digit written; " +
             "minimal planning: the shared node's successor, at distances 2 and up).");
        foreach (string footnote in published.Footnotes) Note($"published {footnote}");
        if (withTrainSet)
            Note($"fits: exact match >= {100 * Evaluation.Fits.Threshold:F0}% on the first {results[0].Result.TrainSet?.Examples:N0} training examples (which the run trained on), " +
                 "the test set, both or neither.");
        VerdictNotes(results);
        if (wide)
        {
            Note("train exact: the same greedy decoding on those training examples. forced: per-token accuracy given the true earlier tokens. time: training only.");
            if (probed)
                Note("CH follow: after a forced wrong first node, greedy continuations that follow the wrong arm at every step before the last (Clever Hans). " +
                     "plan probe: a linear probe at '=' picks the goal's arm (chance 1/d), best layer, held out. backtrack: exact match when the verifier " +
                     "prunes a depth-first search over the model's ranked tokens; search tok: the tokens it wrote per instance.");
        }
        else
            Note("--wide adds train-set exact, chance, teacher-forced accuracy, time, tokens/s and the probes; report.md has them too.");
    }

    /// <summary>One run's row (train, train --resume).</summary>
    public static void Print(RunConfig config, string path, RunResult result, bool wide = false)
    {
        var results = new[] { new CellResult(new ExperimentCell(path, path, config), path, result) };
        Print(GroupResult.Aggregate(results), results, wide);
    }

    /// <summary>Open-ended tasks: creativity and its parts per group, the published creativity beside them.</summary>
    private static void PrintCreativity(IReadOnlyList<GroupResult> groups, IReadOnlyList<CellResult> results, IReadOnlyDictionary<string, CellResult> runs,
        IReadOnlyDictionary<string, string> publishedCells, Papers.PublishedColumn published, Shape shape, bool wide)
    {
        var drawn = groups.Select(g => CreativityMetrics.Drawing(g.Creativity!.Prefix, g.Creativity.Temperature)).Distinct().ToList();
        var table = shape.Table(drawn.Count == 1 ? $"answers drawn: {drawn[0]}" : "answers drawn as each row says", results);
        foreach (string header in new[] { "creativity" }.Concat(published.Any ? ["published"] : []).Concat(["coherent", "unique", "original", "verdict"]))
            Column(table, header);
        if (wide) foreach (string header in new[] { "answers", "drawn", "time" }) Column(table, header);
        foreach (var g in groups)
        {
            var c = g.Creativity!;
            string Cell(Estimate e) => g.Seeds == 1 ? Format.Percent(e.Mean) : Format.Estimate(e);
            var cells = shape.LeadingCells(g);
            cells.Add(Cell(c.Creativity));
            if (published.Any) cells.Add(publishedCells[g.Group]);
            cells.AddRange([Cell(c.Coherence), Cell(c.Uniqueness), Cell(c.Originality), g.Verdict]);
            if (wide) cells.AddRange([$"{c.Samples:N0}", CreativityMetrics.Drawing(c.Prefix, c.Temperature), $"{g.TrainSeconds:F0} s"]);
            table.AddRow([.. cells.Select(Markup.Escape)]);
        }
        AnsiConsole.Write(table);
        shape.RunPaths(results);
        Note((shape.ManySeeds ? "mean ± 95% CI over seeds (Student t). " : "") +
             "creativity (Nagarajan et al. 2025): distinct answers that are coherent and not in the training set, over all answers generated for the " +
             "held-out prompts; coherent, unique, original: each part alone, as a share of all answers.");
        VerdictNotes(results);
        foreach (string footnote in published.Footnotes) Note($"published {footnote}");
        if (!wide) Note("--wide adds the answers scored per run, how they were drawn and the training time.");
    }

    /// <summary>Which columns a table needs besides the scores: task, model, budget or seeds only where its rows differ in them.</summary>
    private sealed class Shape(IReadOnlyList<GroupResult> groups)
    {
        private readonly bool _manyTasks = groups.Select(g => g.Task).Distinct().Count() > 1;
        private readonly bool _manyModels = groups.Select(g => g.Model).Distinct().Count() > 1;
        private readonly bool _manyBudgets = groups.Select(g => (g.TrainSamples, g.Epochs)).Distinct().Count() > 1;

        public bool ManySeeds { get; } = groups.Any(g => g.Seeds > 1);

        /// <summary>A table titled with the task(s), the seeds and <paramref name="what"/>, with the leading columns.</summary>
        public Table Table(string what, IReadOnlyList<CellResult> results)
        {
            string seeds = string.Join(", ", results.Select(r => r.Cell.Config.Training.Seed).Distinct());
            var table = new Table().Border(TableBorder.Simple)
                .Title($"{Markup.Escape(string.Join(", ", groups.Select(g => g.Task).Distinct()))}, " +
                       (ManySeeds ? $"{groups.Max(g => g.Seeds)} seeds ({seeds}), " : "") + Markup.Escape(what))
                .AddColumn(new TableColumn("method").Padding(0, 1));
            if (_manyTasks) table.AddColumn(new TableColumn("task").Padding(0, 1));
            if (_manyModels) table.AddColumn(new TableColumn("model").Padding(0, 1));
            if (_manyBudgets) Column(table, "samples");
            if (ManySeeds) Column(table, "seeds");
            return table;
        }

        /// <summary>A row's label, then its task, model, budget and seed count where the table's rows differ in them.</summary>
        public List<string> LeadingCells(GroupResult g)
        {
            var cells = new List<string> { g.Label };
            if (_manyTasks) cells.Add(g.Task);
            if (_manyModels) cells.Add($"{g.Model.Layers}x{g.Model.Width}");
            if (_manyBudgets) cells.Add($"{g.TrainSamples:N0}" + (g.Epochs > 1 ? $" x {g.Epochs}" : ""));
            if (ManySeeds) cells.Add($"{g.Seeds}");
            return cells;
        }

        /// <summary>With one seed a row is one run: where it is.</summary>
        public void RunPaths(IReadOnlyList<CellResult> results)
        {
            if (!ManySeeds)
                foreach (var r in results) Note($"{r.Cell.Config.Label}: {r.Path}");
        }
    }

    /// <summary>A right-aligned column; one space between columns (Spectre's default of three makes the table too wide for 80 columns).</summary>
    private static void Column(Table table, string header) => table.AddColumn(new TableColumn(header).RightAligned().Padding(0, 1));

    private static IEnumerable<(string Probe, ProbeColumn Column)> ProbeColumns() =>
        ProbeSuite.All.SelectMany(p => p.Columns.Select(c => (p.Name, c)));

    /// <summary>What the four verdicts mean, then why each run that had not converged stands where it does.</summary>
    private static void VerdictNotes(IReadOnlyList<CellResult> results)
    {
        Note("verdict, over the last third of training: converged (flat, fits the training sample); at the floor (the loss of the " +
             "task's shortcut, first decision at chance: the task's result, not the budget's); still learning (test exact match or loss " +
             "moving: a budget, not a result); stalled (flat, fitting neither set: no evidence of a ceiling, a plateau may precede a jump).");
        foreach (var r in results.Where(r => r.Result.Convergence is { Verdict: not Verdict.Converged }))
            Note($"  {r.Cell.Config.Label} seed {r.Cell.Config.Training.Seed}, {r.Result.Convergence!.Word}: {r.Result.Convergence.Reason}");
    }

    private static string Short(Fit fit) => fit switch
    {
        Fit.TrainAndTest => "both",
        Fit.TrainOnly => "train",
        Fit.TestOnly => "test",
        _ => "neither",
    };

    /// <summary>"chance 50.0%", or each task's chance where the rows' tasks differ.</summary>
    private static string FirstDecisionMeaning(IReadOnlyList<GroupResult> groups)
    {
        var chances = groups.DistinctBy(g => g.Task).Select(g => (g.Task, Chance: Format.Percent(g.FirstDecisionChance))).ToList();
        return chances.Select(c => c.Chance).Distinct().Count() == 1
            ? $"chance {chances[0].Chance}"
            : "chance " + string.Join(", ", chances.Select(c => $"{c.Chance} on {c.Task}"));
    }

    private static void Note(string text) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");
}
