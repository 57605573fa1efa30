using System.Globalization;
using Foresight.Cli;
using Foresight.Experiments;
using Foresight.Runs;
using Foresight.Tasks;
using Spectre.Console;

namespace Foresight.Tests;

/// <summary>The results table as a terminal shows it: the default compare's rows fit 80 columns, one line each; --wide holds the rest.</summary>
public sealed class TablesTests(TinyComparisonFixture fixture) : IClassFixture<TinyComparisonFixture>
{
    /// <summary>
    /// The default compare's three rows at their widest: G(2,5,50) (so the published column shows), 5,000 test examples,
    /// intervals of the longest form ("100.0% [99.8, 100.0]"), training-set numbers and each of the verdicts a default compare gives.
    /// </summary>
    private IReadOnlyList<CellResult> DefaultCompareRows(TempDirectory temp)
    {
        var rows = new List<CellResult>();
        foreach (var (method, exact, source) in new[] { ("ntp", 0.502, "ntp"), ("reverse", 0.9995, "reverse"), ("teacherless", 0.0002, "ntp") })
        {
            string path = temp[method];
            Directory.CreateDirectory(path);
            foreach (string file in Directory.EnumerateFiles(Path.Combine(fixture.Root, source))) File.Copy(file, Path.Combine(path, Path.GetFileName(file)));
            var run = RunDirectory.Open(path);
            var config = run.ReadConfig() with { Method = method, Task = new TaskSpec("star") };
            var result = run.ReadResult();
            var test = result.Test with { Examples = 5000, ExactMatch = exact, FirstDecisionAccuracy = exact };
            result = result with
            {
                Test = test,
                TrainSet = test with { Examples = 1000 },
                Convergence = method switch
                {
                    "ntp" => new Convergence(Verdict.AtTheFloor, "training loss 0.191 -> 0.153, at ln 2 / 5 = 0.139, the loss of the Clever-Hans solution"),
                    "reverse" => new Convergence(Verdict.Converged, "flat, and fits the training sample"),
                    _ => new Convergence(Verdict.Stalled, "flat, fitting neither set"),
                },
            };
            rows.Add(new CellResult(new ExperimentCell(method, method, config), path, result));
        }
        return rows;
    }

    private static string Render(int width, Action print)
    {
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        AnsiConsole.Console.Profile.Width = width;
        try { print(); }
        finally { AnsiConsole.Console = previous; }
        return writer.ToString().ReplaceLineEndings("\n");
    }

    private static int Columns(string line) => new StringInfo(line.TrimEnd()).LengthInTextElements;

    [Fact]
    public void The_default_compare_table_fits_80_columns_with_one_line_per_row()
    {
        using var temp = new TempDirectory();
        var results = DefaultCompareRows(temp);
        string output = Render(80, () => Tables.Print(GroupResult.Aggregate(results), results));
        var lines = output.Split('\n');
        Assert.All(lines, line => Assert.True(Columns(line) <= 80, $"wider than 80 columns: '{line}'"));
        foreach (string header in new[] { "method", "exact", "published", "first dec.", "fits", "verdict" })
            Assert.Contains(lines, l => l.Contains(header, StringComparison.Ordinal) && l.TrimStart().StartsWith("method", StringComparison.Ordinal));
        foreach (var (method, cells) in new[]
                 {
                     ("ntp", new[] { "50.2% [48.8, 51.6]", "≈50% ±3 [1]", "neither", "at the floor" }),
                     ("reverse", ["100.0% [99.8, 100.0]", "≈100% ±3 [1]", "both", "converged"]),
                     ("teacherless", ["0.0% [0.0, 0.1]", "≈100% ±3 [1]", "neither", "stalled"]),
                 })
        {
            string row = Assert.Single(lines, l => l.StartsWith($" {method} ", StringComparison.Ordinal)); // the table's rows start one space in
            foreach (string cell in cells) Assert.Contains(cell, row); // whole, on the row's one line: nothing wrapped or cut
        }
        Assert.DoesNotContain("tokens/s", lines.First(l => l.TrimStart().StartsWith("method", StringComparison.Ordinal)));
        Assert.Contains("--wide", output);
    }

    [Fact]
    public void Wide_adds_the_diagnostics_timings_and_probes()
    {
        using var temp = new TempDirectory();
        var results = DefaultCompareRows(temp);
        string output = Render(240, () => Tables.Print(GroupResult.Aggregate(results), results, wide: true));
        string header = output.Split('\n').First(l => l.TrimStart().StartsWith("method", StringComparison.Ordinal));
        foreach (string column in new[] { "exact", "published", "first dec.", "fits", "verdict", "train exact", "chance", "forced", "time", "tokens/s", "CH follow" })
            Assert.Contains(column, header);
    }
}
