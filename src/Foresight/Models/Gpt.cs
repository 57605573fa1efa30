using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Models;

/// <summary>
/// Size of a GPT. <see cref="Causal"/> = false gives the bidirectional variant (same blocks, no mask).
/// With <see cref="Causal"/>, the last <see cref="BidirectionalTail"/> positions of the block also see one
/// another: a causal prefix under a bidirectional answer.
/// </summary>
public sealed record GptConfig(int VocabularySize, int BlockSize, int Layers, int Width, int Heads, bool Causal = true,
    PositionEncoding Positions = PositionEncoding.Learned, int BidirectionalTail = 0, Precision Precision = Precision.Fp32)
{
    /// <summary>The dtype the linear layers multiply in.</summary>
    public ScalarType ComputeType => Precision.ComputeType();
}

/// <summary>
/// A nanoGPT-style decoder: learned token and position embeddings (or rotary positions), pre-LayerNorm
/// blocks of scaled-dot-product attention and a GELU MLP, a final LayerNorm, and an output layer tied
/// to the token embedding.
/// </summary>
public sealed class Gpt : Backbone
{
    private readonly Embedding token_embedding;
    private readonly Embedding? position_embedding; // null with rotary positions
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm final_norm;

    public Gpt(GptConfig config) : base(nameof(Gpt))
    {
        new ModelSize(config.Layers, config.Width, config.Heads, config.Positions).Validate();
        Config = config;
        token_embedding = Embedding(config.VocabularySize, config.Width);
        if (config.Positions == PositionEncoding.Learned) position_embedding = Embedding(config.BlockSize, config.Width);
        blocks = new ModuleList<Block>(Enumerable.Range(0, config.Layers).Select(_ => new Block(config)).ToArray());
        final_norm = LayerNorm(config.Width);
        RegisterComponents();

        foreach (var (name, parameter) in named_parameters())
        {
            using var _ = no_grad();
            if (name.EndsWith(".bias")) init.zeros_(parameter);
            else if (name.Contains("norm")) init.ones_(parameter);
            // GPT-2: residual projections scaled by 1/sqrt(2 * layers) so the residual stream's variance stays put.
            else if (name.EndsWith("output_projection.weight")) init.normal_(parameter, 0, 0.02 / Math.Sqrt(2 * config.Layers));
            else init.normal_(parameter, 0, 0.02);
        }
    }

    public GptConfig Config { get; }
    public override int VocabularySize => Config.VocabularySize;
    public override int Width => Config.Width;
    public override int BlockSize => Config.BlockSize;

    public override IReadOnlyList<Tensor> LayerStates(Tensor tokens)
    {
        CheckLength(tokens);
        var embedded = token_embedding.forward(tokens);
        if (position_embedding is not null)
        {
            using var positions = arange(tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device);
            embedded = embedded + position_embedding.forward(positions);
        }
        return Stack(embedded, blocks, Config.Layers);
    }

    // In fp32 whatever the precision: a small product, and bf16 logits tie often enough to change argmaxes.
    public override Tensor Logits(Tensor hidden) => F.linear(hidden, token_embedding.weight!); // (B, T, C) -> (B, T, V)


    public override Tensor Normalize(Tensor residual) => final_norm.forward(residual);

    /// <summary>One pre-LayerNorm transformer block (attention then MLP, each residual); also the multi-token heads' building block.</summary>
    internal sealed class Block : Module<Tensor, Tensor>
    {
        private readonly LayerNorm attention_norm;
        private readonly SelfAttention attention;
        private readonly LayerNorm mlp_norm;
        private readonly Mlp mlp;

        public Block(GptConfig config) : base(nameof(Block))
        {
            attention_norm = LayerNorm(config.Width);
            attention = new SelfAttention(config);
            mlp_norm = LayerNorm(config.Width);
            mlp = new Mlp(config.Width, config.ComputeType);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) // the residual stream stays fp32 whatever the compute precision
        {
            x = x + attention.forward(attention_norm.forward(x)).to(x.dtype);
            return x + mlp.forward(mlp_norm.forward(x)).to(x.dtype);
        }
    }

    private sealed class SelfAttention : Module<Tensor, Tensor>
    {
        private readonly Linear qkv;
        private readonly Linear output_projection;
        private readonly int _heads;
        private readonly bool _causal;
        private readonly bool _rotary;
        private readonly int? _bidirectionalFrom; // first position of a bidirectional tail under a causal prefix
        private readonly ScalarType _compute;

        public SelfAttention(GptConfig config) : base(nameof(SelfAttention))
        {
            qkv = Linear(config.Width, 3 * config.Width);
            output_projection = Linear(config.Width, config.Width);
            _heads = config.Heads;
            _causal = config.Causal;
            _rotary = config.Positions == PositionEncoding.Rotary;
            if (config.Causal && config.BidirectionalTail > 0) _bidirectionalFrom = config.BlockSize - config.BidirectionalTail;
            _compute = config.ComputeType;
            RegisterComponents();
        }

        // Attention as two batched products rather than libtorch's fused CPU kernel: at these short lengths the
        // products are faster, in fp32 and even more so in bf16 (where the fused kernel is slower than fp32).
        // Softmax runs in fp32.
        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], t = x.shape[1], c = x.shape[2], d = c / _heads;
            var qkvHeads = Project(qkv, x, _compute).view(b, t, 3, _heads, d).permute(2, 0, 3, 1, 4); // (3, B, H, T, D)
            Tensor q = qkvHeads[0], k = qkvHeads[1]; // (B, H, T, D)
            if (_rotary) (q, k) = (Rotate(q), Rotate(k));
            q = (q * (1.0 / Math.Sqrt(d))).to(_compute).reshape(b * _heads, t, d);
            k = k.to(_compute).reshape(b * _heads, t, d);
            var v = qkvHeads[2].reshape(b * _heads, t, d);
            var scores = q.bmm(k.transpose(1, 2)).to(ScalarType.Float32); // (BH, T, T)
            if (_causal) scores = scores + AttentionMask(t, x.device);
            var y = scores.softmax(-1).to(_compute).bmm(v); // (BH, T, D)
            return Project(output_projection, y.view(b, _heads, t, d).transpose(1, 2).reshape(b, t, c), _compute); // (B, T, C)
        }

        /// <summary>(T, T): 0 where query i may attend to key j, -inf elsewhere.</summary>
        private Tensor AttentionMask(long t, Device device)
        {
            var position = arange(t, dtype: ScalarType.Int64, device: device);
            var allowed = position.unsqueeze(1) >= position.unsqueeze(0);
            if (_bidirectionalFrom is { } from) allowed = allowed | ((position >= from).unsqueeze(1) & (position >= from).unsqueeze(0));
            return zeros(t, t, device: device).masked_fill(allowed.logical_not(), double.NegativeInfinity);
        }
    }

    /// <summary>(T, T), true where query i may attend to key j: causal, except that positions from <paramref name="tailStart"/> on also see one another.</summary>
    private static Tensor CausalPrefixMask(long t, int tailStart, Device device)
    {
        var position = arange(t, dtype: ScalarType.Int64, device: device);
        var tail = position >= tailStart; // (T,)
        return (position.unsqueeze(1) >= position.unsqueeze(0)) | (tail.unsqueeze(1) & tail.unsqueeze(0));
    }

    /// <summary>
    /// Rotary position embedding (Su et al. 2021), half-split form: channel pairs (i, i + D/2) of the
    /// token at position p turn by p * 10000^(-2i/D), so a query-key product depends on their offset only.
    /// </summary>
    internal static Tensor Rotate(Tensor x) // (B, H, T, D) -> (B, H, T, D)
    {
        long t = x.shape[2], half = x.shape[3] / 2;
        var frequencies = exp(arange(half, dtype: ScalarType.Float32, device: x.device) * (-2 * Math.Log(10_000) / x.shape[3])); // (D/2,)
        var angles = arange(t, dtype: ScalarType.Float32, device: x.device).unsqueeze(1) * frequencies.unsqueeze(0); // (T, D/2)
        Tensor cos = angles.cos(), sin = angles.sin();
        Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        return cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1);
    }

    /// <summary>Width -> 4 x width -> width with a GELU between; also the belief-state transformer's text head.</summary>
    internal sealed class Mlp : Module<Tensor, Tensor>
    {
        private readonly Linear expand;
        private readonly Linear output_projection;
        private readonly ScalarType _compute;

        public Mlp(int width, ScalarType compute = ScalarType.Float32) : base(nameof(Mlp))
        {
            expand = Linear(width, 4 * width);
            output_projection = Linear(4 * width, width);
            _compute = compute;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => Project(output_projection, F.gelu(Project(expand, x, _compute)), _compute);
    }
}
