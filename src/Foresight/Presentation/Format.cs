namespace Foresight.Presentation;

/// <summary>How tables, reports and probes write numbers.</summary>
public static class Format
{
    public static string Percent(double value) => double.IsNaN(value) ? "-" : $"{100 * value:F1}%";

    /// <summary>One value, or mean ± 95% CI over seeds (Student t); "-" when there is none.</summary>
    public static string AcrossSeeds(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return "-";
        if (values.Count == 1) return Percent(values[0]);
        var (mean, margin) = Evaluation.Statistics.MeanWithMargin(values);
        return $"{Percent(mean)} ± {100 * margin:F1}";
    }

    /// <summary>Mean ± the half-width of its 95% interval over seeds.</summary>
    public static string Estimate(Evaluation.Estimate e) => $"{Percent(e.Mean)} ± {100 * e.Ci95:F1}";

    /// <summary>A proportion measured on n examples with its Wilson 95% interval: "99.8% [99.6, 99.9]".</summary>
    public static string Proportion(double p, int n)
    {
        var (low, high) = Evaluation.Statistics.Wilson95(p, n);
        return $"{100 * p:F1}% [{100 * low:F1}, {100 * high:F1}]";
    }

    /// <summary>Each value as a percentage with one decimal, separated by two spaces.</summary>
    public static string Row(IEnumerable<double> values) => string.Join("  ", values.Select(v => $"{100 * v:F1}"));

    /// <summary>Element-wise mean of arrays, over the length they share.</summary>
    public static double[] Mean(IReadOnlyList<double[]> arrays) =>
        Enumerable.Range(0, arrays.Min(a => a.Length)).Select(i => arrays.Average(a => a[i])).ToArray();

    /// <summary>
    /// A markdown table: <paramref name="leftAligned"/> text columns, then right-aligned number columns, then a blank line.
    /// </summary>
    public static string MarkdownTable(IReadOnlyList<string> headers, int leftAligned, IEnumerable<IReadOnlyList<string>> rows)
    {
        var md = new System.Text.StringBuilder();
        md.AppendLine($"| {string.Join(" | ", headers)} |");
        md.AppendLine("|" + string.Concat(headers.Select((_, i) => i < leftAligned ? "---|" : "---:|")));
        foreach (var row in rows) md.AppendLine($"| {string.Join(" | ", row)} |");
        return md.AppendLine().ToString();
    }
}
