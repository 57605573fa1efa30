using System.Globalization;
using System.Text;
using Foresight.Evaluation;
using Foresight.Probes;

namespace Foresight.Reports;

/// <summary>
/// report.md and its PNG figures for a set of runs: one row and one curve per method (per task),
/// averaged over seeds where a method has several.
/// </summary>
public static class Report
{
    public const string FileName = "report.md";

    /// <summary>Runs of one method (label) on one task: the seeds of one table row.</summary>
    private sealed record Series(string Label, Tasks.ITask Task, IReadOnlyList<ReportRun> Runs)
    {
        public string Name(bool withTask) => withTask ? $"{Label} {Task.Description}" : Label;
        public IEnumerable<ReportRun> Finished => Runs.Where(r => r.Summary is not null);
    }

    /// <summary>Writes the report into <paramref name="directory"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<ReportRun> runs, string directory, bool overwrite)
    {
        if (runs.Count == 0) throw new UserError("there are no runs to report on");
        string markdownFile = Path.Combine(directory, FileName);
        if (File.Exists(markdownFile) && !overwrite)
            throw new UserError($"{markdownFile} already exists; pass --overwrite to replace it or --out to write elsewhere");
        Directory.CreateDirectory(directory);

        var series = runs.GroupBy(r => (r.Task.Description, r.Label))
            .Select(g => new Series(g.Key.Label, g.First().Task, g.OrderBy(r => r.Config.Training.Seed).ToList()))
            .ToList();
        bool manyTasks = series.Select(s => s.Task.Description).Distinct().Count() > 1;
        var chance = series.Select(s => s.Task).DistinctBy(t => t.Description)
            .Select(t => new ReferenceLevel(manyTasks ? $"chance 1/d, {t.Description}" : "chance (1/d)", t.FirstDecisionChance)).ToList();

        var files = new List<string>();
        var figures = new List<(string Title, string File)>();
        void Figure(string title, string file, Action<string> draw)
        {
            string path = Path.Combine(directory, file);
            draw(path);
            files.Add(path);
            figures.Add((title, file));
        }

        var withCurves = series.Where(s => s.Runs.Any(r => r.Metrics.Count > 0)).ToList();
        if (withCurves.Count > 0)
        {
            Figure("Exact match during training", "exact_match_vs_samples.png", path => Figures.Lines(path,
                "Exact match (greedy) during training", "training samples seen", "exact match",
                withCurves.Select(s => Curve(s, m => m.ExactMatch, manyTasks)).ToList(), chance));
            Figure("First decision during training (the Indecipherable token)", "first_decision_vs_samples.png", path => Figures.Lines(path,
                "First decision accuracy during training", "training samples seen", "first-decision accuracy",
                withCurves.Select(s => Curve(s, m => m.FirstDecisionAccuracy, manyTasks)).ToList(), chance));
        }

        var finished = series.Where(s => s.Finished.Any()).ToList();
        int maxLength = finished.Select(s => s.Task.TargetLength).DefaultIfEmpty(0).Max();
        if (finished.Count > 0)
            Figure("Accuracy per target position", "accuracy_by_position.png", path => Figures.GroupedBars(path,
                "Greedy accuracy per target position (held-out test set)", "target position (0 = source)", "accuracy",
                Enumerable.Range(0, maxLength).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(),
                finished.Select(s => (s.Name(manyTasks), Pad(Format.Mean([.. s.Finished.Select(r => r.Summary!.Test.PerPositionAccuracy)]), maxLength))).ToList(),
                chance));

        foreach (var probe in ProbeSuite.All)
            if (probe.Figure is { } figure && ProbeSeriesOf(series, probe, manyTasks) is { Count: > 0 } probed)
                Figure(figure.Title, figure.FileName, path => figure.Draw(path, probed, chance));

        File.WriteAllText(markdownFile + ".tmp", Markdown(series, manyTasks, figures));
        File.Move(markdownFile + ".tmp", markdownFile, overwrite: true);
        files.Insert(0, markdownFile);
        return files;
    }

    private static string Markdown(IReadOnlyList<Series> series, bool manyTasks, IReadOnlyList<(string Title, string File)> figures)
    {
        var md = new StringBuilder();
        int runCount = series.Sum(s => s.Runs.Count);
        md.AppendLine("# Foresight report").AppendLine();
        md.AppendLine($"{runCount} run(s) on {string.Join(", ", series.Select(s => s.Task.Description).Distinct())}. " +
                      "Accuracies on each run's held-out test set; with several seeds, mean ± 95% CI over seeds (Student t), " +
                      "otherwise [the Wilson 95% interval over test examples].").AppendLine();

        var probeColumns = ProbeSuite.All.SelectMany(p => p.ReportColumns.Select(c => (Probe: p, Column: c))).ToList();
        var published = new Papers.PublishedColumn();
        var publishedCells = series.Select(s => s.Finished.FirstOrDefault() is { } r
            ? published.Cell(s.Task, r.Config.Method, r.Config.Model.Backbone, Papers.PublishedColumn.Budget(r.Config.Training, r.Config.Model, r.Summary!.Training.Parameters))
            : "-").ToList();
        md.Append(Format.MarkdownTable(
            ["method", "task", "seeds", "exact", "published", "train exact", "fits", "first decision", "chance", "teacher-forced, later tokens", .. probeColumns.Select(c => c.Column.Header)], 2,
            series.Select((s, row) =>
            {
                var done = s.Finished.ToList();
                string exact = done.Count == 1
                    ? Format.Proportion(done[0].Summary!.Test.ExactMatch, done[0].Summary!.Test.Examples)
                    : Format.AcrossSeeds([.. done.Select(r => r.Summary!.Test.ExactMatch)]);
                if (done.Any(r => r.Summary!.Convergence is { Converged: false })) exact += " *";
                var trainSet = done.Select(r => r.Summary!.TrainSet).OfType<EvalMetrics>().ToList();
                string fits = trainSet.Count == 0 || trainSet.Count < done.Count ? "-"
                    : Fits.Describe(Fits.Of(trainSet.Average(t => t.ExactMatch), done.Average(r => r.Summary!.Test.ExactMatch)));
                double LaterForced(ReportRun r) => r.Summary!.Test.TeacherForcedPerPosition.Skip(r.Task.FirstDecisionPosition + 1).DefaultIfEmpty(double.NaN).Average();
                return (IReadOnlyList<string>)[s.Label, s.Task.Description, $"{s.Runs.Count}", exact, publishedCells[row], Format.AcrossSeeds([.. trainSet.Select(t => t.ExactMatch)]), fits,
                    Format.AcrossSeeds([.. done.Select(r => r.Summary!.Test.FirstDecisionAccuracy)]), Format.Percent(s.Task.FirstDecisionChance),
                    Format.AcrossSeeds([.. done.Select(LaterForced)]),
                    .. probeColumns.Select(c => c.Column.Cell([.. done.Select(r => r.Probe(c.Probe.Name)).OfType<object>()]))];
            })));
        foreach (string footnote in published.Footnotes) md.AppendLine($"Published {footnote}").AppendLine();
        md.AppendLine(string.Join(" ", new[]
        {
            "*exact*: the whole path right under greedy decoding; * marks a row with a run still learning when it stopped (its test exact match above " +
            "the 95% interval of its first evaluation in the last third of training, or its loss still falling by more than 10% over it): a budget, not a result. " +
            $"*train exact*: the same decoding on the run's first training graphs; *fits*: exact match >= {100 * Fits.Threshold:F0}% on them, on the test set, both or neither. " +
            "*first decision*: the node after the source, the only token the " +
            "prefix does not give away. *teacher-forced, later tokens*: accuracy after the first decision given the true earlier tokens.",
        }.Concat(ProbeSuite.All.Select(p => p.ReportLegend).OfType<string>()))).AppendLine();

        foreach (var (title, file) in figures)
            md.AppendLine($"## {title}").AppendLine().AppendLine($"![{title}]({file})").AppendLine();

        foreach (var probe in ProbeSuite.All)
            if (ProbeSeriesOf(series, probe, manyTasks) is { Count: > 0 } probed && probe.ReportSection(probed) is { } section)
                md.AppendLine(section.TrimEnd()).AppendLine();

        md.AppendLine("## Runs").AppendLine();
        foreach (var s in series)
            foreach (var run in s.Runs)
                md.AppendLine($"- {s.Name(manyTasks)}, seed {run.Config.Training.Seed}: `{run.Path}`{(run.Summary is null ? " (not finished)" : "")}");
        return md.ToString();
    }

    /// <summary>The rows whose runs have this probe's result, each with its seeds' results.</summary>
    private static List<ProbeSeries> ProbeSeriesOf(IReadOnlyList<Series> series, IProbe probe, bool withTask) =>
        [.. from s in series
            let results = s.Runs.Where(r => r.Probe(probe.Name) is not null).Select(r => (r.Config.Training.Seed, r.Probe(probe.Name)!)).ToList()
            where results.Count > 0
            select new ProbeSeries(s.Name(withTask), results)];

    private static Line Curve(Series s, Func<EvalMetrics, double> value, bool withTask)
    {
        var curves = s.Runs.Where(r => r.Metrics.Count > 0).ToList();
        int points = curves.Min(r => r.Metrics.Count);
        var x = curves[0].Metrics.Take(points).Select(m => (double)m.SamplesSeen).ToArray();
        var y = Format.Mean(curves.Select(r => r.Metrics.Take(points).Select(m => value(m.Metrics)).ToArray()).ToList());
        return new Line(curves.Count > 1 ? $"{s.Name(withTask)} (mean of {curves.Count} seeds)" : s.Name(withTask), x, y);
    }

    private static double[] Pad(double[] values, int length) => values.Concat(Enumerable.Repeat(double.NaN, length - values.Length)).ToArray();
}
