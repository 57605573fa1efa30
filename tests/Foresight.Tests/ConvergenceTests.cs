using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Runs;
using Foresight.Tasks;

namespace Foresight.Tests;

/// <summary>The four verdicts, on stored histories of real runs and on small made-up ones that isolate each clause of the rule.</summary>
public sealed class ConvergenceTests
{
    private static readonly string Histories = Repository.PathOf("tests", "Foresight.Tests", "fixtures", "histories");

    private static EvaluationLine Line(double exact, double loss, int step, int examples = 1000, double? firstDecision = null, double? train = null, double chance = 0.5) =>
        new(step, 0, 1000L * step, 1e-3, loss, 1, Metrics(examples, exact, firstDecision ?? exact, chance),
            train is { } t ? Metrics(1000, t, t, chance) : null);

    private static EvalMetrics Metrics(int examples, double exact, double firstDecision, double chance) =>
        new(examples, exact, firstDecision, chance, [1, firstDecision], 0.9, [1, firstDecision]);

    /// <summary>Evaluations at steps 1, 2, ...</summary>
    private static List<EvaluationLine> Lines(params (double Exact, double Loss)[] points) =>
        [.. points.Select((p, i) => Line(p.Exact, p.Loss, step: i + 1))];

    /// <summary>The default compare's runs (G(2,5,50), 200k samples, 4 x 128), measured 2026-12-07: their metrics.jsonl as written.</summary>
    private static List<EvaluationLine> DefaultCompare(string method)
    {
        string file = Path.Combine(Histories, $"default-compare-{method}.jsonl");
        return [.. File.ReadLines(file).Select(l => EvaluationLine.FromJson(JsonNode.Parse(l)!.AsObject(), file))];
    }

    private static readonly Shortcut G25 = new PathStarTask(2, 5, 50).Shortcut;

    [Fact]
    public void The_default_compare_s_ntp_is_at_the_floor_its_reverse_converged_and_its_teacherless_stalled()
    {
        var ntp = Convergence.Judge(DefaultCompare("ntp"), G25)!;
        Assert.Equal(Verdict.AtTheFloor, ntp.Verdict); // loss 0.191 -> 0.153, still falling, toward ln 2 / 5 = 0.139; first decision 50.2%
        Assert.Contains("at ln 2 / 5 = 0.139, the loss of the Clever-Hans solution", ntp.Reason);
        Assert.Equal(Verdict.Converged, Convergence.Judge(DefaultCompare("reverse"), G25)!.Verdict);
        var teacherless = Convergence.Judge(DefaultCompare("teacherless"), G25)!;
        Assert.Equal(Verdict.Stalled, teacherless.Verdict); // 0.0% throughout, loss 1.27 -> 1.17 (-8%)
        Assert.Contains(Convergence.PlateauWarning, teacherless.Reason);

        // Without the floor the same ntp history reads as a budget: its loss fell 20% over the last third.
        Assert.Equal(Verdict.StillLearning, Convergence.Judge(DefaultCompare("ntp"))!.Verdict);
    }

    [Fact]
    public void Teacherless_on_G_2_4_50_cut_at_eight_epochs_is_stalled_and_at_twenty_four_still_learning()
    {
        // docs/results/ladders.md, the rows its tables keep (the run directories were not kept): epoch, loss, test
        // exact, first decision, train exact; 1,000 test graphs, 5,000 at the end. Rate held: epoch e of a longer run is
        // an e-epoch run.
        var shortcut = new PathStarTask(2, 4, 50).Shortcut;
        EvaluationLine Row(int epoch, double loss, double exact, double decision, double train, int examples = 1000) =>
            Line(exact, loss, step: epoch * 3125, examples, decision, train);
        List<EvaluationLine> cut = [Row(1, 0.997, 0.004, 0.235, 0.004), Row(4, 0.745, 0.004, 0.247, 0.002), Row(8, 0.721, 0.009, 0.244, 0.028)];
        var stalled = Convergence.Judge(cut, shortcut)!;
        Assert.Equal(Verdict.Stalled, stalled.Verdict);
        Assert.Contains("0.4% -> 0.9%", stalled.Reason);

        List<EvaluationLine> long24 =
        [
            Row(10, 0.700, 0.088, 0.287, 0.124), Row(12, 0.291, 0.460, 0.479, 0.518), Row(14, 0.240, 0.531, 0.537, 0.591), Row(16, 0.144, 0.747, 0.750, 0.793),
            Row(20, 0.086, 0.837, 0.839, 0.885), Row(22, 0.070, 0.827, 0.827, 0.930), Row(24, 0.057, 0.859, 0.861, 0.927, examples: 5000),
        ];
        var learning = Convergence.Judge(long24, shortcut)!;
        Assert.Equal(Verdict.StillLearning, learning.Verdict);
        Assert.Contains("74.7% -> 85.9%", learning.Reason);
    }

    [Fact]
    public void Reverse_on_G_5_3_50_at_32_percent_is_still_learning()
    {
        // The compare's reverse on G(5,3,50), 2026-12-03: test exact 19.5, 28.6, 31.5, 34.2 (1,000 graphs each), 32.0 (5,000).
        var points = new (double, double)[] { (0.12, 2.26), (0.13, 1.09), (0.15, 0.99), (0.175, 0.90), (0.184, 0.86), (0.195, 0.82), (0.286, 0.74), (0.315, 0.66), (0.342, 0.63) };
        var lines = Lines(points);
        lines.Add(Line(0.320, 0.62, step: 10, examples: 5000, chance: 0.2));
        var judged = Convergence.Judge(lines, new PathStarTask(5, 3, 50).Shortcut)!;
        Assert.Equal(Verdict.StillLearning, judged.Verdict); // from step 6, the last at or before two thirds (19.5%, upper end 22.1%)
        Assert.Contains("19.5% -> 32.0%", judged.Reason);
    }

    [Fact]
    public void Falling_accuracy_is_reported_as_such()
    {
        var judged = Convergence.Judge(Lines((0.5, 0.4), (0.60, 0.4), (0.61, 0.4), (0.52, 0.4)))!;
        Assert.Equal(Verdict.StillLearning, judged.Verdict);
        Assert.Contains("60.0% -> 52.0%", judged.Reason);
        Assert.Contains("falling", judged.Reason);
    }

    [Fact]
    public void A_falling_loss_is_still_learning_a_flat_run_converged_when_it_fits_and_stalled_when_it_does_not()
    {
        Assert.Equal(Verdict.StillLearning, Convergence.Judge(Lines((0.5, 0.50), (0.5, 0.45), (0.5, 0.40)))!.Verdict); // -20%, -0.1
        Assert.Equal(Verdict.Converged, Convergence.Judge(Lines((1, 0.0020), (1, 0.0015), (1, 0.0010)))!.Verdict); // -50%, but by 0.001 only
        Assert.Equal(Verdict.Stalled, Convergence.Judge(Lines((0.5, 0.50), (0.5, 0.49), (0.5, 0.48)))!.Verdict); // -4%, fits nothing
        Assert.Null(Convergence.Judge(Lines((0.5, 0.5), (0.5, 0.4)))); // too few to judge

        // Fitting is judged on the training sample where the run has one: memorised training graphs, test at chance, converged.
        List<EvaluationLine> memorised = [Line(0.5, 0.05, 1, train: 0.95), Line(0.5, 0.05, 2, train: 0.97), Line(0.5, 0.049, 3, train: 0.98)];
        Assert.Equal(Verdict.Converged, Convergence.Judge(memorised)!.Verdict);
    }

    [Fact]
    public void The_floor_needs_the_first_decision_at_chance_and_the_loss_near_the_shortcut_s()
    {
        List<EvaluationLine> Run(double decision, double loss) =>
            [Line(0.3, 0.30, 1, firstDecision: 0.5), Line(0.5, 0.2, 2, firstDecision: 0.5), Line(decision, loss, 3, examples: 5000, firstDecision: decision)];
        Assert.Equal(Verdict.AtTheFloor, Convergence.Judge(Run(0.50, 0.15), G25)!.Verdict);
        Assert.NotEqual(Verdict.AtTheFloor, Convergence.Judge(Run(0.56, 0.15), G25)!.Verdict); // the first decision is leaving chance
        Assert.NotEqual(Verdict.AtTheFloor, Convergence.Judge(Run(0.50, 0.25), G25)!.Verdict); // 80% above the floor: the lookups are not learned yet
        Assert.NotEqual(Verdict.AtTheFloor, Convergence.Judge(Run(0.50, 0.05), G25)!.Verdict); // far below it: memory, not the shortcut
    }

    [Fact]
    public void A_group_s_verdicts_read_as_one_word_when_they_agree_and_as_counts_when_not()
    {
        Convergence V(Verdict v) => new(v, "");
        Assert.Equal("at the floor", Convergence.Summarise([V(Verdict.AtTheFloor), V(Verdict.AtTheFloor)]));
        Assert.Equal("1 converged, 2 still learning", Convergence.Summarise([V(Verdict.StillLearning), V(Verdict.Converged), V(Verdict.StillLearning)]));
        Assert.Equal("-", Convergence.Summarise([null, null]));
    }

    [Fact]
    public void A_summary_from_before_the_four_verdicts_reads_its_yes_or_no()
    {
        var summary = new RunResult(new TrainingStats("ntp", "G(2,5,50)", 1, 1, 1, 1, 1, 0.1), Metrics(10, 0.5, 0.5, 0.5)).ToJson();
        summary["convergence"] = new JsonObject { ["converged"] = false, ["reason"] = "loss falling" };
        Assert.Equal(Verdict.StillLearning, RunResult.FromJson(summary, "summary.json").Convergence!.Verdict);
        summary["convergence"] = new JsonObject { ["converged"] = true, ["reason"] = "flat" };
        Assert.Equal(Verdict.Converged, RunResult.FromJson(summary, "summary.json").Convergence!.Verdict);
        summary["convergence"] = Json.ToObject(new Convergence(Verdict.AtTheFloor, "at ln 2 / 5"));
        Assert.Equal(Verdict.AtTheFloor, RunResult.FromJson(summary, "summary.json").Convergence!.Verdict);
    }
}
