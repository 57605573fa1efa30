using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Foresight.Models;

/// <summary>What Foresight's own CPU kernels (<see cref="SelectiveScanKernel"/>, <see cref="CausalConvolutionKernel"/>) share.</summary>
internal static class CpuVectors
{
    /// <summary>Floats in one of the kernels' vectors (512 bits).</summary>
    public static readonly int Lanes = Vector512<float>.Count;

    /// <summary>
    /// Whether the kernels can run here: on a processor with 256-bit vectors at least (AVX2). Without AVX-512 the
    /// 512-bit vectors run as two 256-bit halves at about the 256-bit speed; with neither (ARM64 included) they run
    /// in software, far slower than libtorch's operations, which the callers use instead.
    /// </summary>
    public static bool Available => Vector256.IsHardwareAccelerated;

    /// <summary>Whether a kernel can run on these tensors: fp32, on the CPU, and <see cref="Available"/>.</summary>
    public static bool Takes(params Tensor[] tensors) =>
        Available && tensors.All(x => x.dtype == ScalarType.Float32 && x.device_type == DeviceType.CPU);

    /// <summary>The error for tensors a kernel does not take.</summary>
    public static ArgumentException Refused(string kernel, Tensor[] tensors) =>
        new($"{kernel} takes fp32 CPU tensors on a processor with 256-bit vectors, got {string.Join(", ", tensors.Select(x => $"{x.dtype} on {x.device_type}"))}");

    /// <summary>
    /// <paramref name="body"/> for each example on the thread pool, each worker with the workspace <paramref name="workspace"/>
    /// gives it; then, where given, <paramref name="merge"/> once per worker, one worker at a time (its share of a gradient
    /// summed over examples into the total).
    /// </summary>
    public static void PerExample<TWork>(int batch, Func<TWork> workspace, Action<int, TWork> body, Action<TWork>? merge = null)
    {
        var gate = new object();
        Parallel.For(0, batch, workspace, (example, _, work) =>
        {
            body(example, work);
            return work;
        }, work =>
        {
            if (merge is null) return;
            lock (gate) merge(work);
        });
    }

    /// <summary><paramref name="width"/> rounded up to whole vectors.</summary>
    public static int Padded(int width) => (width + Lanes - 1) / Lanes * Lanes;

    /// <summary>The tensor's own memory (it must be contiguous): the kernels read and write it in place.</summary>
    public static Span<float> Floats(Tensor x) => MemoryMarshal.Cast<byte, float>(x.bytes);

    public static string Show(Tensor x) => $"({string.Join(", ", x.shape)})";

    /// <summary>
    /// <paramref name="rows"/> rows of <paramref name="width"/> floats into rows of <paramref name="padded"/> floats from
    /// row <paramref name="firstRow"/>; what is beyond the width (the padding) is left as it is.
    /// </summary>
    public static void Gather(ReadOnlySpan<float> from, int rows, int width, float[] to, int padded, int firstRow = 0)
    {
        for (int r = 0; r < rows; r++) from.Slice(r * width, width).CopyTo(to.AsSpan((firstRow + r) * padded, width));
    }

    /// <summary>The first <paramref name="rows"/> padded rows back into rows of <paramref name="width"/> floats.</summary>
    public static void Scatter(float[] from, int rows, int width, int padded, Span<float> to)
    {
        for (int r = 0; r < rows; r++) from.AsSpan(r * padded, width).CopyTo(to.Slice(r * width, width));
    }

    public static Vector512<float> Load(float[] x, int k) => Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(x), (nuint)k);

    public static Vector512<float> Load(ref float x, int k) => Vector512.LoadUnsafe(ref x, (nuint)k);

    public static void Store(Vector512<float> v, float[] x, int k) => v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(x), (nuint)k);

    /// <summary>
    /// e^x in fp32 to about an ulp for x in [-87, 88] (clamped there): x = k ln 2 + r with |r| ≤ ln 2 / 2, e^r from Cephes'
    /// expf polynomial and 2^k built in the exponent bits. Vector512.Exp computes in doubles and took most of the scan's time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-87.3f)), Vector512.Create(88.0f));
        var k = Vector512.Round(x * 1.44269504088896341f); // x / ln 2
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-0.693359375f), x); // ln 2 in two parts, the first exact in fp32
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One); // 1 + r + r² P(r)
        var twoToK = Vector512.ShiftLeft(Vector512.ConvertToInt32(k) + Vector512.Create(127), 23).AsSingle();
        return p * twoToK;
    }

    /// <summary>The logistic sigmoid 1 / (1 + e^-x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Exp(-x));
}
