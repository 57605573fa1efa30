using Foresight.Methods;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>Tests of Foresight's own CPU kernels, skipped where they do not run (no AVX2: the Mamba uses libtorch's operations there).</summary>
public sealed class CpuKernelFactAttribute : FactAttribute
{
    public const string Reason = "needs a processor with 256-bit vectors (AVX2) for Foresight's CPU kernels";

    public CpuKernelFactAttribute()
    {
        if (!CpuVectors.Available) Skip = Reason;
    }
}

public sealed class CpuKernelTheoryAttribute : TheoryAttribute
{
    public CpuKernelTheoryAttribute()
    {
        if (!CpuVectors.Available) Skip = CpuKernelFactAttribute.Reason;
    }
}

/// <summary>The Mamba backbone: its scan against a slow loop, causality, parameter parity with the GPT, and methods on it.</summary>
public sealed class MambaTests
{
    [Fact]
    public void Selective_scan_matches_an_element_by_element_loop()
    {
        manual_seed(0);
        const int b = 2, t = 6, e = 3, n = 4;
        var u = randn(b, t, e);
        var delta = rand(b, t, e) * 0.5 + 0.01;
        var a = -(rand(e, n) * 2 + 0.1);
        var bMatrix = randn(b, t, n);
        var cMatrix = randn(b, t, n);
        var d = randn(e);
        var fast = Mamba.SelectiveScan(u, delta, a, bMatrix, cMatrix, d);

        float[] U = u.data<float>().ToArray(), Delta = delta.data<float>().ToArray(), A = a.data<float>().ToArray(),
            B = bMatrix.data<float>().ToArray(), C = cMatrix.data<float>().ToArray(), D = d.data<float>().ToArray(), Y = fast.data<float>().ToArray();
        for (int batch = 0; batch < b; batch++)
            for (int channel = 0; channel < e; channel++)
            {
                var h = new double[n];
                for (int step = 0; step < t; step++)
                {
                    double x = U[(batch * t + step) * e + channel], dt = Delta[(batch * t + step) * e + channel], y = D[channel] * x;
                    for (int s = 0; s < n; s++)
                    {
                        h[s] = Math.Exp(dt * A[channel * n + s]) * h[s] + dt * B[(batch * t + step) * n + s] * x;
                        y += C[(batch * t + step) * n + s] * h[s];
                    }
                    Assert.Equal(y, Y[(batch * t + step) * e + channel], 1e-5);
                }
            }
    }

    [CpuKernelTheory]
    [InlineData(3, 7, 35, 16)] // channels: two whole vectors and a padded one
    [InlineData(2, 4, 3, 11)] // fewer channels than a vector
    public void The_fused_scan_matches_the_libtorch_scan_in_values_and_gradients(int b, int t, int e, int n)
    {
        manual_seed(3);
        Tensor Leaf(Tensor x) => x.detach().requires_grad_(true);
        Tensor u = Leaf(randn(b, t, e)), delta = Leaf(rand(b, t, e) * 0.5 + 0.01), a = Leaf(-(rand(e, n) * 2 + 0.1)),
            bMatrix = Leaf(randn(b, t, n)), cMatrix = Leaf(randn(b, t, n)), d = Leaf(randn(e));
        Tensor[] inputs = [u, delta, a, bMatrix, cMatrix, d];
        var weights = randn(b, t, e); // a loss that weighs every output differently

        (Tensor Y, Tensor[] Gradients) Run(Func<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> scan)
        {
            foreach (var x in inputs) x.grad?.zero_();
            var y = scan(u, delta, a, bMatrix, cMatrix, d);
            (y * weights).sum().backward();
            return (y.detach().clone(), inputs.Select(x => x.grad!.clone()).ToArray());
        }

        var fast = Run(Mamba.SelectiveScan);
        var slow = Run(Mamba.SelectiveScanReference);
        var again = Run(Mamba.SelectiveScan); // on the workspaces the first call left behind
        AssertKernelMatches(fast, slow, again, ["u", "delta", "A", "B", "C", "D"]);
    }

    /// <summary>
    /// A kernel's output and gradients against libtorch's (1e-5 and 1e-4), and its second call, on the workspaces the first
    /// left behind, against its first (1e-6).
    /// </summary>
    private static void AssertKernelMatches((Tensor Output, Tensor[] Gradients) fast, (Tensor Output, Tensor[] Gradients) slow,
        (Tensor Output, Tensor[] Gradients) again, string[] names)
    {
        Assert.True(fast.Output.allclose(slow.Output, rtol: 1e-5, atol: 1e-5), $"largest difference {(fast.Output - slow.Output).abs().max().item<float>()}");
        Assert.True(again.Output.allclose(fast.Output, rtol: 1e-6, atol: 1e-6));
        for (int i = 0; i < names.Length; i++)
        {
            Assert.True(fast.Gradients[i].allclose(slow.Gradients[i], rtol: 1e-4, atol: 1e-4),
                $"d/d{names[i]}: largest difference {(fast.Gradients[i] - slow.Gradients[i]).abs().max().item<float>()}");
            Assert.True(again.Gradients[i].allclose(fast.Gradients[i], rtol: 1e-6, atol: 1e-6), $"d/d{names[i]} changed on the second call");
        }
    }

    [CpuKernelTheory]
    [InlineData(3, 7, 35, 4)] // channels: two whole vectors and a padded one
    [InlineData(2, 5, 3, 2)] // fewer channels than a vector, a shorter filter
    public void The_fused_convolution_matches_conv1d_and_silu_in_values_and_gradients(int b, int t, int e, int taps)
    {
        manual_seed(5);
        Tensor Leaf(Tensor x) => x.detach().requires_grad_(true);
        Tensor xz = Leaf(randn(b, t, 2 * e)), weight = Leaf(randn(e, 1, taps) * 0.5), bias = Leaf(randn(e) * 0.5);
        Tensor[] inputs = [xz, weight, bias];
        var weights = randn(b, t, e);

        (Tensor U, Tensor[] Gradients) Run(Func<Tensor, Tensor> convolution)
        {
            foreach (var x in inputs) x.grad?.zero_();
            var u = convolution(xz.chunk(2, -1)[0]); // strided, as in the block
            (u * weights).sum().backward();
            return (u.detach().clone(), inputs.Select(x => x.grad!.clone()).ToArray());
        }

        var fast = Run(x => CausalConvolutionKernel.Apply(x, weight, bias));
        var slow = Run(x => nn.functional.silu(
            nn.functional.conv1d(x.transpose(1, 2), weight, bias, padding: taps - 1, groups: e).narrow(2, 0, t).transpose(1, 2)));
        var again = Run(x => CausalConvolutionKernel.Apply(x, weight, bias));
        AssertKernelMatches(fast, slow, again, ["x", "weight", "bias"]);
        var error = Assert.Throws<ArgumentException>(() => CausalConvolutionKernel.Apply(xz, weight, bias));
        Assert.Contains($"x ({b}, {t}, {2 * e})", error.Message);
    }

    [CpuKernelFact]
    public void The_fused_scan_refuses_shapes_that_disagree()
    {
        Tensor u = randn(2, 5, 3), delta = rand(2, 5, 3), a = -rand(3, 4), c = randn(2, 5, 4), d = randn(3);
        var error = Assert.Throws<ArgumentException>(() => Mamba.SelectiveScan(u, delta, a, randn(2, 5, 6), c, d));
        Assert.Contains("B (2, 5, 6)", error.Message);
        Assert.Throws<ArgumentException>(() => Mamba.SelectiveScan(u, rand(2, 4, 3), a, randn(2, 5, 4), c, d));
    }

    private static readonly PathStarTask Task = new(2, 5, 50);
    private static readonly ModelSize Default = new(4, 128, 4);
    private static int Length => Task.PrefixLength + Task.TargetLength - 1;

    [Fact]
    public void A_later_token_never_changes_an_earlier_output()
    {
        manual_seed(1);
        using var model = new Mamba(new MambaConfig(Task.VocabularySize, Length, Layers: 2, Width: 32, InnerWidth: 48));
        var tokens = randint(0, Task.VocabularySize, [3, Length], dtype: ScalarType.Int64);
        var changed = tokens.clone();
        const int at = 20;
        changed[.., at] = (tokens[.., at] + 1) % Task.VocabularySize;
        using var _ = no_grad();
        Tensor before = model.forward(tokens), after = model.forward(changed);
        Assert.True(before.narrow(1, 0, at).allclose(after.narrow(1, 0, at), rtol: 0, atol: 1e-6));
        Assert.False(before.narrow(1, at, 1).allclose(after.narrow(1, at, 1)));
    }

    private static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());

    [Theory]
    [InlineData(4, 128)]
    [InlineData(2, 64)]
    [InlineData(8, 128)]
    public void The_default_mamba_has_the_gpts_parameter_count_within_ten_percent(int layers, int width)
    {
        var size = Default with { Layers = layers, Width = width };
        using var gpt = size.Build(Task, Length);
        using var mamba = (size with { Backbone = BackboneKind.Mamba }).Build(Task, Length);
        Assert.IsType<Mamba>(mamba);
        Assert.Equal(size.GptParameters(Task.VocabularySize, Length), Count(gpt)); // the formula the sizing uses
        Assert.Equal(((Mamba)mamba).Config.Parameters, Count(mamba));
        Assert.InRange((double)Count(mamba) / Count(gpt), 0.9, 1.1);
    }

    [Fact]
    public void Ntp_and_reverse_train_on_a_mamba_and_record_the_backbone()
    {
        using var temp = new TempDirectory();
        var task = new PathStarTask(2, 4, 20);
        var size = new ModelSize(Layers: 1, Width: 32, Heads: 2, Backbone: BackboneKind.Mamba);
        foreach (string method in new[] { "ntp", "reverse" })
        {
            var config = new RunConfig(method, task.Spec, size, new TrainingConfig(TrainSamples: 512, TestSamples: 64, BatchSize: 64, WarmupSteps: 2, EvalSamples: 64));
            var (train, test) = Trainer.MakeData(task, config.Training);
            using (train)
            using (test)
            {
                var run = RunDirectory.Create(temp[method]);
                Trainer.Train(config, train, test, run);
                Assert.Equal(BackboneKind.Mamba, run.ReadConfig().Model.Backbone);
                var losses = run.ReadMetrics().Select(m => m["train_loss"]!.GetValue<double>()).ToList();
                Assert.True(losses[^1] < losses[0], $"{method}: loss {losses[0]} -> {losses[^1]}");
            }
        }
    }

    [Theory]
    [InlineData("mtp", "mtp's extra heads are transformer blocks")]
    [InlineData("diffusion", "model.backbone mamba is causal by construction, and diffusion needs positions that see later ones")]
    public void Methods_that_need_attention_refuse_a_mamba(string method, string message)
    {
        var size = new ModelSize(Layers: 1, Width: 32, Heads: 2, Backbone: BackboneKind.Mamba);
        var error = Assert.ThrowsAny<UserError>(() => MethodRegistry.Create(method, new MethodContext(Task, size)));
        Assert.Contains(message, error.Message);
        Assert.ThrowsAny<UserError>(() => (size with { Positions = PositionEncoding.Rotary }).Validate());
    }
}
