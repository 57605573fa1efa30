using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Foresight.Tests;

/// <summary>A run killed mid-training (SIGKILL, a real child process) and resumed ends exactly like an uninterrupted one.</summary>
public sealed class ResumeTests
{
    private static readonly string[] Flags =
        ["--method", "ntp", "--degree", "2", "--path-length", "4", "--nodes", "20", "--layers", "2", "--width", "64", "--heads", "2",
         "--train-samples", "32000", "--test-samples", "128", "--batch-size", "64", "--warmup-steps", "10",
         "--eval-every", "25", "--eval-samples", "64", "--seed", "5"];

    private static JsonObject Summary(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();

    /// <summary>Every metrics line without its timing fields, which differ between any two runs.</summary>
    private static List<string> Metrics(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l =>
        {
            var o = JsonNode.Parse(l)!.AsObject();
            o.Remove("train_seconds");
            return o.ToJsonString();
        }).ToList();

    /// <summary>The resumed run's final numbers and every evaluation equal the uninterrupted run's, timings aside.</summary>
    private static void AssertSameRun(string uninterrupted, string resumed)
    {
        var expected = Summary(uninterrupted);
        var actual = Summary(resumed);
        foreach (string key in new[] { "steps", "samples_seen", "final_train_loss", "exact_match", "first_decision_accuracy", "per_position_accuracy", "teacher_forced_per_position" })
            Assert.True(JsonNode.DeepEquals(expected[key], actual[key]), $"{key}: {expected[key]?.ToJsonString()} vs {actual[key]?.ToJsonString()}");
        Assert.Equal(Metrics(uninterrupted), Metrics(resumed));
    }

    [Fact]
    public void Killed_run_resumes_to_the_same_final_metrics()
    {
        using var temp = new TempDirectory();
        var uninterrupted = Cli.Run(["train", "--out", temp["whole"], .. Flags]);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Stderr);

        using (var child = Cli.Start(["train", "--out", temp["killed"], .. Flags]))
        {
            // Kill after three evaluations, mid-run, with optimizer state and a partly consumed epoch to restore.
            string metrics = Path.Combine(temp["killed"], "metrics.jsonl");
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(metrics) && File.ReadLines(metrics).Count() >= 3) && clock.Elapsed < TimeSpan.FromMinutes(2))
                Thread.Sleep(20);
            child.Kill(); // SIGKILL: no chance to clean up
            child.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(temp["killed"], "summary.json")), "the run finished before it could be killed; make it longer");

        var resumed = Cli.Run("train", "--resume", temp["killed"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);

        AssertSameRun(temp["whole"], temp["killed"]);
    }

    [Theory]
    [InlineData("USR1")] // a cluster's warning before its time limit
    [InlineData("TERM")]
    public void A_run_asked_to_stop_by_a_signal_checkpoints_at_the_next_step_and_resumes_to_the_same_metrics(string signal)
    {
        using var temp = new TempDirectory();
        var uninterrupted = Cli.Run(["train", "--out", temp["whole"], .. Flags]);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Stderr);

        using (var child = Cli.Start(["train", "--out", temp["stopped"], .. Flags]))
        {
            var stderr = child.StandardError.ReadToEndAsync();
            _ = child.StandardOutput.ReadToEndAsync();
            string metrics = Path.Combine(temp["stopped"], "metrics.jsonl");
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(metrics) && File.ReadLines(metrics).Any()) && clock.Elapsed < TimeSpan.FromMinutes(2))
                Thread.Sleep(20);
            Thread.Sleep(150); // a few steps past the evaluation's checkpoint, so the signal's own checkpoint is the one resumed from
            using (var kill = Process.Start("kill", [$"-{signal}", $"{child.Id}"])) kill.WaitForExit();
            Assert.True(child.WaitForExit(TimeSpan.FromMinutes(1)), "the run did not stop on the signal");
            Assert.Equal(75, child.ExitCode);
            string line = Assert.Single(stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Matches($@"^training stopped at step \d+ on request; its checkpoint is in .+; 'foresight train --resume .+' goes on from there", line);
        }
        Assert.False(File.Exists(Path.Combine(temp["stopped"], "summary.json")), "the run finished before the signal; make it longer");

        var resumed = Cli.Run("train", "--resume", temp["stopped"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        AssertSameRun(temp["whole"], temp["stopped"]);
    }

    [Fact]
    public void A_run_stopped_before_its_first_checkpoint_resumes_by_training_from_the_start()
    {
        using var temp = new TempDirectory();
        var whole = Cli.Run(["train", "--out", temp["whole"], "--eval-every", "4", .. Cli.TinyRun]);
        Assert.True(whole.ExitCode == 0, whole.Stderr);
        Directory.CreateDirectory(temp["stopped"]); // what a kill or a full disk between config.json and the first checkpoint leaves
        File.Copy(Path.Combine(temp["whole"], "config.json"), Path.Combine(temp["stopped"], "config.json"));
        File.WriteAllText(Path.Combine(temp["stopped"], "trainer.ckpt.999999.tmp"), "half a checkpoi");

        var resumed = Cli.Run("train", "--resume", temp["stopped"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        AssertSameRun(temp["whole"], temp["stopped"]);
        Assert.Empty(Directory.GetFiles(temp["stopped"], "*.tmp"));
    }

    [Fact]
    public void Resume_refuses_a_finished_run_and_a_corrupt_checkpoint()
    {
        using var temp = new TempDirectory();
        var run = Cli.Run(["train", "--out", temp["run"], "--eval-every", "4", .. Cli.TinyRun]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var finished = Cli.Run("train", "--resume", temp["run"]);
        Assert.Equal(2, finished.ExitCode);
        Assert.Contains("already finished", finished.Stderr);

        File.Delete(Path.Combine(temp["run"], "summary.json"));
        string checkpoint = Path.Combine(temp["run"], "trainer.ckpt");
        byte[] bytes = File.ReadAllBytes(checkpoint);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(checkpoint, bytes);
        var corrupt = Cli.Run("train", "--resume", temp["run"]);
        Assert.Equal(2, corrupt.ExitCode);
        Assert.Contains("is corrupt: its checksum does not match", corrupt.Stderr);
        Assert.Equal(bytes, File.ReadAllBytes(checkpoint)); // left as it was
    }
}
