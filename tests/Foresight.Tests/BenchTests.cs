using System.Text.Json.Nodes;
using Foresight.Bench;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Tasks;

namespace Foresight.Tests;

/// <summary>The FLOP count MFU rests on, and the bench command's output.</summary>
public sealed class BenchTests
{
    [Theory]
    [InlineData("ntp")]
    [InlineData("reverse")]
    [InlineData("teacherless")]
    public void Model_flops_of_a_gpt_method_are_6N_plus_12LCT_per_token(string name)
    {
        var task = new PathStarTask(2, 5, 50);
        var size = new ModelSize(Layers: 4, Width: 128, Heads: 4);
        using var method = MethodRegistry.Create(name, new MethodContext(task, size));
        long t = task.PrefixLength + task.TargetLength - 1, c = 128, l = 4, v = task.VocabularySize;
        double matmulWeights = l * 12 * c * c + v * c; // qkv, projection, MLP; the tied output layer
        Assert.Equal(t * (6 * matmulWeights + 12.0 * l * c * t), ModelFlops.TrainingPerExample(method));
    }

    [Theory]
    [InlineData("VmHWM:\t   10240 kB", 10_485_760)]
    [InlineData("VmHWM:\t12345678 kB", 12_641_974_272)]
    public void Peak_memory_is_read_whatever_the_padding(string line, long bytes) => Assert.Equal(bytes, Benchmark.StatusBytes(line));

    [Fact]
    public void Bench_writes_its_measurements_and_times_the_solve()
    {
        using var temp = new TempDirectory();
        var bench = Cli.Run(["bench", "--steps", "1", "--time-to-solve", "--eval-every", "4", "--out", temp["bench"], .. Cli.TinyRun]);
        Assert.True(bench.ExitCode == 0, bench.Stderr);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["bench"], "bench.json")))!;
        Assert.True(json["gemm_fp32"]!["flops_per_second"]!.GetValue<double>() > 1e9);
        Assert.True(json["gemm_bf16"]!["flops_per_second"]!.GetValue<double>() > 1e9);
        var training = json["training"]!;
        Assert.Equal(training["model_flops_per_second"]!.GetValue<double>() / json["gemm_fp32"]!["flops_per_second"]!.GetValue<double>(),
            training["mfu"]!.GetValue<double>(), 9);
        Assert.Equal(training["model_flops_per_second"]!.GetValue<double>() / json["gemm_bf16"]!["flops_per_second"]!.GetValue<double>(),
            training["mfu_of_bf16_peak"]!.GetValue<double>(), 9);
        Assert.True(json["decoding"]!["tokens_per_second"]!.GetValue<double>() > 0);
        Assert.True(json["peak_resident_bytes"]!.GetValue<long>() > 0);
        var solve = json["time_to_solve"]!;
        Assert.Equal("reverse", solve["method"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(temp["bench"], "time-to-solve", "summary.json")));
        Assert.Contains("MFU", bench.Stdout);
    }
}
