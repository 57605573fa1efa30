using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Models;

/// <summary>
/// Size of a Mamba: width C of the residual stream, inner width E of each block's selective scan,
/// state size N per inner channel, the rank R of the step-size projection and the causal convolution's width.
/// </summary>
public sealed record MambaConfig(int VocabularySize, int BlockSize, int Layers, int Width, int InnerWidth, int StateSize = 16, int ConvolutionWidth = 4,
    Precision Precision = Precision.Fp32)
{
    public int StepRank => (Width + 15) / 16; // ceil(C / 16), as in the reference

    /// <summary>Parameters of one block, counted from the shapes below (the parity test checks it against the module).</summary>
    public long BlockParameters =>
        2L * Width                                              // norm
        + (long)InnerWidth * (3 * Width                          // in_projection (C -> 2E) and out_projection (E -> C), no biases
                              + ConvolutionWidth + 1             // depthwise convolution and its bias
                              + StepRank + 2 * StateSize         // x_projection (E -> R + 2N)
                              + StepRank + 1                     // step_projection (R -> E) and its bias
                              + StateSize + 1);                  // A_log (E, N) and D (E)

    public long Parameters => (long)VocabularySize * Width + Layers * BlockParameters + 2L * Width;

    /// <summary>
    /// The Mamba whose parameter count is closest to <paramref name="gptParameters"/> at the same width and
    /// depth: the inner width is the one free size.
    /// </summary>
    public static MambaConfig Matching(int vocabularySize, int blockSize, int layers, int width, long gptParameters)
    {
        var unit = new MambaConfig(vocabularySize, blockSize, layers, width, InnerWidth: 1);
        var none = unit with { InnerWidth = 0 };
        long perInner = layers * (unit.BlockParameters - none.BlockParameters);
        int inner = (int)Math.Max(1, Math.Round((double)(gptParameters - none.Parameters) / perInner));
        return unit with { InnerWidth = inner };
    }
}

/// <summary>
/// A Mamba language model (Gu and Dao 2023): token embedding, pre-norm Mamba blocks on a residual stream,
/// a final LayerNorm and an output layer tied to the embedding. No position embedding: the scan is
/// causal and ordered by construction. Each block projects the input to x and a gate z, runs x through a
/// short depthwise causal convolution and the selective scan, whose step Δ and matrices B, C depend on
/// the input, gates the result with SiLU(z) and projects it back.
/// </summary>
public sealed class Mamba : Backbone
{
    private readonly Embedding token_embedding;
    private readonly ModuleList<MambaBlock> blocks;
    private readonly LayerNorm final_norm;

    public Mamba(MambaConfig config) : base(nameof(Mamba))
    {
        Config = config;
        token_embedding = Embedding(config.VocabularySize, config.Width);
        blocks = new ModuleList<MambaBlock>(Enumerable.Range(0, config.Layers).Select(_ => new MambaBlock(config)).ToArray());
        final_norm = LayerNorm(config.Width);
        RegisterComponents();
        using var _ = no_grad();
        init.normal_(token_embedding.weight!, 0, 0.02);
    }

    public MambaConfig Config { get; }
    public override int VocabularySize => Config.VocabularySize;
    public override int Width => Config.Width;
    public override int BlockSize => Config.BlockSize;

    public override IReadOnlyList<Tensor> LayerStates(Tensor tokens)
    {
        CheckLength(tokens);
        return Stack(token_embedding.forward(tokens), blocks, Config.Layers);
    }

    public override Tensor OutputWeight => token_embedding.weight!;

    public override Tensor Normalize(Tensor residual) => final_norm.forward(residual);

    /// <summary>
    /// The selective scan with zero-order-hold discretisation, one position after another:
    ///   h(t) = exp(Δ(t) A) h(t - 1) + Δ(t) B(t) u(t),   y(t) = C(t) · h(t) + D u(t).
    /// u, Δ: (B, T, E); A: (E, N), negative; B, C: (B, T, N); D: (E). Returns y: (B, T, E).
    /// (Δ B u is the simplified input discretisation of the reference implementation.)
    /// Runs as the fused <see cref="SelectiveScanKernel"/> on fp32 CPU tensors with AVX2 or better (<see cref="CpuVectors.Takes"/>), else as <see cref="SelectiveScanReference"/>.
    /// </summary>
    public static Tensor SelectiveScan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor d) =>
        CpuVectors.Takes(u, delta, a, b, c)
            ? SelectiveScanKernel.Apply(u, delta, a, b, c).Plus(u * d)
            : SelectiveScanReference(u, delta, a, b, c, d);

    /// <summary>The same scan in libtorch operations, position by position (autograd gives its backward).</summary>
    public static Tensor SelectiveScanReference(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor d)
    {
        // Per-position slices by unbind, not select: the backward of select on a (B, T, E, N) tensor would
        // allocate a zero tensor of that whole size for every position.
        Tensor[] us = u.unbind(1), deltas = delta.unbind(1), bs = b.unbind(1), cs = c.unbind(1); // (B, E), (B, E), (B, N), (B, N)
        var h = zeros(u.shape[0], u.shape[2], a.shape[1], dtype: u.dtype, device: u.device); // (B, E, N)
        var outputs = new Tensor[us.Length];
        for (int t = 0; t < us.Length; t++)
        {
            var step = deltas[t].unsqueeze(-1); // (B, E, 1)
            h = ((step * a).exp() * h).Plus((step * us[t].unsqueeze(-1)) * bs[t].unsqueeze(1)); // (B, E, N)
            outputs[t] = h.bmm(cs[t].unsqueeze(-1)).squeeze(-1); // (B, E)
        }
        return stack(outputs, 1).Plus(u * d); // (B, T, E)
    }

    /// <summary>One pre-norm Mamba block with its residual.</summary>
    internal sealed class MambaBlock : Module<Tensor, Tensor>
    {
        private readonly LayerNorm norm;
        private readonly Linear in_projection;
        private readonly Conv1d convolution;
        private readonly Linear x_projection;
        private readonly Linear step_projection;
        private readonly Parameter A_log;
        private readonly Parameter D;
        private readonly Linear out_projection;
        private readonly int _rank, _state;
        private readonly ScalarType _compute; // of the projections; the convolution and the scan stay fp32

        public MambaBlock(MambaConfig config) : base(nameof(MambaBlock))
        {
            int e = config.InnerWidth;
            (_rank, _state, _compute) = (config.StepRank, config.StateSize, config.Precision.ComputeType());
            norm = LayerNorm(config.Width);
            in_projection = Linear(config.Width, 2 * e, hasBias: false);
            convolution = Conv1d(e, e, config.ConvolutionWidth, padding: config.ConvolutionWidth - 1, groups: e);
            x_projection = Linear(e, _rank + 2 * _state, hasBias: false);
            step_projection = Linear(_rank, e);
            A_log = Parameter(log(HeldScalars.Arange(1, _state + 1, ScalarType.Float32)).repeat(e, 1)); // A = -(1..N) for every channel (S4D-real)
            D = Parameter(ones(e));
            out_projection = Linear(e, config.Width, hasBias: false);
            RegisterComponents();

            using var _ = no_grad();
            // The reference's step initialisation: Δ = softplus(bias) log-uniform in [0.001, 0.1], weights within ±R^-1/2.
            init.uniform_(step_projection.weight!, -Math.Pow(_rank, -0.5), Math.Pow(_rank, -0.5));
            var step = rand(e).Times(Math.Log(0.1) - Math.Log(0.001)).Plus(Math.Log(0.001)).exp();
            step_projection.bias!.copy_(step.Plus((-(-step).expm1()).log())); // the inverse of softplus
            using var depthScale = HeldScalars.Create(Math.Sqrt(config.Layers));
            out_projection.weight!.div_(depthScale); // the reference's pre-norm residual rescaling
        }

        public override Tensor forward(Tensor x) // (B, T, C)
        {
            var xz = Project(in_projection, norm.forward(x), _compute).to(x.dtype).chunk(2, -1); // (B, T, E) each
            var u = ConvolutionAndSiLU(xz[0]); // (B, T, E)
            var parts = Project(x_projection, u, _compute).to(x.dtype).split([_rank, _state, _state], -1); // (B, T, R), (B, T, N), (B, T, N)
            var delta = Project(step_projection, parts[0], _compute).to(x.dtype).Softplus(); // (B, T, E)
            var y = SelectiveScan(u, delta, -A_log.exp(), parts[1], parts[2], D);
            return x.add(Project(out_projection, y * F.silu(xz[1]), _compute).to(x.dtype), HeldScalars.One);
        }

        /// <summary>
        /// SiLU after the depthwise causal convolution, SiLU(bias + Σ_k w[k] x(t - K + 1 + k)), with the Conv1d's own weights, in
        /// (B, T, E) layout: the fused <see cref="CausalConvolutionKernel"/> on fp32 CPU tensors, else K shifted multiply-adds
        /// (libtorch's depthwise Conv1d on a transposed copy took 17 ms a layer forward and backward at 4 x 128 here).
        /// </summary>
        private Tensor ConvolutionAndSiLU(Tensor x) // (B, T, E) -> (B, T, E)
        {
            Tensor weight = convolution.weight!, bias = convolution.bias!; // (E, 1, K), (E)
            if (CpuVectors.Takes(x, weight, bias)) return CausalConvolutionKernel.Apply(x, weight, bias);
            long length = x.shape[1], taps = weight.shape[2];
            var padded = F.pad(x, [0, 0, taps - 1, 0]); // (B, T + K - 1, E): K - 1 zeros before the first position
            var byTap = weight.squeeze(1).t(); // (K, E)
            var y = padded.narrow(1, 0, length) * byTap[0];
            for (long k = 1; k < taps; k++) y = y.addcmul(padded.narrow(1, k, length), byTap[k], HeldScalars.One);
            return F.silu(y.Plus(bias));
        }
    }
}
