using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Foresight.Models;

/// <summary>
/// The selective scan h(t) = exp(Δ(t) A) h(t - 1) + Δ(t) u(t) B(t), y(t) = C(t) · h(t) as one fused CPU
/// kernel with a hand-written backward, the CPU counterpart of the reference's CUDA kernel. Written with
/// libtorch operations, every position costs about six (B, E, N) passes through memory forward and twelve
/// backward, and the scan ran the Mamba at a tenth of the GPT's speed. Here each example's state (E x N
/// floats) stays in cache for the whole sequence. The backward recomputes the states instead of storing them.
/// <see cref="Mamba.SelectiveScanReference"/> is the same scan in libtorch operations; the tests hold the two
/// (values and gradients) together.
/// Shapes: u, Δ (B, T, E); A (E, N); B, C (B, T, N); y (B, T, E). fp32, on the CPU.
/// </summary>
internal sealed class SelectiveScanKernel : autograd.SingleTensorFunction<SelectiveScanKernel>
{
    public override string Name => nameof(SelectiveScanKernel);

    public static Tensor Apply(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) => apply(u, delta, a, b, c);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (u, delta, a, b, c) = Contiguous(vars);
        ctx.save_for_backward([u, delta, a, b, c]);
        var y = empty_like(u);
        var shape = new Shape(u, a);
        Parallel.For(0, shape.Batch, example => Forward(shape, example, Floats(u), Floats(delta), Floats(a), Floats(b), Floats(c), Floats(y)));
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
    {
        var saved = ctx.get_saved_variables();
        var (u, delta, a, b, c) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
        var gy = gradient.contiguous();
        var shape = new Shape(u, a);
        Tensor gu = empty_like(u), gDelta = empty_like(delta), gA = zeros_like(a), gB = zeros_like(b), gC = zeros_like(c);
        var gate = new object();
        Parallel.For(0, shape.Batch,
            () => new Workspace(shape),
            (example, _, work) =>
            {
                Backward(shape, example, Floats(u), Floats(delta), Floats(a), Floats(b), Floats(c), Floats(gy),
                    Floats(gu), Floats(gDelta), work, Floats(gB), Floats(gC));
                return work;
            },
            work =>
            {
                lock (gate)
                {
                    var total = Floats(gA);
                    for (int i = 0; i < total.Length; i++) total[i] += work.GA[i];
                }
            });
        return [gu, gDelta, gA, gB, gC];
    }

    private readonly record struct Shape(int Batch, int Length, int Inner, int State)
    {
        public Shape(Tensor u, Tensor a) : this((int)u.shape[0], (int)u.shape[1], (int)u.shape[2], (int)a.shape[1]) { }
    }

    /// <summary>Whether the kernel can run on these tensors: fp32, on the CPU.</summary>
    public static bool Takes(params Tensor[] tensors) => tensors.All(x => x.dtype == ScalarType.Float32 && x.device_type == DeviceType.CPU);

    private static (Tensor U, Tensor Delta, Tensor A, Tensor B, Tensor C) Contiguous(object[] vars)
    {
        var t = vars.Select(v => (Tensor)v).ToArray();
        if (!Takes(t))
            throw new ArgumentException($"the fused selective scan takes fp32 CPU tensors, got {string.Join(", ", t.Select(x => $"{x.dtype} on {x.device_type}"))}");
        // The kernel indexes memory without bounds checks, so the shapes must agree exactly.
        bool agree = t[0].dim() == 3 && t[2].dim() == 2 && t[2].shape[0] == t[0].shape[2] && t[1].shape.SequenceEqual(t[0].shape);
        long[] bc = agree ? [t[0].shape[0], t[0].shape[1], t[2].shape[1]] : [];
        if (!agree || !t[3].shape.SequenceEqual(bc) || !t[4].shape.SequenceEqual(bc))
            throw new ArgumentException($"selective scan shapes disagree: u {Show(t[0])}, delta {Show(t[1])}, A {Show(t[2])}, B {Show(t[3])}, C {Show(t[4])}");
        return (t[0].contiguous(), t[1].contiguous(), t[2].contiguous(), t[3].contiguous(), t[4].contiguous());
    }

    private static string Show(Tensor x) => $"({string.Join(", ", x.shape)})";

    /// <summary>The tensor's own memory (it must be contiguous): the kernel reads and writes it in place.</summary>
    private static Span<float> Floats(Tensor x) => MemoryMarshal.Cast<byte, float>(x.bytes);

    /// <summary>One example: the state h (E x N) is carried over positions; positions outer, channels inner, so u and Δ are read in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first tier: every call is hot
    private static void Forward(Shape s, int example, Span<float> u, Span<float> delta, Span<float> a, Span<float> b, Span<float> c, Span<float> y)
    {
        var h = new float[s.Inner * s.State];
        ref float h0 = ref MemoryMarshal.GetArrayDataReference(h), a0 = ref MemoryMarshal.GetReference(a);
        for (int t = 0; t < s.Length; t++)
        {
            int row = example * s.Length + t;
            ref float bt = ref b[row * s.State], ct = ref c[row * s.State];
            for (int e = 0; e < s.Inner; e++)
            {
                int i = row * s.Inner + e, at = e * s.State;
                y[i] = Step(ref Unsafe.Add(ref h0, at), ref Unsafe.Add(ref a0, at), ref bt, ref ct, s.State, delta[i], delta[i] * u[i]);
            }
        }
    }

    /// <summary>h ← exp(Δ A) ⊙ h + Δu B over the n state entries from each reference; returns C · h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first tier: every call is hot
    private static float Step(ref float h, ref float a, ref float b, ref float c, int n, float dt, float du)
    {
        int k = 0;
        var sum = Vector256<float>.Zero;
        for (; k <= n - Vector256<float>.Count; k += Vector256<float>.Count)
        {
            var state = Vector256.Exp(Load(ref a, k) * dt) * Load(ref h, k) + Load(ref b, k) * du;
            state.StoreUnsafe(ref h, (nuint)k);
            sum += state * Load(ref c, k);
        }
        float y = Vector256.Sum(sum);
        for (; k < n; k++)
        {
            ref float hk = ref Unsafe.Add(ref h, k);
            hk = MathF.Exp(Unsafe.Add(ref a, k) * dt) * hk + Unsafe.Add(ref b, k) * du;
            y += Unsafe.Add(ref c, k) * hk;
        }
        return y;
    }

    private static Vector256<float> Load(ref float x, int k) => Vector256.LoadUnsafe(ref x, (nuint)k);

    /// <summary>
    /// One example's gradients. The states are first recomputed (T x E x N floats), then the scan runs back:
    /// with g = dL/dh(t) (this position's output plus what flows back from t + 1),
    /// dC = Σ_e gy h, dB = Σ_e g Δu, du = Δ (g · B), dΔ = u (g · B) + Σ_n g h(t-1) exp(ΔA) A,
    /// dA += g h(t-1) exp(ΔA) Δ, and g(t-1) = g exp(ΔA).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first tier: every call is hot
    private static void Backward(Shape s, int example, Span<float> u, Span<float> delta, Span<float> a, Span<float> b, Span<float> c,
        Span<float> gy, Span<float> gu, Span<float> gDelta, Workspace work, Span<float> gB, Span<float> gC)
    {
        int stateSize = s.Inner * s.State;
        var states = work.States; // states[t + 1] = h(t); states[0] = h(-1) = 0
        Array.Clear(states, 0, stateSize);
        ref float states0 = ref MemoryMarshal.GetArrayDataReference(states), g0 = ref MemoryMarshal.GetArrayDataReference(work.StateGradient),
            gA0 = ref MemoryMarshal.GetArrayDataReference(work.GA), a0 = ref MemoryMarshal.GetReference(a);
        for (int t = 0; t < s.Length; t++)
        {
            int row = example * s.Length + t;
            states.AsSpan(t * stateSize, stateSize).CopyTo(states.AsSpan((t + 1) * stateSize, stateSize));
            ref float bt = ref b[row * s.State], ct = ref c[row * s.State];
            for (int e = 0; e < s.Inner; e++)
            {
                int i = row * s.Inner + e, at = e * s.State;
                Step(ref Unsafe.Add(ref states0, (t + 1) * stateSize + at), ref Unsafe.Add(ref a0, at), ref bt, ref ct, s.State, delta[i], delta[i] * u[i]);
            }
        }

        Array.Clear(work.StateGradient);
        for (int t = s.Length - 1; t >= 0; t--)
        {
            int row = example * s.Length + t;
            ref float bt = ref b[row * s.State], ct = ref c[row * s.State], gBt = ref gB[row * s.State], gCt = ref gC[row * s.State];
            for (int e = 0; e < s.Inner; e++)
            {
                int i = row * s.Inner + e, at = e * s.State;
                var (gBu, gDecay) = BackStep(ref Unsafe.Add(ref g0, at), ref Unsafe.Add(ref states0, (t + 1) * stateSize + at),
                    ref Unsafe.Add(ref states0, t * stateSize + at), ref Unsafe.Add(ref a0, at), ref bt, ref ct,
                    ref Unsafe.Add(ref gA0, at), ref gBt, ref gCt, s.State, delta[i], u[i], gy[i]);
                gu[i] = delta[i] * gBu;
                gDelta[i] = u[i] * gBu + gDecay;
            }
        }
    }

    /// <summary>
    /// One channel at one position, back: updates g (to dL/dh(t-1)), dA, dB(t), dC(t);
    /// returns g · B and Σ_n g h(t-1) exp(ΔA) A.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first tier: every call is hot
    private static (float GB, float GDecay) BackStep(ref float g, ref float h, ref float previous, ref float a, ref float b, ref float c,
        ref float gA, ref float gB, ref float gC, int n, float dt, float x, float gy)
    {
        int k = 0;
        Vector256<float> gBSum = Vector256<float>.Zero, gDecaySum = Vector256<float>.Zero;
        for (; k <= n - Vector256<float>.Count; k += Vector256<float>.Count)
        {
            var ak = Load(ref a, k);
            var gk = Load(ref g, k) + Load(ref c, k) * gy;
            (Load(ref gC, k) + Load(ref h, k) * gy).StoreUnsafe(ref gC, (nuint)k);
            (Load(ref gB, k) + gk * (dt * x)).StoreUnsafe(ref gB, (nuint)k);
            gBSum += gk * Load(ref b, k);
            var decay = Vector256.Exp(ak * dt);
            var throughDecay = gk * Load(ref previous, k) * decay;
            gDecaySum += throughDecay * ak;
            (Load(ref gA, k) + throughDecay * dt).StoreUnsafe(ref gA, (nuint)k);
            (gk * decay).StoreUnsafe(ref g, (nuint)k);
        }
        float gBTotal = Vector256.Sum(gBSum), gDecayTotal = Vector256.Sum(gDecaySum);
        for (; k < n; k++)
        {
            float ak = Unsafe.Add(ref a, k), gk = Unsafe.Add(ref g, k) + gy * Unsafe.Add(ref c, k), decay = MathF.Exp(dt * ak),
                throughDecay = gk * Unsafe.Add(ref previous, k) * decay;
            Unsafe.Add(ref gC, k) += gy * Unsafe.Add(ref h, k);
            Unsafe.Add(ref gB, k) += gk * dt * x;
            gBTotal += gk * Unsafe.Add(ref b, k);
            gDecayTotal += throughDecay * ak;
            Unsafe.Add(ref gA, k) += throughDecay * dt;
            Unsafe.Add(ref g, k) = gk * decay;
        }
        return (gBTotal, gDecayTotal);
    }

    /// <summary>A worker's buffers: its share of dL/dA (summed over its examples), the recomputed states and dL/dh.</summary>
    private sealed class Workspace(Shape s)
    {
        public float[] GA { get; } = new float[s.Inner * s.State];
        public float[] States { get; } = new float[(s.Length + 1) * s.Inner * s.State];
        public float[] StateGradient { get; } = new float[s.Inner * s.State];
    }
}
