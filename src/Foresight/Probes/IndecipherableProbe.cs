using Foresight.Runs;

namespace Foresight.Probes;

/// <summary>First-decision accuracy at one evaluation during training: greedy, and given the true earlier tokens.</summary>
public sealed record FirstDecisionPoint(long SamplesSeen, double Accuracy, double TeacherForced);

/// <summary>What the Indecipherable-token probe read from a run's evaluations.</summary>
/// <param name="FinalMargin95">Half-width of the 95% interval around chance for the final test set's size.</param>
/// <param name="FinalAtChance">The final accuracy is within that interval: indistinguishable from a uniform guess.</param>
/// <param name="FinalTeacherForced">
/// The first decision given the true earlier target tokens. For a run trained on the first
/// decision's loss alone this is the number that counts: its greedy decode never learned the tokens before it.
/// </param>
public sealed record IndecipherableResult(
    double Chance,
    int FinalExamples,
    double FinalAccuracy,
    double FinalMargin95,
    bool FinalAtChance,
    double PeakAccuracy,
    double FinalTeacherForced,
    FirstDecisionPoint[] Curve);

/// <summary>
/// The talk's Indecipherable token: the first decision's accuracy against 1/d over training. Under
/// teacher forcing it stays at chance while every other token is learned; the first-decision-only
/// loss control (--loss-positions first-decision) asks whether it is learnable on its own.
/// </summary>
public sealed class IndecipherableProbe : IProbe
{
    public const string Name = "indecipherable";

    string IProbe.Name => Name;
    public string Description => "first-decision accuracy against chance (1/d) over training, from metrics.jsonl";
    public bool TakesExamples => false;
    public Type ResultType => typeof(IndecipherableResult);
    public string? WhyNot(Methods.ITrainingMethod method, Tasks.ITask task, RunConfig config) =>
        task.FirstDecisionPosition < 0 ? $"{task.Description} has its decision at a different place in each example" : null;
    object IProbe.Run(ProbeContext c) => Run(c.Run);

    public ProbeTable Describe(object result)
    {
        var r = (IndecipherableResult)result;
        return new ProbeTable(["measure", "value"],
        [
            ["first decision, final", $"{Presentation.Format.Percent(r.FinalAccuracy)} on {r.FinalExamples:N0}"],
            ["chance (1/d)", $"{Presentation.Format.Percent(r.Chance)} ± {100 * r.FinalMargin95:F1}"],
            ["indistinguishable from chance", r.FinalAtChance ? "yes" : "no"],
            ["peak during training", Presentation.Format.Percent(r.PeakAccuracy)],
            ["first decision given the true earlier tokens, final", Presentation.Format.Percent(r.FinalTeacherForced)],
        ]);
    }

    public static IndecipherableResult Run(RunDirectory run)
    {
        var lines = run.ReadEvaluations();
        if (lines.Count == 0) throw new UserError($"run '{run.Path}' has no evaluations in metrics.jsonl yet");
        int position = run.ReadConfig().Task.Build().FirstDecisionPosition;
        var curve = lines.Select(l => new FirstDecisionPoint(l.SamplesSeen, l.Metrics.FirstDecisionAccuracy, l.Metrics.TeacherForcedPerPosition[position])).ToArray();
        var last = lines[^1].Metrics;
        // Two-sided 95% test of "accuracy = chance".
        double margin = Evaluation.Statistics.ProportionMargin95(last.FirstDecisionChance, last.Examples);
        return new IndecipherableResult(last.FirstDecisionChance, last.Examples, curve[^1].Accuracy, margin,
            Math.Abs(curve[^1].Accuracy - last.FirstDecisionChance) <= margin, curve.Max(p => p.Accuracy), curve[^1].TeacherForced, curve);
    }
}
