using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Foresight.Tests;

/// <summary>A test that submits jobs to a real Slurm cluster: .ci/run starts a single-node one and exports SLURM_CONF; without one it is skipped.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("SLURM_CONF") is not { Length: > 0 } || !File.Exists("/usr/bin/sbatch"))
            Skip = "needs a Slurm cluster: sbatch and SLURM_CONF (.ci/run starts a single-node one with .ci/slurm-cluster)";
    }
}

/// <summary>The Slurm executor: the script it writes, its errors, and real job arrays on a single-node cluster.</summary>
public sealed class SlurmTests
{
    private const string Grid = """
        {"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}],
         "methods": ["ntp", "reverse"], "seeds": [0, 1],
         "models": [{"layers": 1, "width": 32, "heads": 2}],
         "budgets": [{"train_samples": 512}],
         "training": {"test_samples": 64, "batch_size": 64, "warmup_steps": 2}}
        """;

    /// <summary>Every group's and run's numbers in experiment.json, timings and paths left out.</summary>
    private static string Numbers(string file)
    {
        var json = JsonNode.Parse(File.ReadAllText(file))!;
        return string.Join("\n", json["groups"]!.AsArray().Select(g => $"{g!["group"]} {g["exact_match_mean"]} {g["first_decision_accuracy_mean"]} {g["teacher_forced_accuracy_mean"]}")
            .Concat(json["runs"]!.AsArray().Select(r => $"{r!["group"]} {r["exact_match"]} {r["per_position_accuracy"]!.ToJsonString()} {r["final_train_loss"]}")));
    }

    [Fact]
    public void Dry_run_writes_a_script_a_person_can_read_and_submit()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], Grid);
        var dry = Cli.Run("run", temp["grid.json"], "--out", temp["out"], "--executor", "slurm", "--dry-run", "--partition", "gpu", "--time", "2:00:00",
            "--mem", "8G", "--max-parallel", "3", "--account", "lab", "--sbatch-arg", "--qos=low");
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        string script = File.ReadAllText(temp["out/slurm/array.sbatch"]);
        Assert.StartsWith("#!/bin/bash\n", script);
        foreach (string line in new[] { "#SBATCH --array=0,1,2,3%3", "#SBATCH --partition=gpu", "#SBATCH --time=2:00:00", "#SBATCH --mem=8G", "#SBATCH --account=lab",
                     "#SBATCH --qos=low", "#SBATCH --cpus-per-task=2", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@120" })
            Assert.Contains(line, script);
        Assert.Contains($"run '{temp["grid.json"]}' --out '{temp["out"]}' --cell \"$SLURM_ARRAY_TASK_ID\"", script);
        Assert.Contains("scontrol requeue", script);
        Assert.True(File.Exists(temp["out/plan.json"]));
        Assert.Empty(Directory.EnumerateDirectories(temp["out"]).Where(d => !d.EndsWith("slurm"))); // nothing trained
    }

    [Theory]
    [InlineData("--executor cloud", "--executor must be 'local' or 'slurm', got 'cloud'")]
    [InlineData("--executor slurm --time 1:xx --dry-run", "--time must be MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, got '1:xx'")]
    [InlineData("--partition gpu", "--partition applies to --executor slurm")]
    [InlineData("--executor slurm --cell 1 --dry-run", "--cell is what each array task runs; drop it with --executor slurm")]
    public void Bad_slurm_flags_are_one_line_errors(string flags, string message)
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], Grid);
        var result = Cli.Run(["run", temp["grid.json"], "--out", temp["out"], .. flags.Split(' ')]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {message}", result.Stderr.Trim());
    }

    [SlurmFact]
    public void A_plan_run_as_a_job_array_aggregates_to_the_local_executors_numbers()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], Grid);
        var slurm = Cli.Run("run", temp["grid.json"], "--out", temp["slurm"], "--executor", "slurm", "--wait");
        Assert.True(slurm.ExitCode == 0, slurm.Stderr);
        Assert.Matches(@"submitted job \d+", slurm.Stdout);
        var local = Cli.Run("run", temp["grid.json"], "--out", temp["local"]);
        Assert.True(local.ExitCode == 0, local.Stderr);
        Assert.Equal(Numbers(temp["local/experiment.json"]), Numbers(temp["slurm/experiment.json"]));
        Assert.Contains("every cell has finished; nothing to submit", Cli.Run("run", temp["grid.json"], "--out", temp["slurm"], "--executor", "slurm").Stdout);
    }

    [SlurmFact]
    public void A_task_sent_the_time_limit_warning_is_requeued_and_ends_with_the_uninterrupted_runs_numbers()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["long.json"], """
            {"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}], "methods": ["ntp"], "seeds": [5],
             "models": [{"layers": 2, "width": 64, "heads": 2}], "budgets": [{"train_samples": 32000}],
             "training": {"test_samples": 128, "batch_size": 64, "warmup_steps": 10, "eval_every": 25, "eval_samples": 64}}
            """);
        var submitted = Cli.Run("run", temp["long.json"], "--out", temp["slurm"], "--executor", "slurm");
        Assert.True(submitted.ExitCode == 0, submitted.Stderr);
        string job = System.Text.RegularExpressions.Regex.Match(submitted.Stdout, @"submitted job (\d+)").Groups[1].Value;
        string cell = Path.Combine(temp["slurm"], "G(2,4,20)", "ntp", "L2xW64xH2", "n32000x1", "seed-5");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(cell, "metrics.jsonl")) && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(50);
        Thread.Sleep(300);
        using (var signal = Process.Start("scancel", ["--signal=USR1", "--batch", $"{job}_0"])) signal.WaitForExit();
        while (Process.Start(new ProcessStartInfo("squeue", ["-h", "-j", job]) { RedirectStandardOutput = true })! is var squeue
               && squeue.StandardOutput.ReadToEnd().Trim().Length > 0 && clock.Elapsed < TimeSpan.FromMinutes(6))
            Thread.Sleep(2000);

        string log = File.ReadAllText(Path.Combine(temp["slurm"], "slurm", "cell-0.log"));
        Assert.Matches(@"training stopped at step \d+ on request", log); // the first attempt checkpointed and stopped
        Assert.Contains("ntp: resuming", log);                            // the requeued one resumed
        var local = Cli.Run("run", temp["long.json"], "--out", temp["local"]);
        Assert.True(local.ExitCode == 0, local.Stderr);
        Assert.Equal(RunFiles.SummaryWithoutTimings(Path.Combine(temp["local"], "G(2,4,20)", "ntp", "L2xW64xH2", "n32000x1", "seed-5")), RunFiles.SummaryWithoutTimings(cell));
    }
}
