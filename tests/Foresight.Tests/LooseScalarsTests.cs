using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>
/// No tensor operation of the library or the CLI hands libtorch a Scalar nothing keeps alive (<see cref="HeldScalars"/>):
/// checked on the built assemblies, so an operator written as <c>t * 2.0</c> anywhere fails the suite.
/// </summary>
public sealed class LooseScalarsTests
{
    [Fact]
    public void The_library_passes_every_number_to_libtorch_as_a_held_scalar()
    {
        var found = LooseScalars.In(typeof(Tasks.ITask).Assembly.Location, nameof(HeldScalars));
        Assert.True(found.Count == 0, "tensor operations with a Scalar nothing keeps alive (write them with HeldScalars):\n" + string.Join("\n", found));
    }

    [Fact]
    public void The_command_line_passes_every_number_to_libtorch_as_a_held_scalar()
    {
        var found = LooseScalars.In(typeof(Foresight.Cli.GcStress).Assembly.Location, nameof(HeldScalars));
        Assert.True(found.Count == 0, "tensor operations with a Scalar nothing keeps alive:\n" + string.Join("\n", found));
    }

    [Fact]
    public void The_check_sees_a_number_in_an_operator_an_implicit_alpha_a_converted_argument_an_implicit_tensor_and_TorchSharps_optimizers()
    {
        var found = LooseScalars.In(typeof(LooseScalarsTests).Assembly.Location, nameof(HeldScalars))
            .Where(f => f.StartsWith(typeof(LooseSamples).FullName!, StringComparison.Ordinal)).ToList();
        foreach (var sample in new[] { "TimesTwo", "Sum", "Filled", "Range", "TorchSharpStep", "SquaredByTorchSharp", "WhereNumber" })
            Assert.Contains(found, f => f.Contains($".{sample}:", StringComparison.Ordinal));
        Assert.DoesNotContain(found, f => f.Contains(".Held", StringComparison.Ordinal));
    }
}

/// <summary>What <see cref="LooseScalarsTests"/> must find (and one it must not); never run.</summary>
internal static class LooseSamples
{
    public static Tensor TimesTwo(Tensor t) => t * 2.0;
    public static Tensor Sum(Tensor a, Tensor b) => a + b;
    public static Tensor Filled(Tensor t, Tensor mask) => t.masked_fill(mask, 0);
    public static Tensor Range(long n) => arange(n);
    public static void TorchSharpStep(TorchSharp.Modules.Parameter p) { using var o = optim.SGD([p], 0.1); o.step(); }
    public static Tensor SquaredByTorchSharp(Tensor t) => t.square();
    public static Tensor WhereNumber(Tensor mask, Tensor t) => where(mask, -1, t);
    public static Tensor Held(Tensor a, Tensor b) => a.Plus(b).Times(2.0);
}
