using Foresight.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Tests;

/// <summary>
/// The held forms compute what TorchSharp's operators and optimizer compute, bit for bit, so no result of the project
/// changed when they replaced them; and they survive a garbage collector that never rests.
/// </summary>
public sealed class HeldScalarsTests
{
    private static Tensor Values() { manual_seed(1); return randn(4, 5); }

    [Fact]
    public void Each_helper_equals_the_operator_it_replaces_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var t = Values();
        var u = randn(4, 5);
        var mask = t.gt(t.mean());
        var integers = randint(0, 9, [4, 5]);
        (Tensor Held, Tensor Operator)[] pairs =
        [
            (t.Plus(u), t + u), (t.Minus(u), t - u),
            (t.Plus(0.3), t + 0.3), (integers.Plus(2), integers + 2), (integers.Minus(2), integers - 2),
            (t.SubtractedFrom(1), 1 - t), (t.SubtractedFrom(0.5), 0.5 - t), (integers.SubtractedFrom(7), 7 - integers),
            (t.Times(3), t * 3), (t.Times(0.7), 0.7 * t), (integers.Times(3), integers * 3),
            (t.Over(3), t / 3), (t.Over(0.7), t / 0.7), (t.DividedInto(1), 1 / t),
            (t.abs().Power(1.5), t.abs().pow(1.5)), (t.Squared(), t.square()),
            (t.AtLeast(0), t.clamp_min(0)), (t.AtLeast(0.1), t.clamp_min(0.1)), (t.Clamp(-0.5, 0.5), t.clamp(-0.5, 0.5)),
            (t.Fill(mask, double.NegativeInfinity), t.masked_fill(mask, double.NegativeInfinity)), (integers.Fill(mask, 3), integers.masked_fill(mask, 3)),
            (integers.EqualTo(3), integers.eq(3)), (integers.GreaterOrEqual(3), integers >= 3), (integers.Above(3), integers.gt(3)), (t.Below(0.2), t < 0.2),
            (HeldScalars.Where(mask, -1, integers), where(mask, -1, integers)),
            (HeldScalars.Arange(6, ScalarType.Int64), arange(6, dtype: ScalarType.Int64)), (HeldScalars.Arange(2, 9, ScalarType.Float32), arange(2, 9, dtype: ScalarType.Float32)),
            (HeldScalars.Full(2, 3, 7, ScalarType.Int64), full(2, 3, 7, dtype: ScalarType.Int64)),
            ((t * 30).Softplus(), F.softplus(t * 30)),
            (t.clone().IndexFill_(1, tensor(new long[] { 2 }), double.NegativeInfinity), t.clone().index_fill_(1, tensor(new long[] { 2 }), double.NegativeInfinity)),
        ];
        for (int i = 0; i < pairs.Length; i++)
        {
            Assert.Equal(pairs[i].Operator.dtype, pairs[i].Held.dtype);
            Assert.True(pairs[i].Held.eq(pairs[i].Operator).all().item<bool>(), $"pair {i} differs");
        }
    }

    [Fact]
    public void The_held_AdamW_updates_exactly_as_TorchSharps_with_and_without_decay()
    {
        var (ours, theirs) = (Parameters(), Parameters());
        using var held = new AdamW([new AdamW.ParamGroup([ours[0]], 1e-2, 0.9, 0.999, 1e-8, 0.1), new AdamW.ParamGroup([ours[1]], 1e-2, 0.9, 0.999, 1e-8, 0)], 1e-2, 0.1);
        using var torchSharps = optim.AdamW([new TorchSharp.Modules.AdamW.ParamGroup([theirs[0]], 1e-2, 0.9, 0.999, 1e-8, 0.1), new TorchSharp.Modules.AdamW.ParamGroup([theirs[1]], 1e-2, 0.9, 0.999, 1e-8, 0)]);
        for (int step = 0; step < 12; step++)
        {
            double lr = 1e-2 * (1 - step / 24.0); // the rate changes every step, as the schedule's does
            foreach (var group in held.ParamGroups.Concat(torchSharps.ParamGroups)) group.LearningRate = lr;
            Backward(ours, step);
            Backward(theirs, step);
            held.Update();
            torchSharps.step();
            AssertSame(ours, theirs, $"step {step}");
        }
    }

    [Fact]
    public void Without_decay_the_held_AdamW_updates_exactly_as_TorchSharps_Adam_the_probes_used()
    {
        var (ours, theirs) = (Parameters(), Parameters());
        using var held = new AdamW([new AdamW.ParamGroup(ours, 0.05, 0.9, 0.999, 1e-8, 0)], 0.05, 0);
        using var adam = optim.Adam(theirs, 0.05);
        for (int step = 0; step < 12; step++)
        {
            Backward(ours, step);
            Backward(theirs, step);
            held.Update();
            adam.step();
            AssertSame(ours, theirs, $"step {step}");
        }
    }

    [Fact]
    public void A_checkpoint_of_TorchSharps_AdamW_loads_into_the_held_one()
    {
        var (ours, theirs) = (Parameters(), Parameters());
        using var torchSharps = optim.AdamW([new TorchSharp.Modules.AdamW.ParamGroup(theirs, 1e-2, 0.9, 0.999, 1e-8, 0.1)]);
        for (int step = 0; step < 3; step++) { Backward(theirs, step); torchSharps.step(); }
        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) torchSharps.save_state_dict(writer);

        using (no_grad()) for (int i = 0; i < 2; i++) ours[i].copy_(theirs[i]);
        using var held = new AdamW([new AdamW.ParamGroup(ours, 1e-2, 0.9, 0.999, 1e-8, 0.1)], 1e-2, 0.1);
        saved.Position = 0;
        using (var reader = new BinaryReader(saved)) held.load_state_dict(reader);
        Backward(ours, 3); Backward(theirs, 3);
        held.Update(); torchSharps.step();
        AssertSame(ours, theirs, "the step after loading");
    }

    private static void AssertSame(TorchSharp.Modules.Parameter[] ours, TorchSharp.Modules.Parameter[] theirs, string when)
    {
        for (int i = 0; i < ours.Length; i++) Assert.True(ours[i].eq(theirs[i]).all().item<bool>(), $"{when}, parameter {i}");
    }

    private static TorchSharp.Modules.Parameter[] Parameters()
    {
        manual_seed(7);
        return [new(randn(3, 4)), new(randn(4))];
    }

    private static void Backward(TorchSharp.Modules.Parameter[] parameters, int step)
    {
        foreach (var p in parameters) p.grad?.zero_();
        manual_seed(100 + step);
        using var target = randn(3, 4);
        using var loss = ((parameters[0] * parameters[1]) - target).pow(2).sum();
        loss.backward();
    }
}

/// <summary>
/// Training with a collector that never rests (<c>FORESIGHT_GC_STRESS=1</c>): before every number reached libtorch held,
/// each of these crashed within seconds (30 of 30 processes of tools/gc-stress); now none may.
/// </summary>
public sealed class GcStressTests
{
    [Theory]
    [InlineData("ntp", "gpt")]
    [InlineData("ntp", "mamba")]
    [InlineData("diffusion", "gpt")]
    public void Training_and_evaluation_survive_garbage_collections_mid_call(string method, string backbone)
    {
        using var temp = new TempDirectory();
        string[] args =
        [
            "train", "--task", "star", "--nodes", "20", "--layers", "2", "--width", "32", "--heads", "2",
            "--train-samples", "3200", "--batch-size", "32", "--test-samples", "100", "--eval-every", "50", "--eval-samples", "50",
            "--method", method, "--backbone", backbone, "--out", temp["run"], .. method == "diffusion" ? ["--diffusion-steps", "4"] : Array.Empty<string>(),
        ];
        var result = Cli.Run(new Dictionary<string, string> { [Foresight.Cli.GcStress.Variable] = "1" }, args);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists(Path.Combine(temp["run"], "summary.json")));
    }
}
