using System.Text.Json.Nodes;
using Foresight.Experiments;

namespace Foresight.Tests;

public sealed class ExperimentTests
{
    private const string Grid = """
        {"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}],
         "methods": ["ntp", "reverse"], "seeds": [0, 1],
         "models": [{"layers": 1, "width": 32, "heads": 2}],
         "budgets": [{"train_samples": 256}, {"train_samples": 512}],
         "training": {"test_samples": 64, "batch_size": 64, "warmup_steps": 2}}
        """;

    [Fact]
    public void Grid_has_one_cell_per_combination_with_a_fixed_directory()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], Grid);
        var cells = ExperimentFile.Load(temp["grid.json"]);
        Assert.Equal(1 * 1 * 2 * 2 * 2, cells.Count);
        Assert.Contains(cells, c => c.Id == Path.Combine("G(2,4,20)", "reverse", "L1xW32xH2", "n512x1", "seed-1")
                                    && c.Config.Training.TrainSamples == 512 && c.Config.Training.Seed == 1 && c.Config.Training.BatchSize == 64);
    }

    [Fact]
    public void Diffusion_takes_its_own_batch_size_and_rate_where_the_file_names_none()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], """
            {"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}], "methods": ["ntp", "diffusion"],
             "budgets": [{"train_samples": 256}, {"train_samples": 512, "batch_size": 64}]}
            """);
        var training = ExperimentFile.Load(temp["grid.json"]).ToDictionary(c => (c.Config.Method, c.Config.Training.TrainSamples), c => c.Config.Training);
        Assert.Equal((128, 1e-3), (training[("ntp", 256)].BatchSize, training[("ntp", 256)].LearningRate));
        Assert.Equal((256, 5e-4), (training[("diffusion", 256)].BatchSize, training[("diffusion", 256)].LearningRate));
        Assert.Equal((64, 5e-4), (training[("diffusion", 512)].BatchSize, training[("diffusion", 512)].LearningRate));
    }

    [Theory]
    [InlineData("""{"methods": ["ntp"]}""", "'tasks' is required")]
    [InlineData("""{"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}], "methods": ["ntq"]}""", "unknown method 'ntq'")]
    [InlineData("""{"tasks": [{"name": "star", "degree": 9, "path_length": 4, "nodes": 20}], "methods": ["ntp"]}""", "tasks[0]: task.nodes is 20, but G(9,4,20) needs 1 + 9x(4-1) = 28 distinct node labels")]
    [InlineData("""{"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}], "methods": ["ntp"], "seedz": [1]}""", "unknown field 'seedz'")]
    [InlineData("""{"tasks": [{"name": "star", "degre": 2}], "methods": ["ntp"]}""", "tasks[0]: task.degre is not an option of star (known: degree, path_length, nodes)")]
    [InlineData("""{"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}], "methods": ["ntp", "ntp"]}""", "two cells of the grid are the same run")]
    [InlineData("""not json""", "is not a JSON object")]
    public void Bad_experiment_files_are_one_line_errors(string text, string message)
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["bad.json"], text);
        Assert.Contains(message, Assert.ThrowsAny<UserError>(() => ExperimentFile.Load(temp["bad.json"])).Message);
    }

    [Fact]
    public void Running_the_file_again_skips_finished_cells_and_refuses_a_changed_config()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], Grid);
        var first = Cli.Run("run", temp["grid.json"], "--out", temp["out"]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var results = JsonNode.Parse(File.ReadAllText(temp["out/experiment.json"]))!;
        Assert.Equal(8, results["runs"]!.AsArray().Count);
        Assert.Equal(4, results["groups"]!.AsArray().Count);
        Assert.All(results["groups"]!.AsArray(), g => Assert.Equal(2, g!["seeds"]!.GetValue<int>()));

        string summary = Path.Combine(temp["out"], "G(2,4,20)", "ntp", "L1xW32xH2", "n256x1", "seed-0", "summary.json");
        string before = File.ReadAllText(summary);
        var second = Cli.Run("run", temp["grid.json"], "--out", temp["out"]);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("8 of 8 runs had already finished", second.Stdout);
        Assert.Equal(before, File.ReadAllText(summary));

        File.WriteAllText(temp["grid.json"], Grid.Replace("\"warmup_steps\": 2", "\"warmup_steps\": 3"));
        var changed = Cli.Run("run", temp["grid.json"], "--out", temp["out"]);
        Assert.Equal(2, changed.ExitCode);
        Assert.Contains("holds a run with another config", changed.Stderr);
        Assert.Equal(before, File.ReadAllText(summary));
    }

    [Fact]
    public void One_cell_of_a_plan_runs_alone_and_the_whole_plan_then_skips_it()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], Grid);
        var cells = ExperimentFile.Load(temp["grid.json"]);
        var one = Cli.Run("run", temp["grid.json"], "--out", temp["out"], "--cell", "3");
        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.Contains($"cell 3 of 8 finished: {Path.Combine(temp["out"], cells[3].Id)}", one.Stdout);
        Assert.Equal([cells[3].Id], cells.Where(c => File.Exists(Path.Combine(temp["out"], c.Id, "summary.json"))).Select(c => c.Id));
        Assert.True(File.Exists(temp["out/plan.json"]));
        Assert.False(File.Exists(temp["out/experiment.json"])); // one cell aggregates nothing

        var whole = Cli.Run("run", temp["grid.json"], "--out", temp["out"]);
        Assert.True(whole.ExitCode == 0, whole.Stderr);
        Assert.Contains("1 of 8 runs had already finished", whole.Stdout);

        var outside = Cli.Run("run", temp["grid.json"], "--out", temp["out"], "--cell", "8");
        Assert.Equal(2, outside.ExitCode);
        Assert.Equal($"error: --cell 8 is out of range: {temp["grid.json"]} has 8 cells (0..7)", outside.Stderr.Trim());
    }

    [Fact]
    public void A_plan_reads_back_as_written_and_an_old_cells_only_plan_json_is_a_one_line_error()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], """
            {"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}], "methods": ["ntp", {"method": "mtp", "options": {"heads": 2}}],
             "models": [{"layers": 1, "width": 32, "heads": 2}], "budgets": [{"train_samples": 512}]}
            """);
        var plan = new Plan("curve", ExperimentFile.Load(temp["grid.json"]), new JsonObject { ["sizes"] = new JsonArray(512) }, new Probes.ProbeSizes(10, 20));
        File.WriteAllText(temp["plan.json"], plan.ToJson().ToJsonString());
        var read = Plan.Read(temp["plan.json"]);
        Assert.Equal(plan.ToJson().ToJsonString(), read.ToJson().ToJsonString());
        Assert.Equal("curve.json", read.ResultsFile);
        Assert.True(Plan.IsPlanFile(temp["plan.json"]));
        Assert.False(Plan.IsPlanFile(temp["grid.json"]));

        Directory.CreateDirectory(temp["old"]);
        File.WriteAllText(temp["old/plan.json"], """{"cells": [{"id": "ntp", "group": "ntp", "config": {}}]}""");
        var old = Cli.Run("run", temp["old/plan.json"], "--status");
        Assert.Equal(2, old.ExitCode);
        Assert.Equal($"error: {temp["old/plan.json"]} is a plan.json from before 2026-12-03, which lists the cells only: rerun the command that wrote it, with the same --out, to rewrite it",
            old.Stderr.Trim());
    }

    [Fact]
    public void Every_experiment_file_in_the_repository_loads_and_the_cluster_files_cite_their_sources_and_wall_times()
    {
        string folder = Repository.PathOf("experiments");
        foreach (string file in Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}papers{Path.DirectorySeparatorChar}")))
            Assert.NotEmpty(ExperimentFile.Load(file));
        var bachmann = ExperimentFile.Load(Path.Combine(folder, "cluster", "bachmann-nagarajan-2024-gpt.json"));
        Assert.Equal(5 * 3 * 3, bachmann.Count);
        Assert.All(bachmann, c => Assert.Equal((6, 384, 200_000, 500, 256), (c.Config.Model.Layers, c.Config.Model.Width, c.Config.Training.TrainSamples, c.Config.Training.Epochs, c.Config.Training.BatchSize)));
        var nextlat = ExperimentFile.Load(Path.Combine(folder, "cluster", "teoh-2025-nextlat-fig6.json"));
        Assert.Equal(3 * 4 * 3, nextlat.Count);
        Assert.All(nextlat, c => Assert.Equal((12, 384, 51, 512, 0.1), (c.Config.Model.Layers, c.Config.Model.Width, c.Config.Training.Epochs, c.Config.Training.BatchSize, c.Config.Training.WeightDecay)));
        foreach (string file in Directory.EnumerateFiles(Path.Combine(folder, "cluster")))
        {
            var about = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!["about"]!;
            Assert.NotNull(about["sources"]);
            Assert.Contains("days", about["wall_time_per_cell_on_2_cores"]!.GetValue<string>());
        }
    }
}
