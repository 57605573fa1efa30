using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;
using static Foresight.Models.CpuVectors;

namespace Foresight.Models;

/// <summary>
/// The selective scan h(t) = exp(Δ(t) A) h(t - 1) + Δ(t) u(t) B(t), y(t) = C(t) · h(t) as one fused CPU
/// kernel with a hand-written backward, the CPU counterpart of the reference's CUDA kernel. Written with
/// libtorch operations, every position costs about six (B, E, N) passes through memory forward and twelve
/// backward, and the scan ran the Mamba at a tenth of the GPT's speed. Here the work goes one block of channels
/// (one 512-bit vector's worth) at a time, the block's state laid out (N, lanes) so that the vectors run across
/// channels: the sums over the state (y, dΔ, du) build up lane by lane with no horizontal sum, and only dB and dC,
/// sums over channels, are reduced, once per position at the end. A block's state stays in the first-level cache
/// for the whole sequence; the backward recomputes the block's T + 1 states and decays exp(ΔA) (70 KB at N = 16, T = 34)
/// instead of storing them across the whole batch. Channels are padded to whole vectors with Δ = u = 0, which
/// leaves the padding's state at zero. On the 2-core development machine (AVX-512) this layout, its own exp and
/// workspaces reused across calls took one 4 x 128 layer's scan from about 28 ms forward and 70-120 ms backward
/// (the state laid out (E, N), vectors across the state, all channels at once) to about 9 and 19.
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
        var aBlocks = Blocked(shape, Floats(a));
        PerExample(shape.Batch, () => Workspace.Rent(shape, backward: false),
            (example, work) => Forward(shape, example, aBlocks, Floats(u), Floats(delta), Floats(b), Floats(c), Floats(y), work));
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
    {
        var saved = ctx.get_saved_variables();
        var (u, delta, a, b, c) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
        var gy = gradient.contiguous();
        var shape = new Shape(u, a);
        var aBlocks = Blocked(shape, Floats(a));
        Tensor gu = empty_like(u), gDelta = empty_like(delta), gA = zeros_like(a), gB = empty_like(b), gC = empty_like(c);
        PerExample(shape.Batch, () => Workspace.Rent(shape, backward: true),
            (example, work) => Backward(shape, example, aBlocks, Floats(u), Floats(delta), Floats(b), Floats(c), Floats(gy), Floats(gu), Floats(gDelta),
                Floats(gB), Floats(gC), work),
            work =>
            {
                var total = Floats(gA); // (E, N); the worker's share is in blocks
                for (int e = 0; e < shape.Inner; e++)
                    for (int n = 0; n < shape.State; n++)
                        total[e * shape.State + n] += work.GA[shape.InBlocks(e, n)];
            });
        return [gu, gDelta, gA, gB, gC];
    }

    private readonly record struct Shape(int Batch, int Length, int Inner, int State)
    {
        public Shape(Tensor u, Tensor a) : this((int)u.shape[0], (int)u.shape[1], (int)u.shape[2], (int)a.shape[1]) { }

        /// <summary>E rounded up to whole vectors.</summary>
        public int Padded => CpuVectors.Padded(Inner);

        /// <summary>Floats in one block's state, (N, lanes): the state of one vector of channels.</summary>
        public int Block => State * Lanes;

        /// <summary>Floats in one position's state, all channels, in blocks: (padded E / lanes, N, lanes).</summary>
        public int StateSize => State * Padded;

        /// <summary>Where channel e, state n is in a position's state laid out in blocks.</summary>
        public int InBlocks(int e, int n) => (e - e % Lanes) * State + n * Lanes + e % Lanes;
    }

    private static (Tensor U, Tensor Delta, Tensor A, Tensor B, Tensor C) Contiguous(object[] vars)
    {
        var t = vars.Select(v => (Tensor)v).ToArray();
        if (!Takes(t)) throw Refused("the fused selective scan", t);
        // The kernel indexes memory without bounds checks, so the shapes must agree exactly.
        bool agree = t[0].dim() == 3 && t[2].dim() == 2 && t[2].shape[0] == t[0].shape[2] && t[1].shape.SequenceEqual(t[0].shape);
        long[] bc = agree ? [t[0].shape[0], t[0].shape[1], t[2].shape[1]] : [];
        if (!agree || !t[3].shape.SequenceEqual(bc) || !t[4].shape.SequenceEqual(bc))
            throw new ArgumentException($"selective scan shapes disagree: u {Show(t[0])}, delta {Show(t[1])}, A {Show(t[2])}, B {Show(t[3])}, C {Show(t[4])}");
        return (t[0].contiguous(), t[1].contiguous(), t[2].contiguous(), t[3].contiguous(), t[4].contiguous());
    }

    /// <summary>A (E, N) laid out in blocks like the state, zero in the padding.</summary>
    private static float[] Blocked(Shape s, Span<float> a)
    {
        var blocks = new float[s.StateSize];
        for (int e = 0; e < s.Inner; e++)
            for (int n = 0; n < s.State; n++)
                blocks[s.InBlocks(e, n)] = a[e * s.State + n];
        return blocks;
    }

    /// <summary>One example's (T, E) rows into (T, padded E) rows; the padding stays zero.</summary>
    private static void Gather(Shape s, int example, Span<float> from, float[] to) =>
        CpuVectors.Gather(from.Slice(example * s.Length * s.Inner, s.Length * s.Inner), s.Length, s.Inner, to, s.Padded);

    private static void Scatter(Shape s, int example, float[] from, Span<float> to) =>
        CpuVectors.Scatter(from, s.Length, s.Inner, s.Padded, to.Slice(example * s.Length * s.Inner, s.Length * s.Inner));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first tier: every call is hot
    private static void Forward(Shape s, int example, float[] aBlocks, Span<float> u, Span<float> delta, Span<float> b, Span<float> c, Span<float> y, Workspace work)
    {
        Gather(s, example, u, work.U);
        Gather(s, example, delta, work.Delta);
        ref float state = ref MemoryMarshal.GetArrayDataReference(work.States), decays = ref MemoryMarshal.GetArrayDataReference(work.Decays),
            y0 = ref MemoryMarshal.GetArrayDataReference(work.Y);
        for (int e = 0; e < s.Padded; e += Lanes)
        {
            Array.Clear(work.States);
            for (int t = 0; t < s.Length; t++)
            {
                int row = example * s.Length + t;
                Advance(s, t, e, ref aBlocks[e * s.State], ref b[row * s.State], ref c[row * s.State], work, ref state, ref state, ref decays)
                    .StoreUnsafe(ref y0, (nuint)(t * s.Padded + e));
            }
        }
        Scatter(s, example, work.Y, y);
    }

    /// <summary>
    /// Position t, the block of channels from e: h ← exp(Δ A) ⊙ h + Δu B from the block's state at
    /// <paramref name="previous"/> into <paramref name="next"/> (the same in the forward), the decays exp(Δ A) to
    /// <paramref name="decays"/>; returns y(t) = C · h.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Advance(Shape s, int t, int e, ref float a, ref float b, ref float c, Workspace work,
        ref float previous, ref float next, ref float decays)
    {
        var dt = Load(work.Delta, t * s.Padded + e);
        var du = dt * Load(work.U, t * s.Padded + e);
        var y = Vector512<float>.Zero;
        for (int n = 0, at = 0; n < s.State; n++, at += Lanes)
        {
            var decay = Exp(dt * Load(ref a, at));
            var h = decay * Load(ref previous, at) + du * Unsafe.Add(ref b, n);
            h.StoreUnsafe(ref next, (nuint)at);
            decay.StoreUnsafe(ref decays, (nuint)at);
            y += h * Unsafe.Add(ref c, n);
        }
        return y;
    }

    /// <summary>
    /// One example's gradients, one block of channels after another so that the block's recomputed states (T + 1 of them)
    /// and decays stay in cache. With g = dL/dh(t) (this position's output plus what flows back from t + 1), the scan runs back:
    /// dC = Σ_e gy h, dB = Σ_e g Δu, du = Δ (g · B), dΔ = u (g · B) + Σ_n g h(t-1) exp(ΔA) A,
    /// dA += g h(t-1) exp(ΔA) Δ, and g(t-1) = g exp(ΔA).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Backward(Shape s, int example, float[] aBlocks, Span<float> u, Span<float> delta, Span<float> b, Span<float> c, Span<float> gy,
        Span<float> gu, Span<float> gDelta, Span<float> gB, Span<float> gC, Workspace work)
    {
        Gather(s, example, u, work.U);
        Gather(s, example, delta, work.Delta);
        Gather(s, example, gy, work.Y);
        Array.Clear(work.GB);
        Array.Clear(work.GC);
        ref float states = ref MemoryMarshal.GetArrayDataReference(work.States), decays = ref MemoryMarshal.GetArrayDataReference(work.Decays);
        for (int e = 0; e < s.Padded; e += Lanes)
        {
            Array.Clear(work.States, 0, s.Block); // states[t + 1] = h(t); states[0] = h(-1) = 0
            for (int t = 0; t < s.Length; t++)
            {
                int row = example * s.Length + t;
                Advance(s, t, e, ref aBlocks[e * s.State], ref b[row * s.State], ref c[row * s.State], work,
                    ref Unsafe.Add(ref states, t * s.Block), ref Unsafe.Add(ref states, (t + 1) * s.Block), ref Unsafe.Add(ref decays, t * s.Block));
            }
            Array.Clear(work.StateGradient);
            for (int t = s.Length - 1; t >= 0; t--)
            {
                int row = example * s.Length + t;
                BackStep(s, t, e, ref aBlocks[e * s.State], ref b[row * s.State], ref c[row * s.State], work);
            }
        }
        for (int t = 0; t < s.Length; t++)
        {
            int row = example * s.Length + t;
            Sums(work.GB, t * s.Block, s.State, gB.Slice(row * s.State, s.State));
            Sums(work.GC, t * s.Block, s.State, gC.Slice(row * s.State, s.State));
        }
        Scatter(s, example, work.GU, gu);
        Scatter(s, example, work.GDelta, gDelta);
    }

    /// <summary>
    /// Position t back, the block of channels from e: updates the block's g (to dL/dh(t-1)) and dA; writes du(t), dΔ(t),
    /// and adds to dB(t), dC(t) lane by lane (each lane's partial sum over its channels).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackStep(Shape s, int t, int e, ref float a, ref float b, ref float c, Workspace work)
    {
        ref float g0 = ref MemoryMarshal.GetArrayDataReference(work.StateGradient),
            gA0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(work.GA), e * s.State), // dA's block sits where A's does
            gB0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(work.GB), t * s.Block),
            gC0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(work.GC), t * s.Block),
            h0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(work.States), (t + 1) * s.Block),
            previous0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(work.States), t * s.Block),
            decay0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(work.Decays), t * s.Block);
        int i = t * s.Padded + e;
        Vector512<float> dt = Load(work.Delta, i), x = Load(work.U, i), gy = Load(work.Y, i), dtx = dt * x,
            gBu = Vector512<float>.Zero, gDecay = Vector512<float>.Zero;
        for (int n = 0, at = 0; n < s.State; n++, at += Lanes)
        {
            var gk = Load(ref g0, at) + gy * Unsafe.Add(ref c, n);
            (Load(ref gC0, at) + Load(ref h0, at) * gy).StoreUnsafe(ref gC0, (nuint)at);
            (Load(ref gB0, at) + gk * dtx).StoreUnsafe(ref gB0, (nuint)at);
            gBu += gk * Unsafe.Add(ref b, n);
            var decay = Load(ref decay0, at);
            var throughDecay = gk * Load(ref previous0, at) * decay;
            gDecay += throughDecay * Load(ref a, at);
            (Load(ref gA0, at) + throughDecay * dt).StoreUnsafe(ref gA0, (nuint)at);
            (gk * decay).StoreUnsafe(ref g0, (nuint)at);
        }
        (dt * gBu).StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(work.GU), (nuint)i);
        (x * gBu + gDecay).StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(work.GDelta), (nuint)i);
    }

    /// <summary>Each of the n lane vectors from <paramref name="from"/> summed to one float.</summary>
    private static void Sums(float[] lanes, int from, int n, Span<float> to)
    {
        for (int k = 0; k < n; k++) to[k] = Vector512.Sum(Load(lanes, from + k * Lanes));
    }

    /// <summary>
    /// A worker's buffers, all with channels padded to whole vectors: the example's u, Δ and y (dL/dy in the backward)
    /// rows; a block's states (one, carried, in the forward; T + 1 in the backward) and decays; and in the backward the
    /// block's dL/dh, the worker's share of dL/dA (summed over its examples, in blocks), du and dΔ rows, and per position
    /// the per-lane sums for dB and dC.
    /// </summary>
    private sealed class Workspace(Shape s, bool backward)
    {
        [ThreadStatic] private static Workspace? _forward, _backward;

        /// <summary>
        /// This thread's workspace for the shape, reused from its last call when the shape is the same: allocating the
        /// backward's buffers anew for every layer and step cost page faults. Only dL/dA carries over between uses.
        /// </summary>
        public static Workspace Rent(Shape s, bool backward)
        {
            ref var kept = ref backward ? ref _backward : ref _forward;
            if (kept is null || kept.Shape != s) kept = new Workspace(s, backward);
            Array.Clear(kept.GA);
            return kept;
        }

        private Shape Shape { get; } = s;
        public float[] U { get; } = new float[s.Length * s.Padded];
        public float[] Delta { get; } = new float[s.Length * s.Padded];
        public float[] Y { get; } = new float[s.Length * s.Padded];
        public float[] States { get; } = new float[(backward ? s.Length + 1 : 1) * s.Block];
        public float[] Decays { get; } = new float[(backward ? s.Length : 1) * s.Block];
        public float[] StateGradient { get; } = backward ? new float[s.Block] : [];
        public float[] GA { get; } = backward ? new float[s.StateSize] : [];
        public float[] GU { get; } = backward ? new float[s.Length * s.Padded] : [];
        public float[] GDelta { get; } = backward ? new float[s.Length * s.Padded] : [];
        public float[] GB { get; } = backward ? new float[s.Length * s.Block] : [];
        public float[] GC { get; } = backward ? new float[s.Length * s.Block] : [];
    }
}
