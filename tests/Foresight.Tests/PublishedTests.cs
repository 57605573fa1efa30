using System.Text.Json.Nodes;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Papers;
using Foresight.Tasks;

namespace Foresight.Tests;

/// <summary>The papers' numbers as data: every file loads with every value cited, and runs find the rows that cover them.</summary>
public sealed class PublishedTests
{
    [Fact]
    public void The_five_sources_load_with_every_configuration_value_cited()
    {
        Assert.Equal(["bachmann-nagarajan-2024", "nagarajan-2025-creativity", "nagarajan-talk-addition", "teoh-2025-nextlat", "ye-2025-minimal-planning"],
            Published.All.Select(p => p.Id).Order());
        foreach (var paper in Published.All)
        {
            Assert.NotEmpty(paper.Config);
            Assert.All(paper.Config.Values, v => Assert.False(string.IsNullOrWhiteSpace(v.Source)));
            Assert.All(paper.Results, r => Assert.False(string.IsNullOrWhiteSpace(r.Read)));
        }
        // Bachmann & Nagarajan: 3 methods x 5 graphs x 2 backbones.
        Assert.Equal(30, Published.All.Single(p => p.Id == "bachmann-nagarajan-2024").Results.Count);
    }

    [Fact]
    public void Creativity_results_show_beside_open_ended_runs_of_the_papers_sizes_and_objective_only_and_by_prefix()
    {
        static ConstructionTask Circle(PrefixMode prefix) =>
            new(new CircleOptions { Labels = 10, Size = 9, Directed = true, Prefix = prefix, SeedLength = 10, SeedSymbols = 36 });
        var seeded = Published.For(Circle(PrefixMode.Seed), "ntp", BackboneKind.Gpt);
        Assert.Equal([0.34, 0.35], seeded.Select(r => r.Result.Value).Order()); // the main table's and the seed-conditioning panel's
        Assert.All(seeded, r => Assert.NotNull(r.Result.Creativity));
        Assert.Equal([0.22, 0.34], Published.For(Circle(PrefixMode.Null), "ntp", BackboneKind.Gpt).Select(r => r.Result.Value).Order());
        Assert.Empty(Published.For(new ConstructionTask(Shape.Circle, 10, 6, PrefixMode.Seed), "ntp", BackboneKind.Gpt)); // another experiment

        // Their teacherless is the hybrid (circle: weight 3), their diffusion sampled stochastically.
        Assert.Empty(Published.For(Circle(PrefixMode.Seed), "teacherless", BackboneKind.Gpt));
        Assert.Equal(0.34, Assert.Single(Published.For(Circle(PrefixMode.Seed), "teacherless", BackboneKind.Gpt, new TeacherlessOptions { Hybrid = 3 })).Result.Value);
        var triangle = new TriangleDiscoveryTask(new TriangleOptions { Graph = TriangleGraph.Paper, Nodes = 999, HeldOut = 0, EdgeShare = 0.6667, Prefix = PrefixMode.Null, SeedLength = 10, SeedSymbols = 36 });
        Assert.Equal("≈11.5% ±3 (main table, absorbing diffusion; prefix not stated)",
            Published.Describe(Published.For(triangle, "diffusion", BackboneKind.Gpt, new DiffusionOptions { Sampler = DiffusionSampler.Ancestral }).Single().Result));
        Assert.Empty(Published.For(triangle, "diffusion", BackboneKind.Gpt, new DiffusionOptions()));
        Assert.DoesNotContain(Published.For(new PathStarTask(2, 5, 50), "ntp", BackboneKind.Gpt), r => r.Result.Creativity is not null);
    }

    [Fact]
    public void A_run_finds_the_published_rows_of_its_graph_method_and_backbone()
    {
        var ntp = Assert.Single(Published.For(new PathStarTask(2, 5, 50), "ntp", BackboneKind.Gpt));
        Assert.Equal(("bachmann-nagarajan-2024", 0.50), (ntp.Paper.Id, ntp.Result.ExactMatch));
        Assert.Equal("≈50% ±3", Published.Describe(ntp.Result));
        Assert.Equal(0.49, Assert.Single(Published.For(new PathStarTask(2, 5, 50), "ntp", BackboneKind.Mamba)).Result.ExactMatch);
        Assert.Equal(0.97, Assert.Single(Published.For(new PathStarTask(2, 10, 100), "nextlat", BackboneKind.Gpt)).Result.ExactMatch);
        Assert.Empty(Published.For(new PathStarTask(2, 10, 50), "nextlat", BackboneKind.Gpt)); // NextLat states N = 100
        Assert.Empty(Published.For(new PathStarTask(2, 4, 20), "ntp", BackboneKind.Gpt));
        Assert.Equal("≈100% ±5 by ~4k iterations", Published.Describe(Assert.Single(Published.For(new AdditionTask(3), "reverse", BackboneKind.Gpt)).Result));
        Assert.Equal(["≈45% ±5 from ~4.5k to ~8.5k iterations (near 0 before ~4.5k)", "≈95% ±5 only by ~11.5k iterations"], // the slide's ntp: a plateau, then 95%
            Published.For(new AdditionTask(5), "ntp", BackboneKind.Gpt).Select(f => Published.Describe(f.Result)));
        Assert.Equal("≈67% ±5 (mean over distances: 100% at 0-1, ≈50% at 2-5)", Published.Describe(Assert.Single(Published.For(new MinimalPlanningTask(6), "ntp", BackboneKind.Gpt)).Result));
        Assert.Empty(Published.For(new MinimalPlanningTask(7), "diffusion", BackboneKind.Gpt)); // the figure is of chains of 6
    }

    [Theory]
    [InlineData("""{"id": "x", "short": "x", "citation": "x", "budget": "x", "config": {"epochs": {"value": 5}}, "results": []}""", "x.json: config.epochs has no source")]
    [InlineData("""{"id": "x", "short": "x", "citation": "x", "budget": "x", "config": {}, "results": [{"task": {"name": "star"}, "backbone": "gpt", "method": "ntp", "exact_match": 0.5}]}""",
        "x.json: results[0] does not say where it was read")]
    [InlineData("""{"id": "x", "short": "x", "citation": "x", "budget": "x", "config": {}, "results": [{"task": {"name": "star"}, "backbone": "gpt", "method": "ntp", "exact_match": 50, "read": "fig"}]}""",
        "x.json: results[0].exact_match must be a fraction in [0, 1]")]
    [InlineData("""{"id": "x", "short": "x", "citation": "x", "config": {}, "results": []}""", "x.json: 'budget' is required")]
    public void A_paper_file_without_its_sources_is_refused(string text, string message)
    {
        Assert.Equal(message, Assert.ThrowsAny<UserError>(() => Published.Parse(text, "x.json")).Message);
    }

    [Fact]
    public void Compare_shows_published_beside_measured_and_train_set_accuracy_and_records_convergence()
    {
        using var temp = new TempDirectory();
        var compare = Cli.Run("compare", "--methods", "ntp,teacherless", "--layers", "1", "--width", "32", "--heads", "2", "--train-samples", "512", "--test-samples", "64",
            "--batch-size", "64", "--warmup-steps", "2", "--probe-examples", "50", "--out", temp["cmp"]);
        Assert.True(compare.ExitCode == 0, compare.Stderr);
        Assert.Matches(@"\n ntp\s+\d+\.\d% \[[\d.]+, [\d.]+\]\s+≈50% ±3 \[1\]\s+\d+\.\d%\s+neither\s", compare.Stdout);
        Assert.Matches(@"\n teacherless\s.*≈100% ±3 \[1\]\s", compare.Stdout);
        Assert.Contains("published [1] Bachmann & Nagarajan 2024", compare.Stdout);
        Assert.Contains("ours: 1 epoch x 512 samples, 1 x 32", compare.Stdout);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "ntp", "summary.json")))!;
        Assert.Equal(512, summary["train_set"]!["examples"]!.GetValue<int>()); // eval_samples 1,000, capped by the 512 training graphs
        Assert.NotNull(summary["convergence"]!["verdict"]);
        Assert.Contains("≈50% ±3 [1]", File.ReadAllText(Path.Combine(temp["cmp"], "report.md")));
        var group = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "comparison.json")))!["groups"]!.AsArray()[0]!;
        Assert.Equal("neither", group["fits"]!.GetValue<string>());
    }

    [Fact]
    public void Every_cpu_scale_keeps_its_source_s_recipe_or_says_why_not()
    {
        foreach (var paper in Published.All.Where(p => p.CpuScale is not null))
            Assert.True(paper.CpuScale!.UndocumentedDifferences(paper.Config).Count == 0,
                $"{paper.Id}: " + string.Join("; ", paper.CpuScale.UndocumentedDifferences(paper.Config)));
        var bn = PaperPlan.AtCpuScale(Published.All.Single(p => p.Id == "bachmann-nagarajan-2024"));
        Assert.All(bn, c => Assert.Equal((1.0, 0.0, 100), (c.Config.Training.MinLearningRateRatio, c.Config.Training.GradientClip, c.Config.Training.WarmupSteps)));
    }

    [Theory]
    [InlineData("\"learning_rate\": 0.0005,\n      \"weight_decay\": 0.0,\n      \"warmup_steps\"", "\"learning_rate\": 0.001,\n      \"weight_decay\": 0.0,\n      \"warmup_steps\"",
        "cpu_scale training.learning_rate is 0.001, the source's learning_rate is 0.0005")]
    [InlineData("\"min_learning_rate_ratio\": 1.0,\n      \"gradient_clip\": 0\n", "\"min_learning_rate_ratio\": 0.02,\n      \"gradient_clip\": 0\n",
        "cpu_scale training.min_learning_rate_ratio is 0.02, the source's min_learning_rate_ratio is 1")]
    [InlineData("\"min_learning_rate_ratio\": 1.0,\n      \"gradient_clip\": 0\n", "\"min_learning_rate_ratio\": 1.0\n",
        "cpu_scale training.gradient_clip is 1, the source's gradient_clip is 0")] // left out: Foresight's default, which clips
    [InlineData("\"model\": \"shrunk", "\"other\": \"shrunk", "cpu_scale model is {\"layers\":4,\"width\":128,\"heads\":4}, the source's model is")]
    public void A_cpu_scale_field_changed_without_a_note_is_caught(string from, string to, string expected)
    {
        string text = File.ReadAllText(Repository.PathOf("experiments", "papers", "bachmann-nagarajan-2024.json"));
        Assert.Contains(from, text);
        var paper = Published.Parse(text.Replace(from, to), "bachmann-nagarajan-2024.json");
        var found = Assert.Single(paper.CpuScale!.UndocumentedDifferences(paper.Config));
        Assert.StartsWith(expected, found);
        Assert.EndsWith("and cpu_scale.differences does not say why", found);
    }

    [Fact]
    public void A_papers_grid_at_cpu_scale_keeps_its_graphs_and_recipe_and_shrinks_model_and_epochs()
    {
        var cells = PaperPlan.AtCpuScale(Published.All.Single(p => p.Id == "bachmann-nagarajan-2024"));
        Assert.Equal(30, cells.Count); // 5 graphs x 3 methods x 2 backbones
        Assert.All(cells, c => Assert.Equal((4, 128, 64, 5e-4, 0.0, 200_000), (c.Config.Model.Layers, c.Config.Model.Width,
            c.Config.Training.BatchSize, c.Config.Training.LearningRate, c.Config.Training.WeightDecay, c.Config.Training.TrainSamples)));
        Assert.Equal(50, cells.First(c => c.Task.Description == "G(2,5,50)").Config.Task.ToJson()["nodes"]!.GetValue<int>());
        Assert.Contains(cells, c => c.Task.Description == "G(20,5,81)"); // raised to the fewest labels the graph needs
        Assert.Equal(15, cells.Count(c => c.Config.Model.Backbone == BackboneKind.Mamba));
        var g25 = cells.First(c => c.Task.Description == "G(2,5,50)");
        int tokens = g25.Task.PrefixLength + g25.Task.TargetLength - 1;
        Assert.Equal((int)Math.Round(100_000_000.0 / (200_000L * tokens)), g25.Config.Training.Epochs);
        Assert.True(cells.First(c => c.Task.Description == "G(20,5,81)").Config.Training.Epochs < g25.Config.Training.Epochs); // longer graphs, fewer epochs

        var nextlat = PaperPlan.AtCpuScale(Published.All.Single(p => p.Id == "teoh-2025-nextlat"));
        Assert.Equal(12, nextlat.Count);
        Assert.All(nextlat, c => Assert.Equal((512, 0.1), (c.Config.Training.BatchSize, c.Config.Training.WeightDecay)));
        Assert.All(nextlat, c => Assert.InRange(c.Config.Training.Epochs, 1, 51));

        Assert.StartsWith("nagarajan-talk-addition has no cpu_scale",
            Assert.ThrowsAny<UserError>(() => PaperPlan.AtCpuScale(Published.All.Single(p => p.Id == "nagarajan-talk-addition"))).Message);
    }

    [Fact]
    public void Run_takes_a_paper_file_only_at_cpu_scale_and_an_experiment_file_without_it()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["paper.json"], """
            {"id": "p", "short": "p", "citation": "p", "budget": "p", "config": {}, "results": [{"task": {"name": "star", "degree": 2, "path_length": 4, "nodes": 20}, "backbone": "gpt", "method": "ntp", "exact_match": 0.5, "read": "table 1"}]}
            """);
        var bare = Cli.Run("run", temp["paper.json"], "--out", temp["out"]);
        Assert.Equal(2, bare.ExitCode);
        Assert.Equal($"error: {temp["paper.json"]} is a paper file: run it with --scale cpu (its own budget is the paper's)", bare.Stderr.Trim());
        Assert.Equal("error: p has no cpu_scale: its source gives no configuration to scale (p)", Cli.Run("run", temp["paper.json"], "--scale", "cpu").Stderr.Trim());
        File.WriteAllText(temp["grid.json"], """{"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}], "methods": ["ntp"]}""");
        Assert.Equal("error: --scale applies to paper files (experiments/papers/)", Cli.Run("run", temp["grid.json"], "--scale", "cpu").Stderr.Trim());
        Assert.False(Directory.Exists(temp["out"]));
    }
}
