using System.Globalization;
using System.Text;
using Foresight.Evaluation;
using Foresight.Presentation;
using Foresight.Probes;
using Foresight.Runs;

namespace Foresight.Reports;

/// <summary>What a report's training curves are drawn against.</summary>
public enum CurveAxis
{
    /// <summary>Training samples seen: comparable across batch sizes.</summary>
    Samples,

    /// <summary>Optimizer steps (training iterations), as papers often plot; needs runs of one batch size.</summary>
    Iterations,
}

/// <summary>
/// report.md and its PNG figures for a set of runs: one row and one curve per method (per task),
/// averaged over seeds where a method has several.
/// </summary>
public static class Report
{
    public const string FileName = "report.md";

    /// <summary>
    /// Runs of one method (label) on one task, model and budget: the seeds of one table row. <paramref name="ShowBudget"/>:
    /// the report holds other budgets or models of this method, so the name says which one this is.
    /// </summary>
    private sealed record Series(string Label, Tasks.ITask Task, string Budget, IReadOnlyList<ReportRun> Runs, bool ShowBudget = false)
    {
        /// <summary>What the report calls the task: its description, marked with any option that sets its variant apart.</summary>
        public string TaskLabel => Runs[0].Config.Task.Label;

        public string Name(bool withTask) => (withTask ? $"{Label} {TaskLabel}" : Label) + (ShowBudget ? $" ({Budget})" : "");
        public IEnumerable<ReportRun> Finished => Runs.Where(r => r.Summary is not null);

        /// <summary>The runs with periodic evaluations to draw a training curve from.</summary>
        public IReadOnlyList<ReportRun> WithCurves => [.. Runs.Where(r => r.Metrics.Count > 0)];
    }

    /// <summary>What sets runs of one method apart besides their seed: "4 x 128, 1,000 x 192, batch 64, lr 0.0005" (model, training samples x epochs, recipe).</summary>
    private static string BudgetOf(RunConfig config) => string.Create(CultureInfo.InvariantCulture,
        $"{config.Model.Layers} x {config.Model.Width}, {config.Training.TrainSamples:N0} x {config.Training.Epochs}, batch {config.Training.BatchSize}, lr {config.Training.LearningRate}");

    /// <summary>Writes the report into <paramref name="directory"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<ReportRun> runs, string directory, bool overwrite, CurveAxis axis = CurveAxis.Samples)
    {
        if (runs.Count == 0) throw new UserError("there are no runs to report on");
        string markdownFile = Path.Combine(directory, FileName);
        if (File.Exists(markdownFile) && !overwrite)
            throw new UserError($"{markdownFile} already exists; pass --overwrite to replace it or --out to write elsewhere");
        Directory.CreateDirectory(directory);

        var allSeries = runs.GroupBy(r => (Task: r.Config.Task.Label, r.Label, Budget: BudgetOf(r.Config)))
            .Select(g => new Series(g.Key.Label, g.First().Task, g.Key.Budget, g.OrderBy(r => r.Config.Training.Seed).ToList()))
            .ToList();
        allSeries = [.. allSeries.Select(s => s with { ShowBudget = allSeries.Count(o => o.Label == s.Label && o.TaskLabel == s.TaskLabel) > 1 })];
        // Open-ended tasks are scored by the answers a model generates, not by one target: a section of their own.
        var openEnded = allSeries.Where(s => s.Task is Tasks.IOpenEndedTask).ToList();
        var series = allSeries.Except(openEnded).ToList();
        bool manyTasks = series.Select(s => s.TaskLabel).Distinct().Count() > 1;
        var chance = series.DistinctBy(s => s.TaskLabel)
            .Select(s => new ReferenceLevel(manyTasks ? $"first decision at chance, {s.TaskLabel}" : "first decision at chance", s.Task.FirstDecisionChance)).ToList();

        var files = new List<string>();
        var figures = new List<(string Title, string File)>();
        void Figure(string title, string file, Action<string> draw)
        {
            string path = Path.Combine(directory, file);
            draw(path);
            files.Add(path);
            figures.Add((title, file));
        }

        var withCurves = series.Where(s => s.WithCurves.Count > 0).ToList();
        if (withCurves.Count > 0)
        {
            var (xLabel, suffix) = axis == CurveAxis.Samples
                ? ("training samples seen", "samples")
                : ($"training iterations (optimizer steps of {IterationBatch(withCurves)} examples)", "iterations");
            Figure("Exact match during training", $"exact_match_vs_{suffix}.png", path => Figures.Lines(path,
                "Exact match (greedy) during training", xLabel, "exact match",
                withCurves.Select(s => Curve(s, m => m.ExactMatch, manyTasks, axis)).ToList(), chance));
            Figure("First decision during training (the Indecipherable token)", $"first_decision_vs_{suffix}.png", path => Figures.Lines(path,
                "First decision accuracy during training", xLabel, "first-decision accuracy",
                withCurves.Select(s => Curve(s, m => m.FirstDecisionAccuracy, manyTasks, axis)).ToList(), chance));
        }

        var finished = series.Where(s => s.Finished.Any()).ToList();
        int maxLength = finished.Select(s => s.Task.TargetLength).DefaultIfEmpty(0).Max();
        if (finished.Count > 0)
            Figure("Accuracy per target position", "accuracy_by_position.png", path => Figures.GroupedBars(path,
                "Greedy accuracy per target position (held-out test set)", PositionAxis(finished), "accuracy",
                Enumerable.Range(0, maxLength).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(),
                finished.Select(s => (s.Name(manyTasks), Pad(Format.Mean([.. s.Finished.Select(r => r.Summary!.Test.PerPositionAccuracy)]), maxLength))).ToList(),
                chance));

        var byDistance = finished.Where(s => s.Finished.All(r => r.Summary!.Test.ByPlanningDistance is not null)).ToList();
        if (byDistance.Count > 0)
            Figure("Exact match by planning distance", "exact_match_by_distance.png", path => Figures.Lines(path,
                "Exact match by planning distance (held-out test set)", "planning distance (steps from the shared node to the goal)", "exact match",
                byDistance.Select(s => DistanceLine(s, manyTasks)).ToList(), [], markers: true));

        foreach (var probe in ProbeSuite.All)
            if (probe.Figure is { } figure && ProbeSeriesOf(series, probe, manyTasks) is { Count: > 0 } probed)
                Figure(figure.Title, figure.FileName, path => figure.Draw(path, probed, chance));

        var creative = openEnded.Where(s => s.Finished.Any()).ToList();
        if (creative.Count > 0)
        {
            static string Short(Series s) => $"{s.Task.Name}, {Json.EnumName(((Tasks.IOpenEndedTask)s.Task).Prefix)}";
            var tasks = creative.Select(Short).Distinct().ToList();
            var labels = creative.Select(s => s.Name(withTask: false)).Distinct().ToList();
            Figure("Algorithmic creativity", "creativity.png", path => Figures.GroupedBars(path,
                "Algorithmic creativity (held-out prompts)", "task, prefix", "creativity",
                tasks, [.. labels.Select(label => (label, tasks.Select(t => creative.FirstOrDefault(s => s.Name(false) == label && Short(s) == t) is { } s
                    ? s.Finished.Average(r => r.Summary!.Test.Creativity!.Creativity) : double.NaN).ToArray()))], []));
        }

        AtomicFile.WriteText(markdownFile, Markdown(series, manyTasks, figures, axis, openEnded));
        files.Insert(0, markdownFile);
        return files;
    }

    private static string Markdown(IReadOnlyList<Series> series, bool manyTasks, IReadOnlyList<(string Title, string File)> figures, CurveAxis axis,
        IReadOnlyList<Series> openEnded)
    {
        var md = new StringBuilder();
        int runCount = series.Concat(openEnded).Sum(s => s.Runs.Count);
        md.AppendLine("# Foresight report").AppendLine();
        md.AppendLine($"{runCount} run(s) on {string.Join(", ", series.Concat(openEnded).Select(s => s.TaskLabel).Distinct())}. " +
                      "Accuracies on each run's held-out test set; with several seeds, mean ± 95% CI over seeds (Student t), " +
                      "otherwise [the Wilson 95% interval over test examples].").AppendLine();
        md.Append(CreativitySection(openEnded));
        if (series.Count == 0)
        {
            foreach (var (title, file) in figures)
                md.AppendLine($"## {title}").AppendLine().AppendLine($"![{title}]({file})").AppendLine();
            AppendRuns(md, openEnded, withTask: true);
            return md.ToString();
        }

        var probeColumns = ProbeSuite.All.SelectMany(p => p.ReportColumns.Select(c => (Probe: p, Column: c))).ToList();
        var published = new Papers.PublishedColumn();
        var publishedCells = series.Select(s => s.Finished.FirstOrDefault() is { } r
            ? published.Cell(s.Task, r.Config.Method, r.Config.Model.Backbone, Papers.PublishedColumn.Budget(r.Config.Training, r.Config.Model, r.Summary!.Training.Parameters), r.Config.MethodOptions)
            : "-").ToList();
        md.Append(Format.MarkdownTable(
            ["method", "task", "seeds", "exact", "published", "train exact", "fits", "verdict", "first decision", "chance", "teacher-forced, later tokens", .. probeColumns.Select(c => c.Column.Header)], 2,
            series.Select((s, row) =>
            {
                var done = s.Finished.ToList();
                string exact = done.Count == 1
                    ? Format.Proportion(done[0].Summary!.Test.ExactMatch, done[0].Summary!.Test.Examples)
                    : Format.AcrossSeeds([.. done.Select(r => r.Summary!.Test.ExactMatch)]);
                var trainSet = done.Select(r => r.Summary!.TrainSet).OfType<EvalMetrics>().ToList();
                string fits = trainSet.Count == 0 || trainSet.Count < done.Count ? "-"
                    : Fits.Describe(Fits.Of(trainSet.Average(t => t.ExactMatch), done.Average(r => r.Summary!.Test.ExactMatch)));
                double LaterForced(ReportRun r) => r.Summary!.Test.TeacherForcedPerPosition.Skip(r.Task.FirstDecisionPosition + 1).DefaultIfEmpty(double.NaN).Average();
                return (IReadOnlyList<string>)[s.Name(withTask: false), s.TaskLabel, $"{s.Runs.Count}", exact, publishedCells[row], Format.AcrossSeeds([.. trainSet.Select(t => t.ExactMatch)]), fits,
                    Convergence.Summarise(done.Select(r => r.Summary!.Convergence)),
                    Format.AcrossSeeds([.. done.Select(r => r.Summary!.Test.FirstDecisionAccuracy)]), Format.Percent(s.Task.FirstDecisionChance),
                    Format.AcrossSeeds([.. done.Select(LaterForced)]),
                    .. probeColumns.Select(c => c.Column.Cell([.. done.Select(r => r.Probe(c.Probe.Name)).OfType<object>()]))];
            })));
        foreach (string footnote in published.Footnotes) md.AppendLine($"Published {footnote}").AppendLine();
        md.AppendLine(string.Join(" ", new[]
        {
            "*exact*: the whole path right under greedy decoding. " +
            $"*train exact*: the same decoding on the run's first training examples; *fits*: exact match >= {100 * Fits.Threshold:F0}% on them, on the test set, both or neither. " +
            VerdictLegend + " " +
            "*first decision*: the node after the source, the only token the " +
            "prefix does not give away (minimal planning: the successor of the shared node, where the planning distance is 2 or more). *teacher-forced, later tokens*: accuracy after the first decision given the true earlier tokens.",
        }.Concat(ProbeSuite.All.Select(p => p.ReportLegend).OfType<string>()))).AppendLine();

        foreach (var (title, file) in figures)
            md.AppendLine($"## {title}").AppendLine().AppendLine($"![{title}]({file})").AppendLine();

        md.Append(PerPositionSection(series, manyTasks));
        md.Append(DistanceSection(series, manyTasks));
        md.Append(ReachSection(series, manyTasks, axis));

        foreach (var probe in ProbeSuite.All)
            if (ProbeSeriesOf(series, probe, manyTasks) is { Count: > 0 } probed && probe.ReportSection(probed) is { } section)
                md.AppendLine(section.TrimEnd()).AppendLine();

        AppendRuns(md, [.. series, .. openEnded], manyTasks || openEnded.Count > 0);
        return md.ToString();
    }

    private static void AppendRuns(StringBuilder md, IReadOnlyList<Series> series, bool withTask)
    {
        md.AppendLine("## Runs").AppendLine();
        foreach (var s in series)
            foreach (var run in s.Runs)
                md.AppendLine($"- {s.Name(withTask)}, seed {run.Config.Training.Seed}: `{run.Path}`{(run.Summary is null ? " (not finished)" : "")}");
    }

    private const string VerdictLegend =
        "*verdict*, by the rule over each run's last third of training: *converged* (flat, fits the training sample), *at the floor* (the loss of the task's " +
        "shortcut with the first decision at chance: the task's result, not the budget's), *still learning* (test exact match or loss moving: a budget, not a " +
        "result), *stalled* (flat, fitting neither set: no evidence of a ceiling; a plateau may precede a jump).";

    /// <summary>Open-ended tasks: creativity and its parts per method and task, mean ± 95% CI over seeds, the published creativity beside.</summary>
    private static string CreativitySection(IReadOnlyList<Series> series)
    {
        var rows = series.Where(s => s.Finished.Any()).ToList();
        if (rows.Count == 0) return "";
        var md = new StringBuilder("## Algorithmic creativity\n\n");
        var published = new Papers.PublishedColumn();
        md.Append(Format.MarkdownTable(["method", "task", "seeds", "creativity", "published", "coherent", "unique", "original", "answers", "drawn", "verdict"], 3,
            rows.Select(s =>
            {
                var done = s.Finished.ToList();
                var c = done.Select(r => r.Summary!.Test.Creativity!).ToList();
                string cell = published.Cell(s.Task, done[0].Config.Method, done[0].Config.Model.Backbone,
                    Papers.PublishedColumn.Budget(done[0].Config.Training, done[0].Config.Model, done[0].Summary!.Training.Parameters), done[0].Config.MethodOptions);
                string creativity = Format.AcrossSeeds([.. c.Select(x => x.Creativity)]);
                return (IReadOnlyList<string>)[s.Name(withTask: false), s.TaskLabel, $"{done.Count}", creativity, cell,
                    Format.AcrossSeeds([.. c.Select(x => x.Coherence)]), Format.AcrossSeeds([.. c.Select(x => x.Uniqueness)]),
                    Format.AcrossSeeds([.. c.Select(x => x.Originality)]), $"{c[0].Samples:N0}",
                    CreativityMetrics.Drawing(c[0].Prefix, c[0].Temperature), Convergence.Summarise(done.Select(r => r.Summary!.Convergence))];
            })));
        foreach (string footnote in published.Footnotes) md.AppendLine($"Published {footnote}").AppendLine();
        md.AppendLine("*creativity* (Nagarajan et al. 2025): the distinct answers that are coherent and not in the run's training set, over all the answers " +
                      "generated, one per held-out prompt; *coherent*, *unique*, *original*: each part alone, as a share of all answers. *drawn*: the prompts' prefix " +
                      "(a fresh random seed string each, or the constant null one) and the decoding. " + VerdictLegend).AppendLine();
        md.Append(TheirMetricSection(rows));
        return md.ToString();
    }

    /// <summary>
    /// The same answers by Nagarajan et al.'s evaluation (their eval_qa.py) beside Foresight's, with what a sampler could
    /// score: the training set's share of all answers, a sampler of the training distribution, the best any sampler could.
    /// Runs scored before these were measured are left out.
    /// </summary>
    private static string TheirMetricSection(IReadOnlyList<Series> rows)
    {
        var scored = rows.Where(s => s.Finished.All(r => r.Summary!.Test.Creativity!.PaperCreativity is not null)).ToList();
        if (scored.Count == 0) return "";
        var md = new StringBuilder("### By their evaluation, and against what a sampler could score\n\n");
        md.Append(Format.MarkdownTable(["method", "task", "creativity (theirs)", "diversity (theirs)", "seen (theirs)", "creativity (ours)",
                "coherent and original", "base rate", "data sampler (ours / theirs)", "ceiling"], 2,
            scored.Select(s =>
            {
                var c = s.Finished.Select(r => r.Summary!.Test.Creativity!).ToList();
                string Across(Func<CreativityMetrics, double?> part) =>
                    c.All(x => part(x) is not null) ? Format.AcrossSeeds([.. c.Select(x => part(x)!.Value)]) : "-";
                return (IReadOnlyList<string>)[s.Name(withTask: false), s.TaskLabel, Across(x => x.PaperCreativity), Across(x => x.PaperDiversity),
                    Across(x => x.PaperSeen), Across(x => x.Creativity), Across(x => x.CoherentOriginality), Across(x => x.BaseRate),
                    $"{Across(x => x.DataCreativity)} / {Across(x => x.DataPaperCreativity)}", Across(x => x.Ceiling)];
            })));
        md.AppendLine().AppendLine("*theirs* (Nagarajan et al.'s eval_qa.py): *creativity*, the distinct answer strings that are coherent and not seen in " +
                      "training, over all answers; *diversity*, the distinct coherent answer strings; *seen*, answers their memory check finds in training " +
                      "(sibling: the answer string; triangle: the node set; circle and line: the edge sequence with its vertices renamed by first " +
                      "appearance). *coherent and original*: of the coherent answers, the share not in training, to read against the *base rate*, the " +
                      "share of all the task's coherent answers that training holds. *data sampler*: the creativity of fresh answers drawn as the " +
                      "training answers are (a model that learned the training distribution exactly). *ceiling*: the most any sampler could score, " +
                      "the coherent answers not in training over the answers asked for.").AppendLine();
        return md.ToString();
    }

    /// <summary>The per-position figure's axis: what position 0 is, where the figure's runs agree on it ("target position (0 = the source)").</summary>
    private static string PositionAxis(IReadOnlyList<Series> series) =>
        series.Select(s => s.Task.FirstTargetPosition).Distinct().ToList() is [{ } first] ? $"target position (0 = {first})" : "target position, in each task's order";

    /// <summary>Greedy accuracy at each target position, in the task's order: a position stuck at chance shows as a column of its own.</summary>
    private static string PerPositionSection(IReadOnlyList<Series> series, bool manyTasks)
    {
        var finished = series.Where(s => s.Finished.Any()).ToList();
        if (finished.Count == 0) return "";
        int length = finished.Max(s => s.Task.TargetLength);
        var md = new StringBuilder("## Accuracy per target position, in numbers\n\n");
        md.AppendLine("Greedy accuracy on the held-out test set at each position of the target in the task's order (path-star: 0 is the source; " +
                      "addition: 0 is the carry digit, then the sum's digits, most significant first, whatever order a method writes them in).").AppendLine();
        md.Append(Format.MarkdownTable(["method", "seeds", .. Enumerable.Range(0, length).Select(i => i.ToString(CultureInfo.InvariantCulture))], 1,
            finished.Select(s =>
            {
                var done = s.Finished.ToList();
                return (IReadOnlyList<string>)[s.Name(manyTasks), $"{done.Count}",
                    .. Enumerable.Range(0, length).Select(i => i < s.Task.TargetLength ? Format.AcrossSeeds([.. done.Select(r => r.Summary!.Test.PerPositionAccuracy[i])]) : "-")];
            })));
        return md.ToString();
    }

    /// <summary>Exact match at each planning distance (tasks that have one), mean ± 95% CI over seeds, and the examples each distance had.</summary>
    private static string DistanceSection(IReadOnlyList<Series> series, bool manyTasks)
    {
        var rows = series.Where(s => s.Finished.Any() && s.Finished.All(r => r.Summary!.Test.ByPlanningDistance is not null)).ToList();
        if (rows.Count == 0) return "";
        int distances = rows.Max(s => s.Finished.First().Summary!.Test.ByPlanningDistance!.Length);
        var md = new StringBuilder("## Exact match by planning distance\n\n");
        md.AppendLine("The whole answer right under greedy decoding, on the held-out examples of each planning distance (minimal planning: the steps " +
                      "from the node the two chains share to the goal; 0: the shared node is the goal, so nothing branches). " +
                      "In brackets, a run's test examples at that distance.").AppendLine();
        md.Append(Format.MarkdownTable(["method", "seeds", .. Enumerable.Range(0, distances).Select(d => d.ToString(CultureInfo.InvariantCulture))], 2,
            rows.Select(s =>
            {
                var done = s.Finished.Select(r => r.Summary!.Test.ByPlanningDistance!).ToList();
                return (IReadOnlyList<string>)[s.Name(manyTasks), $"{done.Count}",
                    .. Enumerable.Range(0, distances).Select(d => d < done[0].Length
                        ? $"{Format.AcrossSeeds([.. done.Select(r => r[d].ExactMatch)])} ({done[0][d].Examples:N0})" : "-")];
            })));
        return md.ToString();
    }

    /// <summary>The seeds' mean exact match at each planning distance, with a band of the 95% interval over them when there are several.</summary>
    private static Line DistanceLine(Series s, bool withTask)
    {
        var runs = s.Finished.Select(r => r.Summary!.Test.ByPlanningDistance!).ToList();
        int points = runs.Min(r => r.Length);
        var perPoint = Enumerable.Range(0, points).Select(d => Statistics.MeanWithMargin([.. runs.Select(r => r[d].ExactMatch)])).ToArray();
        double[] x = [.. Enumerable.Range(0, points).Select(d => (double)d)];
        return runs.Count > 1
            ? new Line($"{s.Name(withTask)} (mean ± 95% CI, {runs.Count} seeds)", x, [.. perPoint.Select(p => p.Mean)], [.. perPoint.Select(p => p.Margin95)])
            : new Line(s.Name(withTask), x, [.. perPoint.Select(p => p.Mean)]);
    }

    /// <summary>The exact match whose crossing <see cref="ReachSection"/> times.</summary>
    public const double ReachLevel = 0.95;

    /// <summary>
    /// When each seed first reached 95% exact match at a periodic evaluation, in the curves' axis, and the mean over seeds
    /// with its 95% interval when every seed reached it: the data efficiency a learning curve shows, as a number.
    /// </summary>
    private static string ReachSection(IReadOnlyList<Series> series, bool manyTasks, CurveAxis axis)
    {
        var withCurves = series.Where(s => s.WithCurves.Count > 0).ToList();
        if (withCurves.Count == 0) return "";
        string unit = axis == CurveAxis.Samples ? "samples seen" : "iterations";
        var md = new StringBuilder($"## Reaching {100 * ReachLevel:F0}% exact match\n\n");
        md.AppendLine($"The {unit} at the first periodic evaluation whose exact match (on the evaluation's held-out examples) was {100 * ReachLevel:F0}% or more, " +
                      "per seed; the mean ± 95% CI over seeds when every seed reached it. Evaluations are spaced, so each value is the crossing " +
                      "rounded up to the next evaluation.").AppendLine();
        md.Append(Format.MarkdownTable(["method", "per seed", $"mean {unit}"], 2, withCurves.Select(s =>
        {
            var reached = s.WithCurves.Select(r => r.Metrics.FirstOrDefault(m => m.Metrics.ExactMatch >= ReachLevel) is { } m
                ? (double?)(axis == CurveAxis.Samples ? m.SamplesSeen : m.Step) : null).ToList();
            string mean = reached.All(v => v is not null)
                ? reached.Count == 1 ? reached[0]!.Value.ToString("N0", CultureInfo.InvariantCulture) : Mean(Statistics.MeanWithMargin([.. reached.Select(v => v!.Value)]))
                : $"not reached by {reached.Count(v => v is null)} of {reached.Count} seeds";
            return (IReadOnlyList<string>)[s.Name(manyTasks), string.Join(", ", reached.Select(v => v is { } x ? x.ToString("N0", CultureInfo.InvariantCulture) : "not reached")), mean];
        })));
        return md.ToString();

        static string Mean((double Mean, double Margin95) m) => string.Create(CultureInfo.InvariantCulture, $"{m.Mean:N0} ± {m.Margin95:N0}");
    }

    /// <summary>The rows whose runs have this probe's result, each with its seeds' results.</summary>
    private static List<ProbeSeries> ProbeSeriesOf(IReadOnlyList<Series> series, IProbe probe, bool withTask) =>
        [.. from s in series
            let results = s.Runs.Where(r => r.Probe(probe.Name) is not null).Select(r => (r.Config.Training.Seed, r.Probe(probe.Name)!)).ToList()
            where results.Count > 0
            select new ProbeSeries(s.Name(withTask), results)];

    /// <summary>The seeds' mean curve; with several seeds, a band of the 95% interval over them at each evaluation.</summary>
    private static Line Curve(Series s, Func<EvalMetrics, double> value, bool withTask, CurveAxis axis)
    {
        var curves = s.WithCurves;
        int points = curves.Min(r => r.Metrics.Count);
        var x = curves[0].Metrics.Take(points).Select(m => axis == CurveAxis.Samples ? m.SamplesSeen : (double)m.Step).ToArray();
        var perPoint = Enumerable.Range(0, points)
            .Select(i => Statistics.MeanWithMargin([.. curves.Select(r => value(r.Metrics[i].Metrics))])).ToArray();
        return curves.Count > 1
            ? new Line($"{s.Name(withTask)} (mean ± 95% CI, {curves.Count} seeds)", x, [.. perPoint.Select(p => p.Mean)], [.. perPoint.Select(p => p.Margin95)])
            : new Line(s.Name(withTask), x, [.. perPoint.Select(p => p.Mean)]);
    }

    /// <summary>The one batch size of the curves' runs: an iteration means the same number of examples in each.</summary>
    private static int IterationBatch(IReadOnlyList<Series> series)
    {
        var sizes = series.SelectMany(s => s.WithCurves).Select(r => r.Config.Training.BatchSize).Distinct().Order().ToList();
        return sizes.Count == 1 ? sizes[0]
            : throw new UserError($"curves against iterations need runs of one batch size; these have {string.Join(", ", sizes)} (plot against samples seen instead)");
    }

    private static double[] Pad(double[] values, int length) => values.Concat(Enumerable.Repeat(double.NaN, length - values.Length)).ToArray();
}
