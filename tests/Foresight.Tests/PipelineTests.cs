using System.Text.Json.Nodes;
using Foresight.Experiments;
using Foresight.Methods;
using Foresight.Runs;
using Foresight.Training;

namespace Foresight.Tests;

/// <summary>One experiment pipeline: compare resumes, a run is reproduced from its config, experiment files name variants.</summary>
public sealed class PipelineTests
{
    /// <summary>A compare whose runs take a few seconds each and checkpoint every 4 of their 48 steps, so it can be killed mid-run.</summary>
    private static string[] SlowCompare(string output) =>
        ["compare", "--methods", "ntp,reverse", "--degree", "2", "--path-length", "4", "--nodes", "20", "--layers", "1", "--width", "32", "--heads", "2",
         "--train-samples", "3072", "--test-samples", "64", "--batch-size", "64", "--warmup-steps", "2", "--eval-every", "4", "--probe-examples", "50",
         "--out", output];

    private static Dictionary<string, (string Content, DateTime Written)> Snapshot(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => f, f => (Convert.ToBase64String(File.ReadAllBytes(f)), File.GetLastWriteTimeUtc(f)));

    [Fact]
    public void A_compare_killed_during_its_second_method_resumes_without_touching_the_first_and_ends_with_the_same_numbers()
    {
        using var temp = new TempDirectory();
        var whole = Cli.Run(SlowCompare(temp["whole"]));
        Assert.True(whole.ExitCode == 0, whole.Stderr);

        using (var killed = Cli.Start(SlowCompare(temp["killed"])))
        {
            string reverseMetrics = Path.Combine(temp["killed"], "reverse", "metrics.jsonl");
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!(File.Exists(reverseMetrics) && File.ReadAllLines(reverseMetrics).Length >= 1) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            killed.Kill(entireProcessTree: true);
            killed.WaitForExit();
        }
        Assert.True(File.Exists(Path.Combine(temp["killed"], "reverse", "trainer.ckpt")), "the second method had not checkpointed when it was killed");
        Assert.False(File.Exists(Path.Combine(temp["killed"], "reverse", "summary.json")), "the second method had finished before it was killed");
        var first = Snapshot(Path.Combine(temp["killed"], "ntp"));
        Assert.Contains(first.Keys, f => f.EndsWith("probe-plan.json")); // the first method was trained and probed

        var resumed = Cli.Run(SlowCompare(temp["killed"]));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("1 of 2 runs had already finished", resumed.Stdout);
        Assert.Equal(first, Snapshot(Path.Combine(temp["killed"], "ntp")));
        Assert.Equal(RunFiles.Numbers(Path.Combine(temp["whole"], "comparison.json")), RunFiles.Numbers(Path.Combine(temp["killed"], "comparison.json")));
    }

    [Fact]
    public void A_cell_stopped_before_its_first_checkpoint_is_trained_from_the_start_and_what_its_process_left_is_removed()
    {
        using var temp = new TempDirectory();
        string[] Compare(string output) => ["compare", "--methods", "ntp", .. Cli.TinyRun, "--probe-examples", "32", "--out", output];
        var whole = Cli.Run(Compare(temp["whole"]));
        Assert.True(whole.ExitCode == 0, whole.Stderr);

        // What a process killed, or stopped by a full disk, between config.json and its first checkpoint leaves behind.
        string cell = Path.Combine(temp["stopped"], "ntp");
        Directory.CreateDirectory(cell);
        File.Copy(Path.Combine(temp["whole"], "plan.json"), Path.Combine(temp["stopped"], "plan.json"));
        File.Copy(Path.Combine(temp["whole"], "ntp", "config.json"), Path.Combine(cell, "config.json"));
        File.WriteAllText(Path.Combine(cell, "running"), "elsewhere 999999\n");
        File.WriteAllText(Path.Combine(cell, "trainer.ckpt.999999.tmp"), "half a checkpoi");

        var again = Cli.Run(Compare(temp["stopped"]));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("ntp: training", again.Stdout);
        Assert.Equal(RunFiles.Numbers(Path.Combine(temp["whole"], "comparison.json")), RunFiles.Numbers(Path.Combine(temp["stopped"], "comparison.json")));
        Assert.Empty(Directory.EnumerateFiles(temp["stopped"], "*.tmp", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(cell, "running")));
    }

    [Fact]
    public void Train_from_a_run_config_reproduces_its_summary_and_takes_no_other_flag()
    {
        using var temp = new TempDirectory();
        var original = Cli.Run(["train", "--method", "mtp", "--mtp-heads", "2", "--out", temp["a"], .. Cli.TinyRun]);
        Assert.True(original.ExitCode == 0, original.Stderr);
        var again = Cli.Run("train", "--config", Path.Combine(temp["a"], "config.json"), "--out", temp["b"]);
        Assert.True(again.ExitCode == 0, again.Stderr);

        Assert.Equal(RunFiles.SummaryWithoutTimings(temp["a"]), RunFiles.SummaryWithoutTimings(temp["b"]));
        Assert.Equal(File.ReadAllText(Path.Combine(temp["a"], "config.json")), File.ReadAllText(Path.Combine(temp["b"], "config.json")));

        var extra = Cli.Run("train", "--config", Path.Combine(temp["a"], "config.json"), "--layers", "2", "--out", temp["c"]);
        Assert.Equal(2, extra.ExitCode);
        Assert.Equal($"error: --config takes every setting from {Path.Combine(temp["a"], "config.json")}; drop --layers", extra.Stderr.Trim());
        Assert.False(Directory.Exists(temp["c"]));
    }

    [Fact]
    public void An_experiment_file_runs_method_variants_with_their_own_options_and_models()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["variants.json"], """
            {"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}],
             "methods": ["ntp", {"method": "bst", "model": {"layers": 2}},
                         {"method": "diffusion", "options": {"attention": "causal-prefix", "neighbours": true}, "training": {"batch_size": 64}}],
             "models": [{"layers": 1, "width": 32, "heads": 2}],
             "budgets": [{"train_samples": 256}],
             "training": {"test_samples": 32, "batch_size": 64, "warmup_steps": 2}}
            """);
        var cells = ExperimentFile.Load(temp["variants.json"]);
        Assert.Equal(
            [Path.Combine("G(2,4,20)", "ntp", "L1xW32xH2", "n256x1", "seed-0"), Path.Combine("G(2,4,20)", "bst", "L2xW32xH2", "n256x1", "seed-0"),
             Path.Combine("G(2,4,20)", "diffusion-neighbours-attention-causal-prefix", "L1xW32xH2", "n256x1", "seed-0")],
            cells.Select(c => c.Id));
        Assert.Equal(new DiffusionOptions { Attention = DiffusionAttention.CausalPrefix, Neighbours = true }, cells[2].Config.Options);
        Assert.Equal((64, 5e-4), (cells[2].Config.Training.BatchSize, cells[2].Config.Training.LearningRate)); // its own rate, the file's batch size

        var run = Cli.Run("run", temp["variants.json"], "--out", temp["out"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var groups = JsonNode.Parse(File.ReadAllText(temp["out/experiment.json"]))!["groups"]!.AsArray();
        Assert.Equal(["ntp", "bst", "diffusion [neighbour readout, causal-prefix attention]"], groups.Select(g => g!["label"]!.GetValue<string>()));
        Assert.Equal(2, groups[1]!["model"]!["layers"]!.GetValue<int>());
        Assert.True(File.Exists(temp["out/report.md"]));
        var ntpConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["out"], cells[0].Id, "config.json")))!.AsObject();
        Assert.False(ntpConfig.ContainsKey("options")); // ntp has none, and records no other method's
    }

    [Theory]
    [InlineData("""{"method": "diffusion", "options": {"sideways": true}}""",
        "methods[0]: options: diffusion.sideways is not an option of diffusion (known: sampler, steps, temperature, weighting, shift, neighbours, focus, attention, focus_scale, time_steps, noise_prompt)")]
    [InlineData("""{"method": "diffusion", "options": {"attention": "sideways"}}""",
        "methods[0]: options: diffusion.attention has a value of the wrong type")]
    [InlineData("""{"method": "mtp", "options": {"heads": 0}}""", "methods[0]: options: mtp.heads must be at least 1")]
    [InlineData("""{"method": "ntp", "options": {"heads": 2}}""", "methods[0]: options: ntp.heads is not an option: ntp has none")]
    [InlineData("""{"method": "bst", "modle": {"layers": 8}}""", "methods[0]: unknown field 'modle' (known: method, options, model, training)")]
    [InlineData("""{"method": "bst", "model": {"layerz": 8}}""", "methods[0] (bst): model.layerz is not valid")]
    public void A_bad_variant_is_a_one_line_error_naming_the_file_and_field(string variant, string message)
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["bad.json"], $$"""{"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}], "methods": [{{variant}}]}""");
        var error = Assert.ThrowsAny<UserError>(() => ExperimentFile.Load(temp["bad.json"]));
        Assert.StartsWith($"{temp["bad.json"]}: ", error.Message);
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Config_files_written_before_each_method_owned_its_options_still_load()
    {
        using var temp = new TempDirectory();
        const string Legacy = """
            {"method": "mtp", "task": {"name": "star", "degree": 2, "path_length": 4, "nodes": 20},
             "model": {"layers": 1, "width": 32, "heads": 2, "positions": "learned", "backbone": "gpt"},
             "training": {"train_samples": 512, "test_samples": 64, "epochs": 1, "batch_size": 64, "learning_rate": 0.001, "warmup_steps": 2,
                          "min_learning_rate_ratio": 0.1, "weight_decay": 0.01, "gradient_clip": 1, "seed": 0, "eval_every": 0, "eval_samples": 1000, "loss_positions": "all"},
             "options": {"diffusion_sampler": "low-confidence", "diffusion_steps": 0, "mtp_heads": 2, "nextlat_latent_weight": 1, "grpo_init": null}}
            """;
        File.WriteAllText(temp["config.json"], Legacy);
        var config = RunConfig.Load(temp["config.json"]);
        Assert.Equal(new MtpOptions { Heads = 2 }, config.Options);
        Assert.Equal(WeightDecayOn.All, config.Training.WeightDecayOn); // what runs did before the field existed
        Assert.Equal(Models.Precision.Fp32, config.Model.Precision);
        Assert.DoesNotContain("diffusion", config.ToJson().ToJsonString());

        File.WriteAllText(temp["config.json"], Legacy.Replace("\"mtp\"", "\"ntp\""));
        Assert.Null(RunConfig.Load(temp["config.json"]).MethodOptions);
    }

    [Fact]
    public void Every_declared_option_round_trips_through_json_and_has_a_flag()
    {
        var help = Cli.Run("train", "--help").Stdout;
        foreach (string method in MethodRegistry.Names)
        {
            var defaults = MethodRegistry.DefaultOptions(method);
            Assert.Equal(defaults is null, MethodRegistry.Options(method).Count == 0);
            if (defaults is null) continue;
            Assert.Equal(defaults, MethodOptionSet.FromJson(method, MethodOptionSet.ToJson(method, defaults)));
            foreach (var option in MethodRegistry.Options(method)) Assert.Contains(option.Flag, help);
        }
        Assert.Equal(MethodRegistry.AllOptions().Count(), MethodRegistry.AllOptions().Select(o => o.Flag).Distinct().Count());
    }

    [Fact]
    public void Usage_lines_and_hints_say_foresight_and_no_arguments_print_help()
    {
        var root = Cli.Run("--help");
        Assert.Contains("Usage:\n  foresight [command] [options]", root.Stdout.ReplaceLineEndings("\n"));
        foreach (string command in new[] { "train", "compare", "run", "curve", "bench", "eval", "data", "export", "runs", "probe", "report" })
            Assert.Contains($"  foresight {command}", Cli.Run(command, "--help").Stdout);
        Assert.Contains("  foresight probe plan [options]", Cli.Run("probe", "plan", "--help").Stdout);

        var bare = Cli.Run();
        Assert.Equal(0, bare.ExitCode);
        Assert.Equal(root.Stdout, bare.Stdout);
        Assert.Equal("error: Unrecognized command or argument 'list'. (see 'foresight --help')", Cli.Run("list").Stderr.Trim());
        Assert.Equal("error: Unrecognized command or argument '--epochz'. (see 'foresight train --help')", Cli.Run("train", "--epochz", "2").Stderr.Trim());
    }

    [Fact]
    public void An_unexpected_exception_is_one_line_with_the_path_of_its_stack_trace()
    {
        InvalidOperationException thrown;
        try { throw new InvalidOperationException("bad state\nsecond line"); }
        catch (InvalidOperationException e) { thrown = e; }
        string line = global::Foresight.Cli.CrashLog.Write(thrown, ["train", "--layers", "2"]);
        Assert.Matches(@"^error: unexpected InvalidOperationException: bad state second line \(stack trace in (/.+\.log)\)$", line);
        string log = System.Text.RegularExpressions.Regex.Match(line, @"stack trace in (/.+\.log)\)").Groups[1].Value;
        string text = File.ReadAllText(log);
        File.Delete(log);
        Assert.StartsWith("foresight train --layers 2\n", text);
        Assert.Contains(nameof(An_unexpected_exception_is_one_line_with_the_path_of_its_stack_trace), text); // the stack trace
    }
}
