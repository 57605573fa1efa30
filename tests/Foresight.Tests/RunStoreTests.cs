using Foresight.Runs;

namespace Foresight.Tests;

public sealed class RunStoreTests
{
    [Fact]
    public void Lists_filters_and_shows_runs_from_their_directories()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, Cli.Run(["train", "--method", "ntp", "--out", temp["runs/a"], .. Cli.TinyRun]).ExitCode);
        Assert.Equal(0, Cli.Run(["train", "--method", "reverse", "--seed", "3", "--out", temp["runs/group/b"], .. Cli.TinyRun]).ExitCode);
        Directory.CreateDirectory(temp["runs/broken"]);
        File.WriteAllText(temp["runs/broken/config.json"], "{ not json");

        var runs = RunStore.List(temp["runs"]);
        Assert.Equal(["a", "broken", Path.Combine("group", "b")], runs.Select(r => r.Id));
        Assert.Equal("unreadable", runs[1].Status);
        var b = runs[2];
        Assert.Equal(("reverse", "G(2,4,20)", 3, "finished"), (b.Method, b.Task, b.Seed, b.Status));
        Assert.NotNull(b.ExactMatch);

        Assert.Equal(["a"], RunStore.Filter(runs, ["method=NTP", "status=finished"]).Select(r => r.Id));
        Assert.Contains("is not key=value", Assert.ThrowsAny<UserError>(() => RunStore.Filter(runs, ["colour=red"])).Message);

        var listed = Cli.Run("runs", "list", "--root", temp["runs"], "--filter", "seed=3");
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("reverse", listed.Stdout);
        Assert.DoesNotContain("│ a ", listed.Stdout);
        var shown = Cli.Run("runs", "show", "--root", temp["runs"], "a");
        Assert.Equal(0, shown.ExitCode);
        Assert.Contains("\"exact_match\"", shown.Stdout);
        Assert.Equal(2, Cli.Run("runs", "show", "--root", temp["runs"], "nope").ExitCode);
    }

    [Fact]
    public void A_config_written_before_precision_existed_reads_as_fp32_and_a_new_one_keeps_its_own()
    {
        using var temp = new TempDirectory();
        var run = RunDirectory.Create(temp["run"]);
        var config = new RunConfig("ntp", new Tasks.PathStarTask(2, 4, 20).Spec, new Models.ModelSize(1, 32, 2), new Runs.TrainingConfig());
        Assert.Equal(Models.Precision.Bf16, config.Model.Precision); // today's default
        run.WriteConfig(config);
        Assert.Equal(Models.Precision.Bf16, run.ReadConfig().Model.Precision);

        var old = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(run.ConfigFile))!;
        old["model"]!.AsObject().Remove("precision");
        File.WriteAllText(run.ConfigFile, old.ToJsonString());
        Assert.Equal(Models.Precision.Fp32, run.ReadConfig().Model.Precision);
    }
}
