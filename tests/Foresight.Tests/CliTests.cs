using System.Text.Json.Nodes;

namespace Foresight.Tests;

/// <summary>Every user error is one line on stderr, exit code 2, and nothing already written is touched.</summary>
public sealed class CliTests
{
    private static void AssertUserError(Cli.Result result, string message)
    {
        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(message, line);
    }

    [Fact]
    public void Unknown_method_is_a_one_line_error()
    {
        using var temp = new TempDirectory();
        AssertUserError(Cli.Run(["train", "--method", "nextoken", "--out", temp["run"], .. Cli.TinyRun]),
            "unknown method 'nextoken' (known: bst, diffusion, grpo, mtp, nextlat, ntp, reverse, teacherless)");
        Assert.False(Directory.Exists(temp["run"]));
    }

    [Fact]
    public void Impossible_graph_is_a_one_line_error()
    {
        AssertUserError(Cli.Run("data", "--degree", "5", "--path-length", "5", "--nodes", "20", "--out", "/tmp/never-written.txt"),
            "--nodes is 20, but G(5,5,20) needs 1 + 5x(5-1) = 21 distinct node labels");
    }

    [Fact]
    public void Unknown_flag_and_bad_number_are_one_line_errors()
    {
        AssertUserError(Cli.Run("train", "--epochz", "2"), "--epochz");
        AssertUserError(Cli.Run("train", "--degree", "two"), "two");
    }

    [Fact]
    public void Missing_run_is_a_one_line_error()
    {
        AssertUserError(Cli.Run("eval", "--run", "/tmp/no-such-foresight-run"), "run directory '/tmp/no-such-foresight-run' does not exist");
    }

    [Fact]
    public void Train_refuses_a_non_empty_output_directory_and_leaves_it_alone()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp["run"]);
        File.WriteAllText(temp["run/summary.json"], "{\"precious\": true}");
        AssertUserError(Cli.Run(["train", "--method", "ntp", "--out", temp["run"], .. Cli.TinyRun]), "already exists and is not empty");
        Assert.Equal("{\"precious\": true}", File.ReadAllText(temp["run/summary.json"]));
    }

    [Fact]
    public void Data_then_train_then_eval_on_the_file_and_reject_a_malformed_one()
    {
        using var temp = new TempDirectory();
        var data = Cli.Run("data", "--degree", "2", "--path-length", "4", "--nodes", "20", "--count", "50", "--seed", "1", "--out", temp["graphs.txt"]);
        Assert.Equal(0, data.ExitCode);
        Assert.Equal(50, File.ReadAllLines(temp["graphs.txt"]).Length);
        Assert.Matches(@"^(\d+,\d+\|){5}\d+,\d+/\d+,\d+=\d+,\d+,\d+,\d+$", File.ReadLines(temp["graphs.txt"]).First());
        AssertUserError(Cli.Run("data", "--degree", "2", "--path-length", "4", "--nodes", "20", "--out", temp["graphs.txt"]), "already exists");

        var train = Cli.Run(["train", "--method", "reverse", "--out", temp["run"], .. Cli.TinyRun]);
        Assert.True(train.ExitCode == 0, train.Stderr);
        foreach (string file in new[] { "config.json", "metrics.jsonl", "summary.json", "model.pt" })
            Assert.True(File.Exists(Path.Combine(temp["run"], file)), $"run lacks {file}");

        var eval = Cli.Run("eval", "--run", temp["run"], "--data", temp["graphs.txt"]);
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        var scores = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["run"], "eval-graphs.json")))!.AsObject();
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["run"], "summary.json")))!.AsObject();
        Assert.Equal(50, scores["examples"]!.GetValue<int>());
        foreach (string key in new[] { "exact_match", "first_decision_accuracy", "per_position_accuracy", "teacher_forced_accuracy" })
            Assert.True(summary.ContainsKey(key) && scores.ContainsKey(key), $"{key} missing");

        File.WriteAllLines(temp["bad.txt"], [File.ReadLines(temp["graphs.txt"]).First(), "1,2|3,4/1,4=1,2"]);
        AssertUserError(Cli.Run("eval", "--run", temp["run"], "--data", temp["bad.txt"]), $"{temp["bad.txt"]}:2: expected 6 edges for G(2,4,20), found 2");

        var wrongTask = Cli.Run("eval", "--run", temp["run"], "--data", WriteReferenceLine(temp));
        AssertUserError(wrongTask, ":1: expected 6 edges for G(2,4,20), found 8");
    }

    [Fact]
    public void Compare_over_seeds_keeps_one_run_per_method_and_seed_and_aggregates_them()
    {
        using var temp = new TempDirectory();
        var compare = Cli.Run(["compare", "--methods", "ntp,reverse", "--seeds", "3", "--seed", "7", "--probe-examples", "100", "--wide", "--out", temp["cmp"], .. Cli.TinyRun]);
        Assert.True(compare.ExitCode == 0, compare.Stderr);
        foreach (string run in new[] { "ntp/seed-7", "ntp/seed-8", "ntp/seed-9", "reverse/seed-7", "reverse/seed-8", "reverse/seed-9" })
            Assert.True(File.Exists(Path.Combine(temp["cmp"], run, "summary.json")), $"{run} missing");

        var comparison = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "comparison.json")))!;
        Assert.Equal("[7,8,9]", comparison["seeds"]!.ToJsonString());
        Assert.Equal(6, comparison["runs"]!.AsArray().Count);
        var ntp = comparison["groups"]!.AsArray()[0]!;
        double[] exact = comparison["runs"]!.AsArray().Where(r => r!["method"]!.GetValue<string>() == "ntp")
            .Select(r => r!["exact_match"]!.GetValue<double>()).ToArray();
        Assert.Equal(exact.Average(), ntp["exact_match_mean"]!.GetValue<double>(), 12);
        Assert.Equal(Evaluation.Statistics.MeanWithMargin(exact).Margin95, ntp["exact_match_ci95"]!.GetValue<double>(), 12);
        Assert.Contains("3 seeds (7, 8, 9)", compare.Stdout);
        Assert.Matches(@"\n ntp\s+3\s+\d+\.\d% ± \d+\.\d\s", compare.Stdout); // the table shows the seeds and mean ± CI

        // Every run is probed, the --wide table gains the probe columns, and the report is written beside the runs.
        Assert.Contains("CH follow", compare.Stdout);
        Assert.Matches(@"\n reverse\s.*\s-\s+\d+\.\d% ± \d+\.\d\s", compare.Stdout); // no Clever-Hans probe for reverse
        Assert.True(File.Exists(Path.Combine(temp["cmp"], "ntp", "seed-8", "probe-clever-hans.json")));
        Assert.True(File.Exists(Path.Combine(temp["cmp"], "reverse", "seed-9", "probe-plan.json")));
        Assert.Equal(4, comparison["runs"]!.AsArray()[0]!["probes"]!.AsObject().Count);
        // Search with the verifier: backtracking always finds the path-star answer, whatever the model.
        var search = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "reverse", "seed-9", "probe-search.json")))!;
        Assert.Equal(1.0, search["backtrack"]!["exact_match"]!.GetValue<double>());
        Assert.Contains("search tok", compare.Stdout);
        Assert.Contains("| ntp | G(2,4,20) | 3 |", File.ReadAllText(Path.Combine(temp["cmp"], "report.md")));
        Assert.True(File.Exists(Path.Combine(temp["cmp"], "planning_probe.png")));

        AssertUserError(Cli.Run(["compare", "--seeds", "0", "--out", temp["zero"], .. Cli.TinyRun]), "--seeds must be at least 1, got 0");
    }

    [Fact]
    public void Compare_with_diffusion_records_its_sampler_and_steps_and_reports_accuracy_against_steps()
    {
        using var temp = new TempDirectory();
        var compare = Cli.Run(["compare", "--methods", "ntp,diffusion", "--diffusion-steps", "2", "--probe-examples", "50", "--out", temp["cmp"], .. Cli.TinyRun]);
        Assert.True(compare.ExitCode == 0, compare.Stderr);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "diffusion", "summary.json")))!;
        // Only diffusion's own options, in its declaration order; ntp has none, in its summary and in its config.
        Assert.Equal("""{"sampler":"low-confidence","steps":2,"temperature":0,"weighting":"elbo","shift":false,"neighbours":false,"focus":0,"attention":"bidirectional","focus_scale":1,"time_steps":0,"noise_prompt":false}""",
            summary["options"]!.ToJsonString());
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "ntp", "summary.json")))!["options"]);
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "ntp", "config.json")))!["options"]);
        // diffusion keeps the batch size it was given and takes its own learning rate; ntp takes the shared one.
        var diffusionTraining = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "diffusion", "config.json")))!["training"]!;
        Assert.Equal((64, 5e-4), (diffusionTraining["batch_size"]!.GetValue<int>(), diffusionTraining["learning_rate"]!.GetValue<double>()));
        Assert.Equal(1e-3, JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "ntp", "config.json")))!["training"]!["learning_rate"]!.GetValue<double>());
        var entries = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "comparison.json")))!["groups"]!.AsArray();
        Assert.Equal([1e-3, 5e-4], entries.Select(e => e!["learning_rate"]!.GetValue<double>()));

        var steps = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "diffusion", "probe-steps.json")))!;
        var own = steps["points"]!.AsArray().Single(p => p!["sampler"]!.GetValue<string>() == "low-confidence" && p["steps"]!.GetValue<int>() == 2)!;
        Assert.Equal(summary["exact_match"]!.GetValue<double>(), own["exact_match"]!.GetValue<double>()); // the sweep's K = 2 is the run's own decoder
        string report = File.ReadAllText(Path.Combine(temp["cmp"], "report.md"));
        Assert.Contains("accuracy_vs_steps.png", report);
        Assert.Contains("| diffusion seed 0 | low-confidence, 2 |", report);
        Assert.True(File.Exists(Path.Combine(temp["cmp"], "accuracy_vs_steps.png")));
    }

    [Fact]
    public void Compare_runs_the_lookahead_methods_with_their_options_probes_and_report_rows()
    {
        using var temp = new TempDirectory();
        var compare = Cli.Run(["compare", "--methods", "mtp,bst,nextlat", "--mtp-heads", "2", "--probe-examples", "50", "--out", temp["cmp"], .. Cli.TinyRun]);
        Assert.True(compare.ExitCode == 0, compare.Stderr);

        var mtp = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "mtp", "config.json")))!;
        Assert.Equal(2, mtp["options"]!["heads"]!.GetValue<int>());
        string report = File.ReadAllText(Path.Combine(temp["cmp"], "report.md"));
        Assert.Contains("mtp [2 heads]", report);
        foreach (string method in new[] { "mtp", "bst", "nextlat" })
        {
            // Each writes its answer left to right and exposes its states, so both model probes apply.
            Assert.True(File.Exists(Path.Combine(temp["cmp"], method, "probe-clever-hans.json")), method);
            Assert.True(File.Exists(Path.Combine(temp["cmp"], method, "probe-plan.json")), method);
            Assert.Contains($"| {(method == "mtp" ? "mtp [2 heads]" : method)} ", report);
        }
    }

    [Fact]
    public void Train_grpo_takes_its_task_and_model_from_the_run_it_starts_from()
    {
        using var temp = new TempDirectory();
        var ntp = Cli.Run(["train", "--method", "ntp", "--out", temp["ntp"], .. Cli.TinyRun]);
        Assert.True(ntp.ExitCode == 0, ntp.Stderr);

        // No task or model flags: G(2,4,20) and 1 x 32 come from --init, not the defaults G(2,5,50) and 4 x 128.
        var grpo = Cli.Run(["train", "--method", "grpo", "--init", temp["ntp"], "--train-samples", "32", "--batch-size", "16", "--grpo-group-size", "4",
            "--test-samples", "16", "--out", temp["grpo"]]);
        Assert.True(grpo.ExitCode == 0, grpo.Stderr);
        var started = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["ntp"], "config.json")))!;
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["grpo"], "config.json")))!;
        Assert.Equal(started["task"]!.ToJsonString(), config["task"]!.ToJsonString());
        Assert.Equal(started["model"]!.ToJsonString(), config["model"]!.ToJsonString());
    }

    [Fact]
    public void Compare_fine_tunes_grpo_from_its_own_ntp_run_on_its_own_budget()
    {
        using var temp = new TempDirectory();
        var compare = Cli.Run(["compare", "--methods", "ntp,grpo", "--grpo-train-samples", "64", "--grpo-batch-size", "16", "--grpo-group-size", "4",
            "--probe-examples", "50", "--out", temp["cmp"], .. Cli.TinyRun]);
        Assert.True(compare.ExitCode == 0, compare.Stderr);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "grpo", "config.json")))!;
        Assert.Equal(Path.GetFullPath(Path.Combine(temp["cmp"], "ntp")), config["options"]!["init"]!.GetValue<string>());
        Assert.Equal(64, config["training"]!["train_samples"]!.GetValue<int>());
        Assert.Equal(16, config["training"]!["batch_size"]!.GetValue<int>());
        Assert.Equal(1e-4, config["training"]!["learning_rate"]!.GetValue<double>());
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["cmp"], "grpo", "summary.json")))!;
        Assert.Equal(4, summary["steps"]!.GetValue<int>());
        // Probed as the ntp model it fine-tunes: both model probes and the search probe apply.
        foreach (string probe in new[] { "clever-hans", "plan", "search" })
            Assert.True(File.Exists(Path.Combine(temp["cmp"], "grpo", $"probe-{probe}.json")), probe);
        Assert.Matches(@"\n grpo \[group 4\]\s", compare.Stdout); // its group size sets the variant apart

        AssertUserError(Cli.Run(["compare", "--methods", "grpo,ntp", "--out", temp["bad"], .. Cli.TinyRun]),
            "compare fine-tunes grpo from its own ntp run: put ntp before grpo in --methods");
        Assert.False(Directory.Exists(temp["bad"]));
    }

    [Fact]
    public void Curve_trains_each_method_at_each_size_for_the_same_samples_and_resumes()
    {
        using var temp = new TempDirectory();
        string[] args = ["curve", "--task", "addition", "--digits", "2", "--methods", "ntp,teacherless", "--samples", "128,256", "--samples-seen", "512",
            "--layers", "1", "--width", "32", "--heads", "2", "--test-samples", "64", "--batch-size", "64", "--warmup-steps", "2", "--out", temp["curve"]];
        var first = Cli.Run(args);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var curve = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["curve"], "curve.json")))!;
        Assert.Equal("[128,256]", curve["sizes"]!.ToJsonString());
        var runs = curve["runs"]!.AsArray();
        Assert.Equal(4, runs.Count);
        foreach (var run in runs)
            Assert.Equal(512, run!["samples_seen"]!.GetValue<long>()); // 4 epochs of 128, 2 of 256
        Assert.Equal(3, runs[0]!["per_position_accuracy"]!.AsArray().Count); // per digit of the 3-digit answer
        Assert.True(File.Exists(Path.Combine(temp["curve"], "curve.png")));
        // One seed: the Wilson interval; the talk's addition slide beside it; the first decision and which sets it fits.
        Assert.Matches(@"\n teacherless\s+128 x 4\s+\d+\.\d% \[\d+\.\d, \d+\.\d\]\s+≈95% ±5 by ~5\.5k iterations \[1\]\s+\d+\.\d%\s+(both|train|test|neither)\s", first.Stdout);

        var again = Cli.Run(args);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("4 of 4 runs had already finished", again.Stdout);
        AssertUserError(Cli.Run(["curve", "--samples", "3x", "--out", temp["bad"]]), "--samples: '3x' is not a count such as 3000, 3k or 1.5M");
    }

    private static string WriteReferenceLine(TempDirectory temp)
    {
        string file = temp["reference.txt"];
        File.WriteAllText(file, "32,3|16,12|3,19|32,34|34,6|6,16|19,47|47,28/32,12=32,34,6,16,12\n");
        return file;
    }
}
