using Foresight.Evaluation;
using Foresight.Tasks;

namespace Foresight.Runs;

/// <summary>Where a run stood when its budget ran out: a result, or a budget.</summary>
public enum Verdict
{
    /// <summary>Flat, and fitting the training sample: more of the same budget would not change it.</summary>
    Converged,

    /// <summary>At the loss of a known shortcut with the hard decision at chance: the task's failure, not the budget's.</summary>
    AtTheFloor,

    /// <summary>Test exact match or the training loss still moving: a budget, not a result.</summary>
    StillLearning,

    /// <summary>Flat, but fitting neither set and above any floor: no evidence of a ceiling, since a plateau may precede a jump.</summary>
    Stalled,
}

/// <summary>
/// Where a run stood when its budget ran out, by one stated rule over its evaluations, read from E1, the last one at or
/// before two thirds of training (so the window covers at least its last third: the cosine schedule slows every run
/// at its end), to E2, the final one. In order:
/// <list type="number">
/// <item><b>at the floor</b> when the task knows the loss of its shortcut (path-star: ln d / L, every token right but
/// the first decision, that one a guess), E2's training loss is within 25% of it, and E2's first decision is at chance
/// (chance inside its Wilson 95% interval): the loss may still be falling toward the floor, which is the paper's
/// result, not a budget;</item>
/// <item><b>still learning</b> when E2's test exact match lies outside E1's Wilson 95% interval (above, or below:
/// falling), or the training loss fell from E1 to E2 by more than 10% of E1's and by more than 0.01;</item>
/// <item><b>converged</b> when flat and E2 fits the training sample (exact match at least <see cref="Fits.Threshold"/>);</item>
/// <item><b>stalled</b> otherwise: flat, fitting neither set, above any floor.</item>
/// </list>
/// </summary>
/// <param name="Reason">What the rule saw, in one line.</param>
public sealed record Convergence(Verdict Verdict, string Reason)
{
    public const double LossFallFraction = 0.10;
    public const double LossFallFloor = 0.01;
    public const double FloorBand = 0.25;

    /// <summary>What a stalled run says, since a flat stretch has been seen to end.</summary>
    public const string PlateauWarning = "no evidence of a ceiling: a plateau may precede a jump (G(2,4,50) teacherless was flat for 8 epochs, then reached 86% by 24)";

    /// <summary>The verdict as the tables write it.</summary>
    public string Word => Words(Verdict);

    /// <summary>Whether the verdict is a result (converged, at the floor) rather than a budget (still learning, stalled).</summary>
    public bool IsResult => Verdict is Verdict.Converged or Verdict.AtTheFloor;

    public static string Words(Verdict verdict) => verdict switch
    {
        Verdict.Converged => "converged",
        Verdict.AtTheFloor => "at the floor",
        Verdict.StillLearning => "still learning",
        _ => "stalled",
    };

    /// <summary>
    /// The rule applied to a run's evaluations; null with fewer than three. <paramref name="shortcut"/> is the task's
    /// shortcut when the run's loss is the one it is the floor of (every target position), else null.
    /// </summary>
    public static Convergence? Judge(IReadOnlyList<EvaluationLine> lines, Shortcut? shortcut = null)
    {
        if (lines.Count < 3) return null;
        var last = lines[^1];
        var first = lines.LastOrDefault(l => 3L * l.Step <= 2L * last.Step) ?? lines[0];
        var (low, high) = Statistics.Wilson95(first.Metrics.ExactMatch, first.Metrics.Examples);
        string exact = $"test exact match {100 * first.Metrics.ExactMatch:F1}% -> {100 * last.Metrics.ExactMatch:F1}% over the last third of training";
        string loss = $"training loss {first.TrainLoss:G3} -> {last.TrainLoss:G3}";
        const double rounding = 1e-9; // Wilson's lower end at 0% is 0 only up to rounding
        bool rising = last.Metrics.ExactMatch > high + rounding, falling = last.Metrics.ExactMatch < low - rounding;
        double fall = first.TrainLoss - last.TrainLoss;
        bool lossFalling = fall > LossFallFraction * first.TrainLoss && fall > LossFallFloor;

        if (shortcut is not null && !rising && Math.Abs(last.TrainLoss - shortcut.Loss) <= FloorBand * shortcut.Loss)
        {
            var m = last.Metrics;
            var (decisionLow, decisionHigh) = Statistics.Wilson95(m.FirstDecisionAccuracy, m.Examples);
            if (decisionLow <= m.FirstDecisionChance && m.FirstDecisionChance <= decisionHigh)
                return new Convergence(Verdict.AtTheFloor,
                    $"{loss}, at {shortcut.Formula} = {shortcut.Loss:G3}, the loss of {shortcut.What}, with the first decision at chance " +
                    $"({100 * m.FirstDecisionAccuracy:F1}%, chance {100 * m.FirstDecisionChance:F1}%): the task's shortcut, not the budget");
        }
        if (rising) return new Convergence(Verdict.StillLearning, $"{exact}, above the first's 95% interval (to {100 * high:F1}%)");
        if (falling) return new Convergence(Verdict.StillLearning, $"{exact}: falling, below the first's 95% interval (from {100 * low:F1}%)");
        if (lossFalling) return new Convergence(Verdict.StillLearning, $"{loss}, still falling by more than {100 * LossFallFraction:F0}%");

        double fit = last.TrainSet?.ExactMatch ?? last.Metrics.ExactMatch;
        string sample = last.TrainSet is null ? "the test set" : "the training sample";
        return fit >= Fits.Threshold
            ? new Convergence(Verdict.Converged, $"{exact}, {loss}: flat, and fits {sample} ({100 * fit:F1}%)")
            : new Convergence(Verdict.Stalled, $"{exact}, {loss}: flat, fitting neither set ({sample} {100 * fit:F1}%); {PlateauWarning}");
    }

    /// <summary>The rule for a run of <paramref name="config"/>: the task's shortcut is a floor only for a loss over every target position.</summary>
    public static Convergence? Judge(IReadOnlyList<EvaluationLine> lines, RunConfig config) =>
        Judge(lines, config.Training.LossPositions == Methods.LossPositions.All ? config.Task.Build().Shortcut : null);

    /// <summary>
    /// A group's verdicts in a few words: the one verdict when they agree ("converged"), else each with its count
    /// ("2 still learning, 1 stalled"); "-" when no run has one.
    /// </summary>
    public static string Summarise(IEnumerable<Convergence?> verdicts)
    {
        var known = verdicts.OfType<Convergence>().ToList();
        if (known.Count == 0) return "-";
        var counts = known.GroupBy(v => v.Verdict).OrderBy(g => g.Key).ToList();
        return counts.Count == 1 ? counts[0].First().Word : string.Join(", ", counts.Select(g => $"{g.Count()} {Words(g.Key)}"));
    }
}
