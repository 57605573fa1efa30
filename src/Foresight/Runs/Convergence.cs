using Foresight.Evaluation;

namespace Foresight.Runs;

/// <summary>
/// Whether a run had stopped learning when its budget ran out, by one stated rule over the evaluations of its last
/// third of training (at least its last three), from the first of them, E1, to the final one, E2. It was still
/// learning if E2's test exact match lies above the upper end of E1's Wilson 95% interval, or if the training loss
/// fell from E1 to E2 by more than 10% of E1's and by more than 0.01. The last third, not the last few evaluations,
/// because the cosine schedule slows every run at its end. A run still learning reads as a budget, not a result.
/// </summary>
/// <param name="Reason">What the rule saw, in one line.</param>
public sealed record Convergence(bool Converged, string Reason)
{
    public const double LossFallFraction = 0.10;
    public const double LossFallFloor = 0.01;

    /// <summary>The rule applied to a run's evaluations; null with fewer than three.</summary>
    public static Convergence? Judge(IReadOnlyList<EvaluationLine> lines)
    {
        if (lines.Count < 3) return null;
        var last = lines[^1];
        var lastThird = lines.Where(l => 3L * l.Step >= 2L * last.Step).ToList();
        var first = lastThird.Count >= 3 ? lastThird[0] : lines[^3];
        double upper = Statistics.Wilson95(first.Metrics.ExactMatch, first.Metrics.Examples).High;
        string exact = $"test exact match {100 * first.Metrics.ExactMatch:F1}% -> {100 * last.Metrics.ExactMatch:F1}% over the last third of training";
        if (last.Metrics.ExactMatch > upper)
            return new Convergence(false, $"{exact}, above the first's 95% interval (to {100 * upper:F1}%)");
        double fall = first.TrainLoss - last.TrainLoss;
        string loss = $"training loss {first.TrainLoss:G3} -> {last.TrainLoss:G3}";
        if (fall > LossFallFraction * first.TrainLoss && fall > LossFallFloor)
            return new Convergence(false, $"{loss}, still falling by more than {100 * LossFallFraction:F0}%");
        return new Convergence(true, $"{exact}, {loss}: flat");
    }
}
