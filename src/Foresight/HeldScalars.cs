using TorchSharp;
using static TorchSharp.torch;

namespace Foresight;

/// <summary>
/// Tensor–number operations with the number held as a Scalar until libtorch is done with it. TorchSharp 0.107 turns a
/// C# number in a tensor operator or overload (<c>t * 0.5</c>, <c>t / n</c>, <c>1 - t</c>, <c>a + b</c>'s alpha 1,
/// <c>arange(n)</c>, <c>full(.., v)</c>, its own optimizers' updates) into a Scalar that nothing keeps alive; a garbage
/// collection during the native call can finalise it while libtorch still reads it ("Unknown scalar type", "Expected
/// false to be true ... toDouble"; dotnet/TorchSharp pull requests #1434 and #1496). The library writes every such
/// operation with these helpers, and a test scans the built assembly for any other. Each helper makes the same libtorch
/// call as TorchSharp's operator, with a Scalar of the same type, so results are bit for bit those of the operator.
/// </summary>
internal static class HeldScalars
{
    /// <summary>The alpha of a plain sum or difference, integral as TorchSharp's own (an integral tensor refuses a fractional one).</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>A Scalar for a field: the owner keeps it as long as it is used and disposes it.</summary>
    public static Scalar Create(double value) => value.ToScalar();

    /// <summary><c>a + b</c>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><c>a - b</c>.</summary>
    public static Tensor Minus(this Tensor a, Tensor b) => a.sub(b);

    /// <summary><c>t + value</c>.</summary>
    public static Tensor Plus(this Tensor t, long value) { using var s = value.ToScalar(); return t.add(s, One); }

    /// <inheritdoc cref="Plus(Tensor, long)"/>
    public static Tensor Plus(this Tensor t, double value) { using var s = value.ToScalar(); return t.add(s, One); }

    /// <summary><c>t - value</c>.</summary>
    public static Tensor Minus(this Tensor t, long value) { using var s = value.ToScalar(); return t.sub(s); }

    /// <summary><c>value - t</c>, as TorchSharp computes it: -t + value.</summary>
    public static Tensor SubtractedFrom(this Tensor t, long value) { using var s = value.ToScalar(); using var negated = t.negative(); return negated.add(s, One); }

    /// <inheritdoc cref="SubtractedFrom(Tensor, long)"/>
    public static Tensor SubtractedFrom(this Tensor t, double value) { using var s = value.ToScalar(); using var negated = t.negative(); return negated.add(s, One); }

    /// <summary><c>t * factor</c>.</summary>
    public static Tensor Times(this Tensor t, long factor) { using var s = factor.ToScalar(); return t.mul(s); }

    /// <inheritdoc cref="Times(Tensor, long)"/>
    public static Tensor Times(this Tensor t, double factor) { using var s = factor.ToScalar(); return t.mul(s); }

    /// <summary><c>t / divisor</c>.</summary>
    public static Tensor Over(this Tensor t, long divisor) { using var s = divisor.ToScalar(); return t.div(s); }

    /// <inheritdoc cref="Over(Tensor, long)"/>
    public static Tensor Over(this Tensor t, double divisor) { using var s = divisor.ToScalar(); return t.div(s); }

    /// <summary><c>value / t</c>, as TorchSharp computes it: value · (1 / t).</summary>
    public static Tensor DividedInto(this Tensor t, long value) { using var s = value.ToScalar(); using var reciprocal = t.reciprocal(); return reciprocal.mul(s); }

    /// <summary><c>t ^ exponent</c>.</summary>
    public static Tensor Power(this Tensor t, double exponent) { using var s = exponent.ToScalar(); return t.pow(s); }

    /// <summary><c>t²</c>, as TorchSharp's <c>square()</c> computes it (t ^ 2).</summary>
    public static Tensor Squared(this Tensor t) { using var s = 2.ToScalar(); return t.pow(s); }

    /// <summary>log(1 + e^t) with PyTorch's defaults (β 1; t itself above 20), as <c>F.softplus(t)</c>.</summary>
    public static Tensor Softplus(this Tensor t) => SoftplusOf(t, SoftplusBeta, SoftplusThreshold);
    private static readonly Scalar SoftplusBeta = 1.0.ToScalar(), SoftplusThreshold = 20.0.ToScalar();

    /// <summary>
    /// TorchSharp's softplus taking Scalars is private (the public one converts its two numbers and lets them go), so it
    /// is reached once by reflection; the same libtorch call, with the two Scalars held above.
    /// </summary>
    private static readonly Func<Tensor, Scalar, Scalar, Tensor> SoftplusOf =
        typeof(Tensor).GetMethod("softplus1", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance, [typeof(Scalar), typeof(Scalar)])
            ?.CreateDelegate<Func<Tensor, Scalar, Scalar, Tensor>>()
        ?? throw new InvalidOperationException("this TorchSharp has no Tensor.softplus1(Scalar, Scalar); HeldScalars.Softplus needs another way to hold its scalars");

    /// <summary><c>min(max(t, minimum), maximum)</c>.</summary>
    public static Tensor Clamp(this Tensor t, double minimum, double maximum)
    {
        using Scalar low = minimum.ToScalar(), high = maximum.ToScalar();
        return t.clamp(low, high);
    }

    /// <summary><c>max(t, minimum)</c>.</summary>
    public static Tensor AtLeast(this Tensor t, long minimum) { using var s = minimum.ToScalar(); return t.clamp_min(s); }

    /// <inheritdoc cref="AtLeast(Tensor, long)"/>
    public static Tensor AtLeast(this Tensor t, double minimum) { using var s = minimum.ToScalar(); return t.clamp_min(s); }

    /// <summary>t with <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public static Tensor Fill(this Tensor t, Tensor mask, long value) { using var s = value.ToScalar(); return t.masked_fill(mask, s); }

    /// <inheritdoc cref="Fill(Tensor, Tensor, long)"/>
    public static Tensor Fill(this Tensor t, Tensor mask, double value) { using var s = value.ToScalar(); return t.masked_fill(mask, s); }

    /// <summary>Writes <paramref name="value"/> at <paramref name="index"/> along <paramref name="dim"/>, in place.</summary>
    public static Tensor IndexFill_(this Tensor t, long dim, Tensor index, double value) { using var s = value.ToScalar(); return t.index_fill_(dim, index, s); }

    /// <summary><c>t == value</c>, element-wise.</summary>
    public static Tensor EqualTo(this Tensor t, long value) { using var s = value.ToScalar(); return t.eq(s); }

    /// <summary><c>t &gt;= value</c>, element-wise.</summary>
    public static Tensor GreaterOrEqual(this Tensor t, long value) { using var s = value.ToScalar(); return t.ge(s); }

    /// <summary><c>t &gt; value</c>, element-wise.</summary>
    public static Tensor Above(this Tensor t, long value) { using var s = value.ToScalar(); return t.gt(s); }

    /// <summary><c>t &lt; value</c>, element-wise.</summary>
    public static Tensor Below(this Tensor t, double value) { using var s = value.ToScalar(); return t.lt(s); }

    /// <summary><paramref name="value"/> where <paramref name="condition"/> is true, else <paramref name="otherwise"/>.</summary>
    public static Tensor Where(Tensor condition, long value, Tensor otherwise) { using var v = tensor(value); return where(condition, v, otherwise); }

    /// <summary>0, 1, .., stop - 1.</summary>
    public static Tensor Arange(long stop, ScalarType dtype, Device? device = null) => Arange(0, stop, dtype, device);

    /// <summary>start, start + 1, .., stop - 1.</summary>
    public static Tensor Arange(long start, long stop, ScalarType dtype, Device? device = null)
    {
        using Scalar first = start.ToScalar(), end = stop.ToScalar();
        return arange(first, end, One, dtype, device);
    }

    /// <summary>A (rows, columns) tensor of <paramref name="value"/>.</summary>
    public static Tensor Full(long rows, long columns, long value, ScalarType dtype, Device? device = null)
    {
        using var s = value.ToScalar();
        return full([rows, columns], s, dtype, device);
    }
}
