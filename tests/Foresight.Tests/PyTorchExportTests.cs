using System.Diagnostics;
using System.Text.Json.Nodes;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>A test that needs real PyTorch: Debian's python3-torch for /usr/bin/python3 (.ci/run installs it); without it the test is skipped.</summary>
public sealed class PyTorchTheoryAttribute : TheoryAttribute
{
    public const string Python = "/usr/bin/python3";
    private static readonly Lazy<bool> Available = new(() =>
    {
        if (!File.Exists(Python)) return false;
        using var probe = Process.Start(new ProcessStartInfo(Python, ["-c", "import torch, numpy"]) { RedirectStandardError = true })!;
        probe.WaitForExit();
        return probe.ExitCode == 0;
    });

    public PyTorchTheoryAttribute()
    {
        if (!Available.Value) Skip = $"needs PyTorch for {Python} (apt-get install python3-torch; .ci/run installs it)";
    }
}

/// <summary>export --format pytorch, read by real PyTorch and rebuilt by tools/foresight_gpt.py.</summary>
public sealed class PyTorchExportTests
{
    [PyTorchTheory]
    [InlineData("ntp", "learned")]
    [InlineData("teacherless", "rotary")]
    [InlineData("diffusion", "learned")]
    public void An_exported_gpt_opens_in_pytorch_with_equal_weights_and_logits_within_1e_4(string method, string positions)
    {
        using var temp = new TempDirectory();
        var trained = Cli.Run("train", "--method", method, "--degree", "2", "--path-length", "4", "--nodes", "20", "--layers", "2", "--width", "32", "--heads", "2",
            "--positions", positions, "--precision", "fp32", "--train-samples", "4096", "--epochs", "4", "--lr", "0.003", "--test-samples", "64", "--batch-size", "64",
            "--warmup-steps", "2", "--out", temp["run"]); // trained enough that a tanh GELU or a wrong LayerNorm epsilon moves the logits by more than 1e-4
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        var exported = Cli.Run("export", "--run", temp["run"], "--format", "pytorch");
        Assert.True(exported.ExitCode == 0, exported.Stderr);

        var (config, task, trainedMethod) = Trainer.LoadTrained(RunDirectory.Open(temp["run"]));
        using var _ = trainedMethod;
        var gpt = PyTorchExport.FindGpt(trainedMethod.Model).Gpt;
        using var test = Trainer.MakeTestSet(task, config.Training);
        var batch = test.Slice(0, 16);
        var tokens = cat([batch.Prefix, batch.Target], 1);
        tokens = tokens.narrow(1, 0, Math.Min(tokens.shape[1], gpt.BlockSize)); // (B, T): the examples as the model reads them
        float[] expected;
        using (no_grad()) expected = gpt.forward(tokens).data<float>().ToArray();
        File.WriteAllBytes(temp["tokens.bin"], [.. tokens.data<long>().ToArray().SelectMany(BitConverter.GetBytes)]);

        using (var python = Process.Start(new ProcessStartInfo(PyTorchTheoryAttribute.Python,
                   [Repository.PathOf("tests", "pytorch", "check_export.py"), temp["run/model.pth"], temp["tokens.bin"], $"{tokens.shape[0]}", $"{tokens.shape[1]}", temp["torch"]])
               { RedirectStandardError = true })!)
        {
            string error = python.StandardError.ReadToEnd();
            python.WaitForExit();
            Assert.True(python.ExitCode == 0, error);
        }

        var ours = PyTorchExport.StateDict(trainedMethod.Model);
        var listing = JsonNode.Parse(File.ReadAllText(temp["torch/tensors.json"]))!.AsArray();
        Assert.Equal(ours.Keys.Order(), listing.Select(t => t!["name"]!.GetValue<string>()).Order());
        Assert.Contains("transformer.h.1.attn.c_attn.weight", ours.Keys);
        foreach (var entry in listing)
        {
            string name = entry!["name"]!.GetValue<string>();
            Assert.Equal(ours[name].shape, entry["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray());
            Assert.True(ours[name].data<float>().ToArray().SequenceEqual(Floats(Path.Combine(temp["torch"], entry["file"]!.GetValue<string>()))), $"{name} differs");
        }
        var logits = Floats(temp["torch/logits.bin"]);
        Assert.Equal(expected.Length, logits.Length);
        double largest = expected.Zip(logits, (a, b) => Math.Abs((double)a - b)).Max();
        Assert.True(largest < 1e-4, $"PyTorch's logits differ from Foresight's by up to {largest:g3}");
    }

    [Fact]
    public void A_mamba_run_is_refused_in_one_line_and_an_existing_export_is_never_overwritten()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, Cli.Run(["train", "--method", "ntp", .. Cli.TinyRun, "--backbone", "mamba", "--out", temp["mamba"]]).ExitCode);
        var mamba = Cli.Run("export", "--run", temp["mamba"], "--format", "pytorch");
        Assert.Equal(2, mamba.ExitCode);
        Assert.Equal("error: --format pytorch writes GPT backbones; this run's model has none (a Mamba run exports as safetensors)", mamba.Stderr.Trim());
        Assert.False(File.Exists(temp["mamba/model.pth"]));

        Assert.Equal(0, Cli.Run(["train", "--method", "ntp", .. Cli.TinyRun, "--out", temp["gpt"]]).ExitCode);
        File.WriteAllText(temp["gpt/model.json"], "mine");
        var clash = Cli.Run("export", "--run", temp["gpt"], "--format", "pytorch");
        Assert.Equal(2, clash.ExitCode);
        Assert.Equal($"error: '{temp["gpt/model.json"]}' already exists; refusing to overwrite it", clash.Stderr.Trim());
        Assert.Equal("mine", File.ReadAllText(temp["gpt/model.json"]));
    }

    private static float[] Floats(string file)
    {
        byte[] bytes = File.ReadAllBytes(file);
        return [.. Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, 4 * i))];
    }
}
