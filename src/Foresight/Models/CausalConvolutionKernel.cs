using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;
using static Foresight.Models.CpuVectors;

namespace Foresight.Models;

/// <summary>
/// The Mamba's depthwise causal convolution and the SiLU after it, u(t) = SiLU(bias + Σ_k w[k] ⊙ x(t - K + 1 + k)),
/// as one CPU kernel with a hand-written backward. In libtorch operations (K shifted multiply-adds, a SiLU) the
/// backward took 9-12 ms a layer at 4 x 128, autograd filling a full-size zero gradient for each shifted view; here
/// it takes 5.5-6.5: an example's rows stay in cache, its K - 1 leading zero rows are the causal padding, and the
/// pre-activation is recomputed in the backward instead of stored.
/// Shapes: x (B, T, E); weight (E, 1, K), a depthwise Conv1d's; bias (E); u (B, T, E). fp32, on the CPU.
/// </summary>
internal sealed class CausalConvolutionKernel : autograd.SingleTensorFunction<CausalConvolutionKernel>
{
    public override string Name => nameof(CausalConvolutionKernel);

    public static Tensor Apply(Tensor x, Tensor weight, Tensor bias) => apply(x, weight, bias);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, weight, bias) = Contiguous(vars);
        ctx.save_for_backward([x, weight, bias]);
        var u = empty_like(x);
        var shape = new Shape(x, weight);
        var (w, b) = (Taps(shape, Floats(weight)), Biases(shape, Floats(bias)));
        PerExample(shape.Batch, () => Workspace.Rent(shape, backward: false), (example, work) => Forward(shape, example, w, b, Floats(x), Floats(u), work));
        return u;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
    {
        var saved = ctx.get_saved_variables();
        var (x, weight, bias) = (saved[0], saved[1], saved[2]);
        var gu = gradient.contiguous();
        var shape = new Shape(x, weight);
        var (w, b) = (Taps(shape, Floats(weight)), Biases(shape, Floats(bias)));
        Tensor gx = empty_like(x), gWeight = zeros_like(weight), gBias = zeros_like(bias);
        PerExample(shape.Batch, () => Workspace.Rent(shape, backward: true), (example, work) => Backward(shape, example, w, b, Floats(x), Floats(gu), Floats(gx), work),
            work =>
            {
                Span<float> totalWeight = Floats(gWeight), totalBias = Floats(gBias); // (E, 1, K), (E)
                for (int e = 0; e < shape.Inner; e++)
                {
                    totalBias[e] += work.GBias[e];
                    for (int k = 0; k < shape.Taps; k++) totalWeight[e * shape.Taps + k] += work.GWeight[k * shape.Padded + e];
                }
            });
        return [gx, gWeight, gBias];
    }

    private readonly record struct Shape(int Batch, int Length, int Inner, int Taps)
    {
        public Shape(Tensor x, Tensor weight) : this((int)x.shape[0], (int)x.shape[1], (int)x.shape[2], (int)weight.shape[2]) { }

        public int Padded => CpuVectors.Padded(Inner);

        /// <summary>Rows of an example's input with the causal padding: K - 1 zero rows, then T.</summary>
        public int Rows => Length + Taps - 1;
    }

    private static (Tensor X, Tensor Weight, Tensor Bias) Contiguous(object[] vars)
    {
        var t = vars.Select(v => (Tensor)v).ToArray();
        if (!Takes(t)) throw Refused("the fused causal convolution", t);
        // The kernel indexes memory without bounds checks, so the shapes must agree exactly.
        if (t[0].dim() != 3 || t[1].dim() != 3 || t[1].shape[0] != t[0].shape[2] || t[1].shape[1] != 1 || !t[2].shape.SequenceEqual([t[0].shape[2]]))
            throw new ArgumentException($"causal convolution shapes disagree: x {Show(t[0])}, weight {Show(t[1])}, bias {Show(t[2])}");
        return (t[0].contiguous(), t[1].contiguous(), t[2].contiguous());
    }

    /// <summary>The weight (E, 1, K) as (K, padded E), zero in the padding.</summary>
    private static float[] Taps(Shape s, Span<float> weight)
    {
        var taps = new float[s.Taps * s.Padded];
        for (int e = 0; e < s.Inner; e++)
            for (int k = 0; k < s.Taps; k++)
                taps[k * s.Padded + e] = weight[e * s.Taps + k];
        return taps;
    }

    private static float[] Biases(Shape s, Span<float> bias)
    {
        var padded = new float[s.Padded];
        bias.CopyTo(padded);
        return padded;
    }

    /// <summary>One example's x into its workspace after the K - 1 zero rows.</summary>
    private static void Gather(Shape s, int example, Span<float> x, Workspace work) =>
        CpuVectors.Gather(x.Slice(example * s.Length * s.Inner, s.Length * s.Inner), s.Length, s.Inner, work.X, s.Padded, firstRow: s.Taps - 1);

    /// <summary>The convolution before the SiLU at position t, channels from e: rows t to t + K - 1 of the padded input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PreActivation(Shape s, float[] w, float[] b, float[] x, int t, int e)
    {
        var sum = Load(b, e);
        for (int k = 0; k < s.Taps; k++) sum = Vector512.FusedMultiplyAdd(Load(w, k * s.Padded + e), Load(x, (t + k) * s.Padded + e), sum);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first tier: every call is hot
    private static void Forward(Shape s, int example, float[] w, float[] b, Span<float> x, Span<float> u, Workspace work)
    {
        Gather(s, example, x, work);
        for (int t = 0; t < s.Length; t++)
            for (int e = 0; e < s.Padded; e += Lanes)
            {
                var pre = PreActivation(s, w, b, work.X, t, e);
                Store(pre * Sigmoid(pre), work.Out, t * s.Padded + e);
            }
        Scatter(work.Out, s.Length, s.Inner, s.Padded, u.Slice(example * s.Length * s.Inner, s.Length * s.Inner));
    }

    /// <summary>
    /// One example's gradients: with p the pre-activation and σ the sigmoid, dp = du σ(p) (1 + p (1 - σ(p))); then
    /// dbias += dp, dw[k] += dp(t) x(t - K + 1 + k), and dx(t) = Σ_k w[k] dp(t + K - 1 - k).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Backward(Shape s, int example, float[] w, float[] b, Span<float> x, Span<float> gu, Span<float> gx, Workspace work)
    {
        Gather(s, example, x, work);
        CpuVectors.Gather(gu.Slice(example * s.Length * s.Inner, s.Length * s.Inner), s.Length, s.Inner, work.Out, s.Padded);
        for (int t = 0; t < s.Length; t++)
            for (int e = 0; e < s.Padded; e += Lanes)
            {
                var pre = PreActivation(s, w, b, work.X, t, e);
                var sigmoid = Sigmoid(pre);
                var gPre = Load(work.Out, t * s.Padded + e) * sigmoid * (Vector512<float>.One + pre * (Vector512<float>.One - sigmoid));
                Store(gPre, work.GPre, t * s.Padded + e);
                Store(Load(work.GBias, e) + gPre, work.GBias, e);
                for (int k = 0; k < s.Taps; k++)
                    Store(Vector512.FusedMultiplyAdd(gPre, Load(work.X, (t + k) * s.Padded + e), Load(work.GWeight, k * s.Padded + e)), work.GWeight, k * s.Padded + e);
            }
        for (int t = 0; t < s.Length; t++) // dp's rows T to T + K - 2 stay zero: no output there
            for (int e = 0; e < s.Padded; e += Lanes)
            {
                var sum = Vector512<float>.Zero;
                for (int k = 0; k < s.Taps; k++)
                    sum = Vector512.FusedMultiplyAdd(Load(w, k * s.Padded + e), Load(work.GPre, (t + s.Taps - 1 - k) * s.Padded + e), sum);
                Store(sum, work.Out, t * s.Padded + e);
            }
        Scatter(work.Out, s.Length, s.Inner, s.Padded, gx.Slice(example * s.Length * s.Inner, s.Length * s.Inner));
    }

    /// <summary>
    /// A worker's buffers, channels padded to whole vectors: the example's padded input rows; its output rows (du, then
    /// dx, in the backward); and in the backward dp with K - 1 zero rows after it, and the worker's shares of dw and dbias.
    /// </summary>
    private sealed class Workspace(Shape s, bool backward)
    {
        [ThreadStatic] private static Workspace? _forward, _backward;

        /// <summary>This thread's workspace for the shape, reused when the shape is the same; dw and dbias start at zero.</summary>
        public static Workspace Rent(Shape s, bool backward)
        {
            ref var kept = ref backward ? ref _backward : ref _forward;
            if (kept is null || kept.Shape != s) kept = new Workspace(s, backward);
            Array.Clear(kept.GWeight);
            Array.Clear(kept.GBias);
            return kept;
        }

        private Shape Shape { get; } = s;
        public float[] X { get; } = new float[s.Rows * s.Padded];
        public float[] Out { get; } = new float[s.Length * s.Padded];
        public float[] GPre { get; } = backward ? new float[s.Rows * s.Padded] : [];
        public float[] GWeight { get; } = backward ? new float[s.Taps * s.Padded] : [];
        public float[] GBias { get; } = backward ? new float[s.Padded] : [];
    }
}
