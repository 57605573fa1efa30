using System.Diagnostics;
using Foresight.Cli;
using Foresight.Experiments;

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

/// <summary>A job array a test submitted: cancelled when the test ends, so nothing outlives its temporary directory.</summary>
internal sealed class SubmittedJob(string submitOutput) : IDisposable
{
    public string Id { get; } = System.Text.RegularExpressions.Regex.Match(submitOutput, @"submitted job (\d+)") is { Success: true } m
        ? m.Groups[1].Value : throw new InvalidOperationException($"no job id in: {submitOutput}");

    public void Cancel(params string[] arguments)
    {
        using var scancel = Process.Start("scancel", arguments);
        scancel.WaitForExit();
    }

    /// <summary>
    /// Waits until squeue has shown the job gone on three polls in a row: a task being requeued or started can be
    /// missing from one listing while it changes state (seen twice in CI, five seconds into the requeue test).
    /// </summary>
    public void WaitUntilEnded(TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        int gone = 0;
        while (clock.Elapsed < limit)
        {
            gone = Queue() is { } queue && queue.Trim().Length == 0 ? gone + 1 : 0;
            if (gone == 3) return;
            Thread.Sleep(1000);
        }
        throw new TimeoutException($"job {Id} still queued after {limit}");
    }

    /// <summary>squeue's lines for this job (no header), with <paramref name="format"/> added to its arguments.</summary>
    /// <summary>squeue's lines for the job; null when squeue itself failed (a busy controller times out), which says nothing about the job.</summary>
    private string? Queue(params string[] format)
    {
        using var squeue = Process.Start(new ProcessStartInfo("squeue", ["-h", "-j", Id, .. format]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = squeue.StandardOutput.ReadToEnd();
        squeue.StandardError.ReadToEnd();
        squeue.WaitForExit();
        return squeue.ExitCode == 0 ? output : null;
    }

    public void Dispose() => Cancel(Id);
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
        foreach (string line in new[] { "#SBATCH --array=0-3%3", "#SBATCH --partition=gpu", "#SBATCH --time=2:00:00", "#SBATCH --mem=8G", "#SBATCH --account=lab",
                     "#SBATCH --qos=low", "#SBATCH --cpus-per-task=2", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@120" })
            Assert.Contains(line, script);
        Assert.Contains($"run '{temp["out/plan.json"]}' --cell \"$SLURM_ARRAY_TASK_ID\"", script);
        Assert.Contains("scontrol requeue", script);
        Assert.True(File.Exists(temp["out/plan.json"]));
        Assert.Empty(Directory.EnumerateDirectories(temp["out"]).Where(d => !d.EndsWith("slurm"))); // nothing trained
    }

    [Fact]
    public void A_compares_grpo_waits_in_a_second_array_for_the_ntp_runs_it_starts_from()
    {
        using var temp = new TempDirectory();
        var dry = Cli.Run(["compare", "--methods", "ntp,grpo", "--seeds", "2", .. Cli.TinyRun, "--out", temp["out"], "--executor", "slurm", "--dry-run"]);
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        Assert.Contains("#SBATCH --array=0,2\n", File.ReadAllText(temp["out/slurm/array.sbatch"]));
        string after = File.ReadAllText(temp["out/slurm/array-after.sbatch"]);
        Assert.Contains("#SBATCH --array=1,3\n", after);
        Assert.Contains("sbatch --dependency=afterok:", after);
        var plan = Plan.Read(temp["out/plan.json"]);
        Assert.Equal("compare", plan.Kind);
        Assert.NotNull(plan.Probes);
        Assert.Equal(["ntp/seed-0", "grpo/seed-0", "ntp/seed-1", "grpo/seed-1"], plan.Cells.Select(c => c.Id.Replace('\\', '/')));
        Assert.Equal("ntp/seed-1", plan.Cells[3].StartsFrom);
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("0,1,2,3", "0-3")]
    [InlineData("0,2,3,4,7,9,10", "0,2-4,7,9-10")]
    public void Cell_indices_become_sbatch_array_ranges(string cells, string array) =>
        Assert.Equal(array, SlurmExecutor.Ranges([.. cells.Split(',').Select(int.Parse)]));

    [Fact]
    public void Without_sbatch_on_path_the_slurm_executor_is_a_one_line_error_and_dry_run_still_writes()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], Grid);
        var noSlurm = new Dictionary<string, string> { ["PATH"] = "/nonexistent" };
        var refused = Cli.Run(noSlurm, "run", temp["grid.json"], "--out", temp["out"], "--executor", "slurm");
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal("error: --executor slurm needs sbatch on PATH (run it on the cluster's login node); --dry-run writes the script without it", refused.Stderr.Trim());
        Assert.Equal(0, Cli.Run(noSlurm, "run", temp["grid.json"], "--out", temp["out"], "--executor", "slurm", "--dry-run").ExitCode);
    }

    [Theory]
    [InlineData(true, false, null, null, false, "finished")]
    [InlineData(false, true, "RUNNING", null, true, "running")]
    [InlineData(false, false, "PENDING", null, false, "pending")]
    [InlineData(false, true, "REQUEUED", null, true, "pending")]
    [InlineData(false, true, null, "TIMEOUT", true, "failed")]
    [InlineData(false, false, null, null, true, "failed")]
    [InlineData(false, true, null, null, false, "interrupted")]
    [InlineData(false, false, null, null, false, "not started")]
    public void A_cells_state_comes_from_its_files_then_the_queue_then_accounting_then_its_log(
        bool finished, bool checkpoint, string? queued, string? accounted, bool log, string expected)
    {
        var state = PlanStatus.Classify(finished, checkpoint, queued is null ? null : new PlanStatus.TaskState(queued, "None"),
            accounted is null ? null : new PlanStatus.TaskState(accounted), log);
        Assert.Equal(expected, PlanStatus.Name(state.State));
    }

    [Fact]
    public void Status_of_a_plan_nobody_ran_says_so_and_of_a_local_run_shows_finished_and_not_started()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], Grid);
        var nothing = Cli.Run("run", temp["grid.json"], "--out", temp["out"], "--status");
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("nothing of this plan has run there", nothing.Stderr);
        Assert.Equal(0, Cli.Run("run", temp["grid.json"], "--out", temp["out"], "--cell", "1").ExitCode);
        var status = Cli.Run("run", temp["grid.json"], "--out", temp["out"], "--status");
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Matches(@"(?m)^\s+0\s+not started\s+G\(2,4,20\)", status.Stdout);
        Assert.Matches(@"(?m)^\s+1\s+finished\s+G\(2,4,20\)", status.Stdout);
        Assert.Contains("4 cells: 1 finished, 3 not started", status.Stdout);
    }

    [Fact]
    public void Status_tells_a_cell_training_here_from_one_whose_process_was_killed()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["slow.json"], Grid.Replace("\"train_samples\": 512", "\"train_samples\": 200000"));
        string cell = Path.Combine(temp["out"], "G(2,4,20)", "ntp", "L1xW32xH2", "n200000x1", "seed-0");
        using (var training = Cli.Start("run", temp["slow.json"], "--out", temp["out"], "--cell", "0"))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(cell, "trainer.ckpt")) && clock.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(50);
            var running = Cli.Run("run", temp["slow.json"], "--out", temp["out"], "--status").Stdout;
            Assert.Matches($@"(?m)^\s+0\s+running\s+.*\(process {training.Id} on this machine\)", running);
            training.Kill(entireProcessTree: true);
            training.WaitForExit();
        }
        Assert.Matches(@"(?m)^\s+0\s+interrupted\s", Cli.Run("run", temp["slow.json"], "--out", temp["out"], "--status").Stdout);
    }

    [Theory]
    [InlineData("--executor cloud", "--executor must be 'local' or 'slurm', got 'cloud'")]
    [InlineData("--executor slurm --time 1:xx --dry-run", "--time must be MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, got '1:xx'")]
    [InlineData("--partition gpu", "--partition applies to --executor slurm")]
    [InlineData("--executor slurm --cell 1 --dry-run", "--cell is what each array task runs; drop it with --executor slurm")]
    [InlineData("--status --cell 1", "--status shows every cell; drop --cell")]
    [InlineData("--dry-run", "--dry-run applies to --executor slurm")]
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
        Assert.Equal(RunFiles.Numbers(temp["local/experiment.json"]), RunFiles.Numbers(temp["slurm/experiment.json"]));
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
        using var job = new SubmittedJob(submitted.Stdout);
        string cell = Path.Combine(temp["slurm"], "G(2,4,20)", "ntp", "L2xW64xH2", "n32000x1", "seed-5");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(cell, "metrics.jsonl")) && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(50);
        Thread.Sleep(300);
        job.Cancel("--signal=USR1", "--batch", $"{job.Id}_0");
        // Slurm holds a requeued task for its credential lifetime (cred_expire: 5 s on the CI cluster, 120 s by default). A
        // task started sooner (this test once did, with scontrol update StartTime=now) can get there within the second of
        // its requeue, and slurmd refuses it: "Killing non-startable batch job: Job credential revoked".
        clock.Restart();
        string logFile = Path.Combine(temp["slurm"], "slurm", "cell-0.log");
        while (!File.Exists(Path.Combine(cell, "summary.json")) && clock.Elapsed < TimeSpan.FromMinutes(5)) Thread.Sleep(200);
        Assert.True(File.Exists(Path.Combine(cell, "summary.json")), $"the requeued task did not finish the run in 5 minutes; cell-0.log:\n{File.ReadAllText(logFile)}");
        job.WaitUntilEnded(TimeSpan.FromMinutes(5));

        string log = File.ReadAllText(logFile);
        Assert.Matches(@"training stopped at step \d+ on request", log); // the first attempt checkpointed and stopped
        Assert.True(log.Contains("ntp: resuming"), $"the requeued task did not resume; cell-0.log:\n{log}"); // the requeued one resumed
        var local = Cli.Run("run", temp["long.json"], "--out", temp["local"]);
        Assert.True(local.ExitCode == 0, local.Stderr);
        Assert.Equal(RunFiles.SummaryWithoutTimings(Path.Combine(temp["local"], "G(2,4,20)", "ntp", "L2xW64xH2", "n32000x1", "seed-5")), RunFiles.SummaryWithoutTimings(cell));
    }

    [SlurmFact]
    public void A_compare_run_as_job_arrays_writes_the_local_compares_numbers_and_probes()
    {
        using var temp = new TempDirectory();
        string[] Compare(string output) => ["compare", "--methods", "ntp,reverse", "--seeds", "2", .. Cli.TinyRun, "--probe-examples", "32", "--out", output];
        var slurm = Cli.Run([.. Compare(temp["slurm"]), "--executor", "slurm", "--wait"]);
        Assert.True(slurm.ExitCode == 0, slurm.Stderr);
        var local = Cli.Run(Compare(temp["local"]));
        Assert.True(local.ExitCode == 0, local.Stderr);
        Assert.Equal(RunFiles.Numbers(temp["local/comparison.json"]), RunFiles.Numbers(temp["slurm/comparison.json"]));
        Assert.True(File.Exists(temp["slurm/ntp/seed-1/probe-plan.json"]), "the array task ran the compare's probes");
    }

    [SlurmFact]
    public void Status_shows_running_pending_failed_and_finished_cells_and_the_failed_ones_last_error()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["grid.json"], """
            {"tasks": [{"name": "star", "degree": 2, "path_length": 4, "nodes": 20}],
             "methods": [{"method": "ntp", "training": {"train_samples": 4000000}}, "reverse", "teacherless"],
             "models": [{"layers": 1, "width": 32, "heads": 2}], "budgets": [{"train_samples": 256}],
             "training": {"test_samples": 64, "batch_size": 64, "warmup_steps": 2}}
            """);
        var submitted = Cli.Run("run", temp["grid.json"], "--out", temp["out"], "--executor", "slurm", "--max-parallel", "1");
        Assert.True(submitted.ExitCode == 0, submitted.Stderr);
        using var job = new SubmittedJob(submitted.Stdout);
        string Status() => Cli.Run("run", temp["grid.json"], "--out", temp["out"], "--status").Stdout;

        var clock = Stopwatch.StartNew();
        string status;
        while (!(status = Status()).Contains(" running ") && clock.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(500);
        Assert.Matches(@"(?m)^\s+0\s+running\s", status);
        Assert.Matches(@"(?m)^\s+1\s+pending\s.*\(JobArrayTaskLimit\)", status);
        Assert.Matches(@"(?m)^\s+2\s+pending\s", status);
        Assert.Contains("3 cells: 1 running, 2 pending", status);

        job.Cancel($"{job.Id}_0");
        job.WaitUntilEnded(TimeSpan.FromMinutes(2));
        status = Status();
        Assert.Matches(@"(?m)^\s+0\s+failed\s", status);
        Assert.Contains($"log: {Path.Combine(temp["out"], "slurm", "cell-0.log")}", status);
        Assert.Matches(@"last error: .*CANCELLED", status);
        Assert.Matches(@"(?m)^\s+1\s+finished\s", status);
        Assert.Contains("3 cells: 2 finished, 1 failed", status);
    }
}
