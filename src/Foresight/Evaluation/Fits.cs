namespace Foresight.Evaluation;

/// <summary>Which sets a run fits, the talk's question of teacherless training: "fits both train & test, or neither".</summary>
public enum Fit
{
    TrainAndTest,
    TrainOnly,
    TestOnly,
    Neither,
}

public static class Fits
{
    /// <summary>A set counts as fitted when the run's exact match on it reaches this.</summary>
    public const double Threshold = 0.9;

    public static Fit Of(double trainExactMatch, double testExactMatch) => (trainExactMatch >= Threshold, testExactMatch >= Threshold) switch
    {
        (true, true) => Fit.TrainAndTest,
        (true, false) => Fit.TrainOnly,
        (false, true) => Fit.TestOnly,
        _ => Fit.Neither,
    };

    /// <summary>"train & test", "train only", "test only", "neither".</summary>
    public static string Describe(Fit fit) => fit switch
    {
        Fit.TrainAndTest => "train & test",
        Fit.TrainOnly => "train only",
        Fit.TestOnly => "test only",
        _ => "neither",
    };
}
