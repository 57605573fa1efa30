using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
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
                withCurves.Select(s => Curve(s, "exact_match", manyTasks)).ToList(), chance));
            Figure("First decision during training (the Indecipherable token)", "first_decision_vs_samples.png", path => Figures.Lines(path,
                "First decision accuracy during training", "training samples seen", "first-decision accuracy",
                withCurves.Select(s => Curve(s, "first_decision_accuracy", manyTasks)).ToList(), chance));
        }

        var finished = series.Where(s => s.Finished.Any()).ToList();
        int maxLength = finished.Select(s => s.Task.TargetLength).DefaultIfEmpty(0).Max();
        if (finished.Count > 0)
            Figure("Accuracy per target position", "accuracy_by_position.png", path => Figures.GroupedBars(path,
                "Greedy accuracy per target position (held-out test set)", "target position (0 = source)", "accuracy",
                Enumerable.Range(0, maxLength).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(),
                finished.Select(s => (s.Name(manyTasks), Pad(Mean(s.Finished.Select(r => Numbers(r.Summary!["per_position_accuracy"])).ToList()), maxLength))).ToList(),
                chance));

        var probed = series.Where(s => s.Runs.Any(r => r.Probe(PlanningProbe.Name) is not null)).ToList();
        if (probed.Count > 0)
            Figure("Planning probe per layer", "planning_probe.png", path => Figures.Lines(path,
                "Linear probe at '=' for the first decision (held out)", "layer (0 = embeddings)", "branch accuracy",
                probed.Select(s => PlanCurve(s, manyTasks)).ToList(), chance, markers: true));

        var stepped = series.SelectMany(s => s.Runs.Select(r => (Series: s, Run: r, Steps: r.Probe(DecodeStepsProbe.Name)))).Where(x => x.Steps is not null).ToList();
        if (stepped.Count > 0)
            Figure("Diffusion: accuracy against denoising steps", "accuracy_vs_steps.png", path => Figures.Lines(path,
                "Exact match against denoising steps K (held-out test set)", "denoising steps K", "exact match",
                stepped.SelectMany(x => StepsCurves(x.Series, x.Run, x.Steps!, manyTasks, stepped.Count > 1)).ToList(), [], markers: true));

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

        md.AppendLine("| method | task | seeds | exact | first decision | chance | teacher-forced, later tokens | Clever-Hans: follows wrong arm (before last / to the end) | ends at goal | plan probe: best layer | search: best of 4 / backtrack | backtrack: tokens per instance |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in series)
        {
            var done = s.Finished.ToList();
            string Cell(Func<ReportRun, double?> value, bool withExampleMargin = false) => Format(
                done.Select(value).Where(v => v is not null).Select(v => v!.Value).ToList(),
                withExampleMargin && done.Count == 1 ? done[0].Summary!["examples"]?.GetValue<int>() : null);
            double? LaterForced(ReportRun r) => Numbers(r.Summary!["teacher_forced_per_position"]).Skip(r.Task.FirstDecisionPosition + 1).DefaultIfEmpty(double.NaN).Average();
            double? Probe(ReportRun r, string probe, string key) => r.Probe(probe)?[key]?.GetValue<double>();
            double? Search(ReportRun r, string decoder, string key) => r.Probe(SearchProbe.Name)?[decoder]?[key]?.GetValue<double>();
            var best = s.Runs.Select(r => r.Probe(PlanningProbe.Name)?["best"]).Where(b => b is not null).ToList();
            string bestLayer = best.Count == 0 ? "-" : string.Join(", ", best.Select(b =>
                $"{Percent(b!["branch_accuracy"]!.GetValue<double>())} (layer {b["layer"]})"));
            md.AppendLine($"| {s.Label} | {s.Task.Description} | {s.Runs.Count} | {Cell(r => r.Summary!["exact_match"]!.GetValue<double>(), withExampleMargin: true)} | " +
                          $"{Cell(r => r.Summary!["first_decision_accuracy"]!.GetValue<double>())} | {Percent(s.Task.FirstDecisionChance)} | {Cell(LaterForced)} | " +
                          $"{Cell(r => Probe(r, CleverHansProbe.Name, "follow_rate_before_last"))} / {Cell(r => Probe(r, CleverHansProbe.Name, "follow_rate"))} | " +
                          $"{Cell(r => Probe(r, CleverHansProbe.Name, "ends_at_goal_rate"))} | {bestLayer} | " +
                          $"{Cell(r => Search(r, "best_of_k", "exact_match"))} / {Cell(r => Search(r, "backtrack", "exact_match"))} | {Tokens(done.Select(r => Search(r, "backtrack", "tokens_per_instance")))} |");
        }
        md.AppendLine();
        md.AppendLine("*exact*: the whole path right under greedy decoding. *first decision*: the node after the source, the only token the " +
                      "prefix does not give away. *teacher-forced, later tokens*: accuracy after the first decision given the true earlier tokens. " +
                      "*Clever-Hans*: after the true source and a forced wrong first node, the share of greedy continuations that follow the " +
                      "wrong arm at every step before the last token, and to its leaf; *ends at goal*: the last token is the goal anyway. " +
                      "*plan probe*: a linear classifier on the hidden state at '=' picks the goal's arm among the source's arms (chance 1/d), " +
                      "scored on held-out examples; the best layer is shown. *search*: the same model decoded with the task's verifier: " +
                      $"the first of {SearchProbe.Samples} samples (temperature 1) it accepts, and a depth-first search over the model's ranked tokens " +
                      "that it prunes; *tokens per instance* counts every token the search wrote, including those it took back (greedy: the answer length).").AppendLine();

        foreach (var (title, file) in figures)
            md.AppendLine($"## {title}").AppendLine().AppendLine($"![{title}]({file})").AppendLine();

        var plans = series.SelectMany(s => s.Runs.Select(r => (Series: s, Run: r, Plan: r.Probe(PlanningProbe.Name)))).Where(x => x.Plan is not null).ToList();
        if (plans.Count > 0)
        {
            int layers = plans.Max(p => p.Plan!["layers"]!.AsArray().Count);
            md.AppendLine("### Planning probe per layer: branch accuracy (shuffled-label control; positive control: goal node)").AppendLine();
            md.AppendLine("| run | " + string.Join(" | ", Enumerable.Range(0, layers).Select(l => l == 0 ? "embeddings" : $"block {l}")) + " |");
            md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", layers)));
            foreach (var (s, run, plan) in plans)
                md.AppendLine($"| {s.Name(manyTasks)} seed {run.Config.Training.Seed} | " + string.Join(" | ", plan!["layers"]!.AsArray().Select(l =>
                    $"{Percent(l!["branch_accuracy"]!.GetValue<double>())} ({Percent(l["shuffled_branch_accuracy"]!.GetValue<double>())}; " +
                    $"goal {Percent(l["goal_accuracy"]!.GetValue<double>())})")) + " |");
            md.AppendLine();
        }

        var orders = series.SelectMany(s => s.Runs.Select(r => (Series: s, Run: r, Order: r.Probe(DecodeOrderProbe.Name)))).Where(x => x.Order is not null).ToList();
        if (orders.Count > 0)
        {
            int length = orders.Max(o => o.Order!["mean_commit_step"]!.AsArray().Count);
            md.AppendLine("### Diffusion decode order: mean step at which each target position is committed (accuracy)").AppendLine();
            md.AppendLine("| run | sampler, K | " + string.Join(" | ", Enumerable.Range(0, length).Select(i => i == 0 ? "position 0 (source)" : $"{i}")) + " |");
            md.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---:|", length)));
            foreach (var (s, run, order) in orders)
            {
                var steps = Numbers(order!["mean_commit_step"]);
                var accuracy = Numbers(order["accuracy_by_position"]);
                md.AppendLine($"| {s.Name(manyTasks)} seed {run.Config.Training.Seed} | {order["sampler"]}, {order["steps"]} | " +
                              string.Join(" | ", steps.Select((v, i) => $"{v:F2} ({Percent(accuracy[i])})")) + " |");
            }
            md.AppendLine().AppendLine("Step 0 is the first; a planner that works back from the goal commits the last positions first.").AppendLine();
        }

        md.AppendLine("## Runs").AppendLine();
        foreach (var s in series)
            foreach (var run in s.Runs)
                md.AppendLine($"- {s.Name(manyTasks)}, seed {run.Config.Training.Seed}: `{run.Path}`{(run.Summary is null ? " (not finished)" : "")}");
        return md.ToString();
    }

    private static Line Curve(Series s, string key, bool withTask)
    {
        var curves = s.Runs.Where(r => r.Metrics.Count > 0).ToList();
        int points = curves.Min(r => r.Metrics.Count);
        var x = curves[0].Metrics.Take(points).Select(m => m["samples_seen"]!.GetValue<double>()).ToArray();
        var y = Mean(curves.Select(r => r.Metrics.Take(points).Select(m => m[key]!.GetValue<double>()).ToArray()).ToList());
        return new Line(curves.Count > 1 ? $"{s.Name(withTask)} (mean of {curves.Count} seeds)" : s.Name(withTask), x, y);
    }

    private static Line PlanCurve(Series s, bool withTask)
    {
        var plans = s.Runs.Select(r => r.Probe(PlanningProbe.Name)).Where(p => p is not null).ToList();
        var y = Mean(plans.Select(p => p!["layers"]!.AsArray().Select(l => l!["branch_accuracy"]!.GetValue<double>()).ToArray()).ToList());
        return new Line(plans.Count > 1 ? $"{s.Name(withTask)} (mean of {plans.Count} seeds)" : s.Name(withTask),
            Enumerable.Range(0, y.Length).Select(i => (double)i).ToArray(), y);
    }

    /// <summary>Mean tokens per instance over seeds, or "-" when no run has the number.</summary>
    private static string Tokens(IEnumerable<double?> values)
    {
        var present = values.OfType<double>().ToList();
        return present.Count == 0 ? "-" : $"{present.Average():F1}";
    }

    /// <summary>One line per sampler of one run's steps probe: exact match against K.</summary>
    private static IEnumerable<Line> StepsCurves(Series s, ReportRun run, JsonObject probe, bool withTask, bool withSeed) =>
        probe["points"]!.AsArray().GroupBy(p => p!["sampler"]!.GetValue<string>()).Select(g => new Line(
            $"{s.Name(withTask)}{(withSeed ? $" seed {run.Config.Training.Seed}" : "")}, {g.Key}",
            g.Select(p => p!["steps"]!.GetValue<double>()).ToArray(),
            g.Select(p => p!["exact_match"]!.GetValue<double>()).ToArray()));

    private static double[] Numbers(JsonNode? array) => array!.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    /// <summary>Element-wise mean of equal-purpose arrays, over the length they share.</summary>
    private static double[] Mean(IReadOnlyList<double[]> arrays) =>
        Enumerable.Range(0, arrays.Min(a => a.Length)).Select(i => arrays.Average(a => a[i])).ToArray();

    private static double[] Pad(double[] values, int length) => values.Concat(Enumerable.Repeat(double.NaN, length - values.Length)).ToArray();

    private static string Percent(double value) => double.IsNaN(value) ? "-" : $"{100 * value:F1}%";

    /// <summary>
    /// One value (with its Wilson 95% interval when it is a proportion of <paramref name="examples"/>), or mean ± 95% CI over seeds; "-" when missing.
    /// </summary>
    private static string Format(IReadOnlyList<double> values, int? examples)
    {
        if (values.Count == 0) return "-";
        if (values.Count == 1)
        {
            if (examples is not { } n) return Percent(values[0]);
            var (low, high) = Statistics.Wilson95(values[0], n);
            return $"{Percent(values[0])} [{100 * low:F1}, {100 * high:F1}]";
        }
        var (mean, margin) = Statistics.MeanWithMargin(values);
        return $"{Percent(mean)} ± {100 * margin:F1}";
    }
}
