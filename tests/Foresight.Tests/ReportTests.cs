using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Nodes;
using Foresight.Models;
using Foresight.Presentation;
using Foresight.Probes;
using Foresight.Reports;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Tests;

/// <summary>Two tiny finished runs (ntp and reverse), probed, in one comparison directory.</summary>
public sealed class TinyComparisonFixture : IDisposable
{
    public TempDirectory Temp { get; } = new();
    public string Root => Temp["cmp"];

    public TinyComparisonFixture()
    {
        var task = new PathStarTask(2, 4, 20);
        var training = new TrainingConfig(TrainSamples: 1024, TestSamples: 64, BatchSize: 64, WarmupSteps: 2, EvalEvery: 4, EvalSamples: 64);
        var (train, test) = Trainer.MakeData(task, training);
        using (train)
        using (test)
            foreach (string method in new[] { "ntp", "reverse" })
            {
                var run = RunDirectory.Create(Path.Combine(Root, method));
                Trainer.Train(new RunConfig(method, task.Spec, new ModelSize(1, 32, 2), training), train, test, run);
                ProbeSuite.Run(run, new ProbeSizes(100, 300));
            }
    }

    public void Dispose() => Temp.Dispose();
}

public sealed class ReportTests(TinyComparisonFixture fixture) : IClassFixture<TinyComparisonFixture>
{
    [Fact]
    public void Report_has_a_row_per_method_with_its_numbers_and_every_figure()
    {
        using var temp = new TempDirectory();
        var runs = ReportRun.Find([fixture.Root]);
        var files = Report.Write(runs, temp.Path, overwrite: false);

        string[] expected = ["report.md", "exact_match_vs_samples.png", "first_decision_vs_samples.png", "accuracy_by_position.png", "planning_probe.png"];
        Assert.Equal(expected.Select(f => temp[f]), files);
        string markdown = File.ReadAllText(temp["report.md"]);
        foreach (var run in runs)
        {
            double exact = run.Summary!.Test.ExactMatch;
            Assert.Contains($"| {run.Config.Method} | G(2,4,20) | 1 | {(100 * exact).ToString("F1", CultureInfo.InvariantCulture)}% [", markdown);
            var best = ((PlanningProbeResult)run.Probe(PlanningProbe.Name)!).Best;
            Assert.Contains($"{100 * best.BranchAccuracy:F1}% (layer {best.Layer})", markdown);
        }
        double follow = ((CleverHansResult)runs.Single(r => r.Config.Method == "ntp").Probe(CleverHansProbe.Name)!).FollowRateBeforeLast;
        Assert.Contains($"| {100 * follow:F1}% / ", markdown); // ntp's Clever-Hans column
        Assert.Contains("| - / - | - |", markdown);             // reverse has no Clever-Hans probe
        // search: best of 4 / backtrack (which always finds a path-star answer), then backtracking's tokens per instance
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(markdown, @"\| \d+\.\d% / 100\.0% \| \d+\.\d \|$", System.Text.RegularExpressions.RegexOptions.Multiline).Count);
        foreach (string figure in expected.Skip(1))
        {
            Assert.Contains($"]({figure})", markdown);
            var (width, height) = PngSize(temp[figure]);
            Assert.Equal(500, height);
            Assert.InRange(width, 800, 900); // a long legend label widens the figure rather than squeezing its data area
        }
    }

    [Fact]
    public void Variants_of_a_method_get_rows_of_their_own_instead_of_being_averaged_as_seeds()
    {
        var task = new PathStarTask(2, 4, 20);
        string Label(string method, ModelSize model, TrainingConfig training, Methods.IMethodOptions? options = null) =>
            new RunConfig(method, task.Spec, model, training, options).Label;
        var size = new ModelSize(1, 32, 2);

        Assert.Equal("ntp", Label("ntp", size, new TrainingConfig()));
        Assert.Equal("ntp [first-decision loss]", Label("ntp", size, new TrainingConfig(LossPositions: Methods.LossPositions.FirstDecision)));
        Assert.Equal("diffusion", Label("diffusion", size, new TrainingConfig(), new Methods.DiffusionOptions { Sampler = Methods.DiffusionSampler.Ancestral, Steps = 3 }));
        Assert.Equal("diffusion [rotary positions, uniform weighting, shifted]", Label("diffusion", size with { Positions = PositionEncoding.Rotary },
            new TrainingConfig(), new Methods.DiffusionOptions { Weighting = Methods.DiffusionWeighting.Uniform, Shift = true }));
        Assert.Equal("diffusion [neighbour readout, causal-prefix attention]", Label("diffusion", size, new TrainingConfig(),
            new Methods.DiffusionOptions { Neighbours = true, Attention = Methods.DiffusionAttention.CausalPrefix }));
        Assert.Equal("diffusion [causal attention]", Label("diffusion", size, new TrainingConfig(), new Methods.DiffusionOptions { Attention = Methods.DiffusionAttention.Causal }));
        Assert.Equal("nextlat [horizon 3, residual dynamics]", Label("nextlat", size, new TrainingConfig(),
            new Methods.NextlatOptions { Horizon = 3, Dynamics = Methods.NextlatDynamics.Residual }));
        Assert.Equal("nextlat [latent 0.5, kl 2]", Label("nextlat", size, new TrainingConfig(), new Methods.NextlatOptions { LatentWeight = 0.5, KlWeight = 2 }));
        Assert.Equal("mtp [2 heads]", Label("mtp", size, new TrainingConfig(), new Methods.MtpOptions { Heads = 2 }));
        Assert.Equal("nextlat", Label("nextlat", size, new TrainingConfig(), new Methods.NextlatOptions()));
        Assert.Equal("nextlat", Label("nextlat", size, new TrainingConfig())); // no options: its defaults
    }

    [Fact]
    public void Report_times_each_seed_to_95_percent_and_tables_accuracy_per_position()
    {
        using var temp = new TempDirectory();
        var runs = ReportRun.Find([fixture.Root]);
        var ntp = runs.Single(r => r.Config.Method == "ntp");
        var reverse = runs.Single(r => r.Config.Method == "reverse");
        EvaluationLine Line(int step, double exact) => ntp.Metrics[0] with { Step = step, SamplesSeen = 64L * step, Metrics = ntp.Metrics[0].Metrics with { ExactMatch = exact } };
        ReportRun Seed(int seed, params EvaluationLine[] lines) => ntp with
        {
            Path = $"{ntp.Path}-{seed}",
            Config = ntp.Config with { Training = ntp.Config.Training with { Seed = seed } },
            Metrics = lines,
        };
        var runsWithCurves = new[]
        {
            Seed(0, Line(4, 0.5), Line(8, 0.95), Line(12, 0.99)),
            Seed(1, Line(4, 0.5), Line(8, 0.94), Line(12, 0.96)),
            reverse with { Metrics = [Line(4, 0.1), Line(8, 0.2), Line(12, 0.3)] },
        };
        Report.Write(runsWithCurves, temp.Path, overwrite: false, CurveAxis.Iterations);
        string markdown = File.ReadAllText(temp["report.md"]);

        Assert.Contains("## Reaching 95% exact match", markdown);
        Assert.Contains("| ntp | 8, 12 | 10 ± 25 |", markdown); // t(1) = 12.706 times the standard error 2
        Assert.Contains("| reverse | not reached | not reached by 1 of 1 seeds |", markdown);
        Assert.Contains("## Accuracy per target position, in numbers", markdown);
        double[] first = ntp.Summary!.Test.PerPositionAccuracy;
        Assert.Contains($"| ntp | 2 | {string.Join(" | ", first.Select(a => $"{Format.Percent(a)} ± 0.0"))} |", markdown); // two seeds, the same summary
    }

    [Fact]
    public void Runs_with_planning_distances_get_a_table_and_a_figure_of_exact_match_by_distance()
    {
        using var temp = new TempDirectory();
        var ntp = ReportRun.Find([fixture.Root]).Single(r => r.Config.Method == "ntp");
        ReportRun Seed(int seed, params double[] exact) => ntp with
        {
            Path = $"{ntp.Path}-{seed}",
            Config = ntp.Config with { Training = ntp.Config.Training with { Seed = seed } },
            Summary = ntp.Summary! with { Test = ntp.Summary.Test with { ByPlanningDistance = [.. exact.Select((e, d) => new Evaluation.DistanceAccuracy(d, 100 + d, e))] } },
        };
        var files = Report.Write([Seed(0, 1.0, 1.0, 0.5), Seed(1, 1.0, 0.9, 0.4)], temp.Path, overwrite: false);
        string markdown = File.ReadAllText(temp["report.md"]);

        Assert.Contains(temp["exact_match_by_distance.png"], files);
        Assert.Contains("## Exact match by planning distance", markdown);
        Assert.Contains("| method | seeds | 0 | 1 | 2 |", markdown);
        Assert.Contains("| ntp | 2 | 100.0% ± 0.0 (100) | 95.0% ± 63.5 (101) | 45.0% ± 63.5 (102) |", markdown); // t(1) = 12.706 x 0.05
    }

    [Fact]
    public void Runs_of_one_method_on_two_budgets_get_rows_of_their_own_instead_of_being_pooled_as_seeds()
    {
        using var temp = new TempDirectory();
        var runs = ReportRun.Find([fixture.Root]);
        var ntp = runs.Single(r => r.Config.Method == "ntp");
        var larger = ntp with { Path = ntp.Path + "-larger", Config = ntp.Config with { Training = ntp.Config.Training with { TrainSamples = 2048 } } };
        Report.Write([.. runs, larger], temp.Path, overwrite: false);
        string markdown = File.ReadAllText(temp["report.md"]);

        Assert.Contains("| ntp (1 x 32, 1,024 x 1, batch 64, lr 0.001) | G(2,4,20) | 1 |", markdown);
        Assert.Contains("| ntp (1 x 32, 2,048 x 1, batch 64, lr 0.001) | G(2,4,20) | 1 |", markdown);
        Assert.Contains("| reverse | G(2,4,20) | 1 |", markdown); // one budget: no need to name it
    }

    [Fact]
    public void Curves_against_iterations_need_one_batch_size_and_say_which_sizes_differ()
    {
        using var temp = new TempDirectory();
        var runs = ReportRun.Find([fixture.Root]);
        var files = Report.Write(runs, temp.Path, overwrite: false, CurveAxis.Iterations);
        Assert.Contains(temp["exact_match_vs_iterations.png"], files);
        Assert.DoesNotContain(temp["exact_match_vs_samples.png"], files);
        Assert.Contains("![Exact match during training](exact_match_vs_iterations.png)", File.ReadAllText(temp["report.md"]));

        var mixed = runs.Select((r, i) => i == 0 ? r with { Config = r.Config with { Training = r.Config.Training with { BatchSize = 32 } } } : r).ToList();
        var error = Assert.ThrowsAny<UserError>(() => Report.Write(mixed, temp["mixed"], overwrite: false, CurveAxis.Iterations));
        Assert.Equal("curves against iterations need runs of one batch size; these have 32, 64 (plot against samples seen instead)", error.Message);
    }

    [Fact]
    public void Report_refuses_to_replace_an_existing_report_unless_told_to()
    {
        using var temp = new TempDirectory();
        var runs = ReportRun.Find([fixture.Root]);
        Report.Write(runs, temp.Path, overwrite: false);
        File.WriteAllText(temp["report.md"], "my notes");

        var error = Assert.ThrowsAny<UserError>(() => Report.Write(runs, temp.Path, overwrite: false));
        Assert.Equal($"{temp["report.md"]} already exists; pass --overwrite to replace it or --out to write elsewhere", error.Message);
        Assert.Equal("my notes", File.ReadAllText(temp["report.md"]));

        Report.Write(runs, temp.Path, overwrite: true);
        Assert.StartsWith("# Foresight report", File.ReadAllText(temp["report.md"]));
    }

    [Fact]
    public void Runs_are_found_below_a_directory_or_named_directly_and_counted_once()
    {
        var all = ReportRun.Find([fixture.Root]);
        Assert.Equal(["ntp", "reverse"], all.Select(r => r.Config.Method));
        var again = ReportRun.Find([fixture.Root, Path.Combine(fixture.Root, "ntp")]);
        Assert.Equal(2, again.Count);
        Assert.Equal(4, all.Single(r => r.Config.Method == "ntp").Probes.Count);

        using var empty = new TempDirectory();
        Assert.Equal($"'{empty.Path}' holds no runs (no config.json below it)",
            Assert.ThrowsAny<UserError>(() => ReportRun.Find([empty.Path])).Message);
    }

    [Fact]
    public void Every_run_writes_tensorboard_events_with_valid_records()
    {
        string run = Path.Combine(fixture.Root, "ntp");
        string events = Assert.Single(Directory.GetFiles(run, "events.out.tfevents.*"));
        byte[] bytes = File.ReadAllBytes(events);
        var tags = new HashSet<string>();
        int records = 0;
        for (int at = 0; at < bytes.Length; records++)
        {
            // TFRecord framing: u64 length, masked CRC-32C of the length, data, masked CRC-32C of the data.
            var length = bytes.AsSpan(at, 8);
            Assert.Equal(MaskedCrc32C(length), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
            int size = (int)BinaryPrimitives.ReadUInt64LittleEndian(length);
            var data = bytes.AsSpan(at + 12, size);
            Assert.Equal(MaskedCrc32C(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + size)));
            string text = System.Text.Encoding.ASCII.GetString(data);
            foreach (string tag in new[] { "train/loss", "eval/exact_match", "eval/first_decision_accuracy" })
                if (text.Contains(tag)) tags.Add(tag);
            at += 16 + size;
        }
        Assert.Equal(3, tags.Count);
        Assert.True(records > 16); // a file header, two scalars per step (16 steps) and the evaluations
    }

    [Fact]
    public void A_long_legend_widens_the_figure_instead_of_squeezing_the_curves()
    {
        using var temp = new TempDirectory();
        var line = new Line("short", [0, 1], [0, 1]);
        Figures.Lines(temp["short.png"], "t", "x", "y", [line], []);
        Figures.Lines(temp["long.png"], "t", "x", "y", [line, line with { Label = new string('w', 80) }], []);
        Assert.Equal((800, 500), PngSize(temp["short.png"]));
        var (width, height) = PngSize(temp["long.png"]);
        Assert.True(width >= 600 + 6 * 80, $"width {width}");
        Assert.Equal(500, height);
    }

    private static (int Width, int Height) PngSize(string file)
    {
        byte[] bytes = File.ReadAllBytes(file);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    private static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        crc ^= 0xFFFFFFFF;
        return ((crc >> 15) | (crc << 17)) + 0xA282EAD8;
    }
}
