namespace Foresight.Evaluation;

/// <summary>Summaries across seeds.</summary>
public static class Statistics
{
    // Two-sided 95% critical values of Student's t for 1..30 degrees of freedom.
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>
    /// The Wilson score 95% interval of a proportion p measured on n examples: unlike the normal approximation it
    /// stays inside [0, 1] and does not shrink to nothing at 0% or 100% (100% of 5,000 is [99.92%, 100%]).
    /// </summary>
    public static (double Low, double High) Wilson95(double p, int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "a proportion needs at least one example");
        const double z = 1.959964;
        double z2n = z * z / n;
        double centre = (p + z2n / 2) / (1 + z2n);
        double half = z / (1 + z2n) * Math.Sqrt(p * (1 - p) / n + z2n / (4 * n));
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>
    /// Half-width of the two-sided 95% acceptance region of "the proportion is p" for n examples (normal approximation of
    /// the binomial): a test against a known p, such as chance, not an interval for a measured one (that is <see cref="Wilson95"/>).
    /// </summary>
    public static double ProportionMargin95(double p, int n) => 1.96 * Math.Sqrt(p * (1 - p) / n);

    /// <summary>Mean and the half-width of its 95% confidence interval (Student t; 0 for a single value).</summary>
    public static (double Mean, double Margin95) MeanWithMargin(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        double mean = values.Average();
        if (values.Count == 1) return (mean, 0);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        int df = values.Count - 1;
        double t = df <= T975.Length ? T975[df - 1] : 1.96;
        return (mean, t * Math.Sqrt(variance / values.Count));
    }
}

/// <summary>A mean over seeds with the half-width of its 95% interval (Student t; 0 for one seed).</summary>
public sealed record Estimate(double Mean, double Ci95)
{
    public static Estimate Of(IEnumerable<double> values)
    {
        var (mean, margin) = Statistics.MeanWithMargin(values.ToList());
        return new Estimate(mean, margin);
    }
}
