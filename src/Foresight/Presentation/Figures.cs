using ScottPlot;

namespace Foresight.Presentation;

/// <summary>A named curve; with <paramref name="Margin"/>, a shaded band Y ± Margin (a 95% interval over seeds) around it.</summary>
public sealed record Line(string Label, double[] X, double[] Y, double[]? Margin = null);

/// <summary>A dashed horizontal reference, such as chance.</summary>
public sealed record ReferenceLevel(string Label, double Value);

/// <summary>The report's PNG figures: accuracies in [0, 1], labelled axes, a legend and dashed chance levels.</summary>
public static class Figures
{
    private const int WidthPixels = 800, HeightPixels = 500, DataAreaPixels = 600;

    public static void Lines(string file, string title, string xLabel, string yLabel,
        IReadOnlyList<Line> lines, IReadOnlyList<ReferenceLevel> levels, bool markers = false)
    {
        var plot = NewPlot(title, xLabel, yLabel);
        AddLines(plot, lines, markerSize: markers ? 7 : 4);
        if (markers) plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        Finish(plot, file, levels);
    }

    /// <summary>Lines over a log-scaled x axis (positive x), ticked at the data's own x values.</summary>
    public static void LogXLines(string file, string title, string xLabel, string yLabel, IReadOnlyList<Line> lines)
    {
        var logged = lines.Select(l => l with { X = [.. l.X.Select(Math.Log10)] }).ToList();
        var plot = NewPlot(title, xLabel, yLabel);
        AddLines(plot, logged, markerSize: 7);
        var ticks = lines.SelectMany(l => l.X).Distinct().Order().ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. ticks.Select(Math.Log10)], [.. ticks.Select(x => x.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))]);
        Finish(plot, file, []);
    }

    /// <summary>One group of bars per category (x), one bar per series within it.</summary>
    public static void GroupedBars(string file, string title, string xLabel, string yLabel,
        IReadOnlyList<string> categories, IReadOnlyList<(string Label, double[] Values)> series, IReadOnlyList<ReferenceLevel> levels)
    {
        var plot = NewPlot(title, xLabel, yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        double groupWidth = 0.8, barWidth = groupWidth / series.Count;
        var bars = new List<Bar>();
        for (int s = 0; s < series.Count; s++)
        {
            var color = palette.GetColor(s);
            for (int c = 0; c < categories.Count; c++)
                bars.Add(new Bar
                {
                    Position = c - groupWidth / 2 + barWidth * (s + 0.5),
                    Value = series[s].Values[c],
                    Size = barWidth * 0.9,
                    FillColor = color,
                    LineWidth = 0,
                });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Label, FillColor = color });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, categories.Count).Select(i => (double)i).ToArray(), categories.ToArray());
        plot.Axes.SetLimitsX(-0.6, categories.Count - 0.4);
        Finish(plot, file, levels);
    }

    private static void AddLines(Plot plot, IReadOnlyList<Line> lines, float markerSize)
    {
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < lines.Count; i++)
        {
            var color = palette.GetColor(i);
            if (lines[i].Margin is { } margin)
            {
                var band = plot.Add.FillY(lines[i].X,
                    [.. lines[i].Y.Select((y, j) => Math.Max(0, y - margin[j]))], [.. lines[i].Y.Select((y, j) => Math.Min(1, y + margin[j]))]);
                band.FillColor = color.WithAlpha(0.2);
                band.LineWidth = 0;
            }
            var scatter = plot.Add.Scatter(lines[i].X, lines[i].Y, color);
            scatter.LegendText = lines[i].Label;
            scatter.LineWidth = 2;
            scatter.MarkerSize = markerSize;
        }
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    private static void Finish(Plot plot, string file, IReadOnlyList<ReferenceLevel> levels)
    {
        foreach (var level in levels)
        {
            var line = plot.Add.HorizontalLine(level.Value, 1.5f, Colors.Gray, LinePattern.Dashed);
            line.LegendText = level.Label;
        }
        plot.Axes.SetLimitsY(0, 1.05);
        plot.ShowLegend(Edge.Right); // outside the data area, so it never hides a curve
        // A long legend widens the figure instead of squeezing the data area (about 6.5 pixels per character).
        int longestLabel = plot.Legend.GetItems().Select(item => item.LabelText?.Length ?? 0).DefaultIfEmpty(0).Max();
        int width = Math.Max(WidthPixels, DataAreaPixels + (int)(6.5 * longestLabel) + 80);
        AtomicFile.Write(file, temp => plot.SavePng(temp, width, HeightPixels), suffix: ".tmp.png");
    }
}
