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
        var bench = Cli.Run(["bench", "--steps", "1", "--time-to-solve", "--eval-every", "4", "--backbone", "gpt", "--out", temp["bench"], .. Cli.TinyRun]);
        Assert.True(bench.ExitCode == 0, bench.Stderr);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["bench"], "bench.json")))!;
        Assert.True(json["gemm_fp32"]!["flops_per_second"]!.GetValue<double>() > 1e9);
        Assert.True(json["gemm_bf16"]!["flops_per_second"]!.GetValue<double>() > 1e9);
        var row = Assert.Single(json["rows"]!.AsArray())!; // --layers/--width/--heads name one size, --backbone one backbone
        Assert.Equal("gpt", row["backbone"]!.GetValue<string>());
        Assert.Equal("1 x 32", row["size"]!.GetValue<string>());
        var training = row["training"]!;
        Assert.Equal(training["model_flops_per_second"]!.GetValue<double>() / row["peak"]!["flops_per_second"]!.GetValue<double>(),
            row["share_of_peak"]!.GetValue<double>(), 9);
        Assert.Equal("bfloat16", row["peak"]!["dtype"]!.GetValue<string>());
        Assert.Equal(training["model_flops_per_second"]!.GetValue<double>() / json["gemm_fp32"]!["flops_per_second"]!.GetValue<double>(),
            training["mfu"]!.GetValue<double>(), 9); // the other precision's MFU: over its peak at the start
        Assert.Equal(training["batch_size"]!.GetValue<int>() / training["median_step_seconds"]!.GetValue<double>(), training["samples_per_second"]!.GetValue<double>(), 6);
        Assert.True(row["decoding"]!["tokens_per_second"]!.GetValue<double>() > 0);
        Assert.True(row["peak_resident_bytes"]!.GetValue<long>() > 0);
        var solve = json["time_to_solve"]!;
        Assert.Equal("reverse", solve["method"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(temp["bench"], "time-to-solve", "summary.json")));
        Assert.Contains("of peak", bench.Stdout);
    }

    [Fact]
    public void Bench_measures_every_size_on_every_backbone_and_profiles_the_phases_of_a_step()
    {
        using var temp = new TempDirectory();
        var bench = Cli.Run(["bench", "--steps", "1", "--sizes", "1x16x2,2x16", "--backbones", "gpt,mamba", "--precision", "fp32", "--profile", "--out", temp["bench"],
            "--degree", "2", "--path-length", "4", "--nodes", "20", "--batch-size", "32"]);
        Assert.True(bench.ExitCode == 0, bench.Stderr);
        var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(temp["bench"], "bench.json")))!["rows"]!.AsArray();
        Assert.Equal(["gpt 1 x 16", "gpt 2 x 16", "mamba 1 x 16", "mamba 2 x 16"], rows.Select(r => $"{r!["backbone"]} {r["size"]}"));
        Assert.Equal(2, rows[1]!["layers"]!.GetValue<int>());
        Assert.Equal(1, rows[1]!["heads"]!.GetValue<int>()); // 2x16: heads default to width / 32, at least one
        foreach (var row in rows)
        {
            Assert.Equal("float32", row!["peak"]!["dtype"]!.GetValue<string>());
            var profile = row["profile"]!;
            var phases = profile["phases"]!.AsArray();
            Assert.Equal(["forward", "backward", "clip", "optimizer"], phases.Select(p => p!["phase"]!.GetValue<string>()));
            Assert.All(phases, p => Assert.True(p!["median_milliseconds"]!.GetValue<double>() > 0));
            if (profile["sampler"]!.GetValue<string>() == "perf") // CI installs linux-perf; elsewhere the phases come without their operations
                Assert.Contains(phases, p => p!["operations"]!.AsArray().Count > 0);
        }
        Assert.Contains("profile: mamba 2 x 16", bench.Stdout);
    }

    [Theory]
    [InlineData("4x128", 4, 128, 4)]
    [InlineData("12x384x6", 12, 384, 6)]
    [InlineData(" 8x128 ", 8, 128, 4)]
    public void A_bench_size_reads_layers_width_and_heads(string text, int layers, int width, int heads) =>
        Assert.Equal(new BenchSize(layers, width, heads), BenchSize.Parse(text));

    [Fact]
    public void A_perf_sample_is_read_into_time_library_and_function()
    {
        var sample = StepProfiler.ParseSample("   33357.441797371:      7f3a2b1c add_kernel(at::TensorIteratorBase&) (/opt/lib/libtorch_cpu.so)")!.Value;
        Assert.Equal((long)(33357.441797371m * System.Diagnostics.Stopwatch.Frequency), sample.Timestamp);
        Assert.Equal("/opt/lib/libtorch_cpu.so", sample.Dso);
        Assert.Equal("add_kernel(at::TensorIteratorBase&)", sample.Symbol);
        var managed = StepProfiler.ParseSample("12.5:  7f00 [unknown] (/memfd:doublemapper (deleted))")!.Value;
        Assert.Equal("/memfd:doublemapper (deleted)", managed.Dso);
        Assert.Null(StepProfiler.ParseSample("not a sample"));
    }

    [Theory]
    [InlineData("[kernel.kallsyms]", "pvm_irq_enable", "kernel (page faults, scheduling)")]
    [InlineData("/x/libgomp-98b21ff3.so.1", "[unknown]", "OpenMP (threads waiting or waking)")]
    [InlineData("/x/libtorch_cpu.so", "mkl_blas_def_sgemm_kernel_0_zen", "fp32 matmul (MKL)")]
    [InlineData("/tmp/perf-123.map", "[unknown]", "generated native code (oneDNN's kernels: the bf16 matmuls)")]
    [InlineData("/memfd:doublemapper (deleted)", "[unknown]", ".NET code (Foresight's own kernels, TorchSharp's calls)")]
    [InlineData("/x/libtorch_cpu.so", "at::internal::invoke_parallel<at::parallel_for<at::native::(anonymous namespace)::LayerNormKernelImplInternal<float, 0>(at::Tensor const&)>", "LayerNormKernelImplInternal")]
    [InlineData("/x/libtorch_cpu.so", "c10::function_ref<void (char**)>::callback_fn<at::native::AVX2::VectorizedLoop2d<at::native::(anonymous namespace)::add_kernel(at::TensorIteratorBase&, c10::Scalar const&)::{lambda(c10::BFloat16, c10::BFloat16)#1}>", "add_kernel (bf16)")]
    public void A_sampled_function_is_named_by_its_operation(string dso, string symbol, string operation) =>
        Assert.Equal(operation, StepProfiler.OperationName(dso, symbol));
}
