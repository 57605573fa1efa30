using System.Text.Json.Nodes;
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
public static class IndecipherableProbe
{
    public const string Name = "indecipherable";

    public static IndecipherableResult Run(RunDirectory run)
    {
        var lines = run.ReadMetrics();
        if (lines.Count == 0) throw new UserError($"run '{run.Path}' has no evaluations in metrics.jsonl yet");
        int position = Tasks.TaskRegistry.FromJson(run.ReadConfig().Task).FirstDecisionPosition;
        var curve = lines.Select(l => new FirstDecisionPoint(
            Value<long>(l, "samples_seen", run),
            Value<double>(l, "first_decision_accuracy", run),
            Value<JsonArray>(l, "teacher_forced_per_position", run)[position]!.GetValue<double>())).ToArray();
        var last = lines[^1];
        double chance = Value<double>(last, "first_decision_chance", run);
        int examples = Value<int>(last, "examples", run);
        // Two-sided 95% test of "accuracy = chance".
        double margin = Evaluation.Statistics.ProportionMargin95(chance, examples);
        return new IndecipherableResult(chance, examples, curve[^1].Accuracy, margin,
            Math.Abs(curve[^1].Accuracy - chance) <= margin, curve.Max(p => p.Accuracy), curve[^1].TeacherForced, curve);
    }

    private static T Value<T>(JsonObject line, string key, RunDirectory run) => line[key] switch
    {
        JsonArray array when array is T typed => typed,
        JsonValue value => value.GetValue<T>(),
        _ => throw new UserError($"{run.MetricsFile}: an evaluation has no '{key}'"),
    };
}
