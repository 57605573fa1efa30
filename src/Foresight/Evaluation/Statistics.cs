using System.Text.Json.Nodes;

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

    /// <summary>The headline scores of several seeds' summary.json objects: mean and 95% CI half-width of each.</summary>
    public static JsonObject AcrossSeeds(IReadOnlyList<JsonObject> summaries)
    {
        double[] Values(string key) => summaries.Select(s => s[key]!.GetValue<double>()).ToArray();
        var (exact, exactMargin) = MeanWithMargin(Values("exact_match"));
        var (decision, decisionMargin) = MeanWithMargin(Values("first_decision_accuracy"));
        return new JsonObject
        {
            ["seeds"] = summaries.Count,
            ["exact_match_mean"] = exact,
            ["exact_match_ci95"] = exactMargin,
            ["first_decision_accuracy_mean"] = decision,
            ["first_decision_accuracy_ci95"] = decisionMargin,
            ["first_decision_chance"] = summaries[0]["first_decision_chance"]!.GetValue<double>(),
        };
    }

    /// <summary>Half-width of the 95% interval of a proportion p measured on n examples (normal approximation of the binomial).</summary>
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
