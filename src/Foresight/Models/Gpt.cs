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
    PositionEncoding Positions = PositionEncoding.Learned, int BidirectionalTail = 0, Precision Precision = Precision.Fp32);

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
        InitializeAsGpt2(this, config.Layers);
    }

    /// <summary>
    /// GPT-2's initialisation, for this model and for blocks a method adds to it (mtp's extra heads): weights
    /// N(0, 0.02), residual projections N(0, 0.02 / sqrt(2 x layers)) so the residual stream's variance stays put,
    /// biases 0, norms 1.
    /// </summary>
    internal static void InitializeAsGpt2(nn.Module module, int layers)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (name.EndsWith(".bias")) init.zeros_(parameter);
            else if (name.Contains("norm")) init.ones_(parameter);
            else if (name.EndsWith("output_projection.weight")) init.normal_(parameter, 0, 0.02 / Math.Sqrt(2 * layers));
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
        return Stack(Embed(tokens, start: 0), blocks, Config.Layers);
    }

    /// <summary>(B, n) tokens at positions start.. -> (B, n, C): token plus (learned) position embeddings.</summary>
    private Tensor Embed(Tensor tokens, long start)
    {
        var embedded = token_embedding.forward(tokens);
        if (position_embedding is null) return embedded;
        using var positions = HeldScalars.Arange(start, start + tokens.shape[1], ScalarType.Int64, tokens.device);
        return embedded.Plus(position_embedding.forward(positions));
    }

    /// <summary>A causal GPT decodes with a key-value cache: each new token is one position's work, not the whole sequence's.</summary>
    public override IncrementalDecoder? StartDecoding() =>
        Config.Causal && Config.BidirectionalTail == 0 ? new CachedDecoder(this) : null;

    /// <summary>The keys and values of every position read so far, per block.</summary>
    private sealed class CachedDecoder(Gpt gpt) : IncrementalDecoder
    {
        private readonly KeyValueCache[] _caches = gpt.blocks.Select(_ => new KeyValueCache()).ToArray();
        private long _length;

        public override Tensor NextLogits(Tensor sequence) // (B, L) -> (B, V)
        {
            gpt.CheckLength(sequence);
            var x = gpt.Embed(sequence.narrow(1, _length, sequence.shape[1] - _length), _length); // (B, n, C): the unread tokens
            for (int layer = 0; layer < _caches.Length; layer++) x = gpt.blocks[layer].forward(x, _length, _caches[layer]);
            _length = sequence.shape[1];
            return gpt.Logits(gpt.Normalize(x.select(1, -1)));
        }

        public override void Dispose()
        {
            foreach (var cache in _caches) cache.Dispose();
        }
    }

    /// <summary>One block's keys and values, (B·H, L, D) each; they outlive the dispose scopes of the steps that grow them.</summary>
    internal sealed class KeyValueCache : IDisposable
    {
        private Tensor? _keys, _values;

        public (Tensor Keys, Tensor Values) Append(Tensor keys, Tensor values)
        {
            var (grownKeys, grownValues) = _keys is null ? (keys.alias(), values.alias()) : (cat([_keys, keys], 1), cat([_values!, values], 1));
            Dispose();
            (_keys, _values) = (grownKeys.DetachFromDisposeScope(), grownValues.DetachFromDisposeScope());
            return (_keys, _values);
        }

        public void Dispose()
        {
            _keys?.Dispose();
            _values?.Dispose();
        }
    }

    public override Tensor OutputWeight => token_embedding.weight!;

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
            mlp = new Mlp(config.Width, config.Precision.ComputeType());
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => forward(x, start: 0, cache: null);

        /// <summary>x: (B, n, C) at positions start..start + n - 1; with a cache, attention also sees the positions it holds.</summary>
        public Tensor forward(Tensor x, long start, KeyValueCache? cache) // the residual stream stays fp32 whatever the compute precision
        {
            x = x.add(attention.Attend(attention_norm.forward(x), start, cache).to(x.dtype), HeldScalars.One);
            return x.add(mlp.forward(mlp_norm.forward(x)).to(x.dtype), HeldScalars.One);
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
            _compute = config.Precision.ComputeType();
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => Attend(x, start: 0, cache: null);

        /// <summary>x: (B, n, C) at positions start..start + n - 1. With a cache, their keys and values join it and the queries see all of it.</summary>
        public Tensor Attend(Tensor x, long start, KeyValueCache? cache)
        {
            // Two batched products rather than libtorch's fused CPU kernel: at these short lengths they are
            // faster in fp32, and much faster in bf16 (where the fused kernel is slower than in fp32). Softmax in fp32.
            long b = x.shape[0], n = x.shape[1], c = x.shape[2], d = c / _heads;
            var qkvHeads = Project(qkv, x, _compute).view(b, n, 3, _heads, d).permute(2, 0, 3, 1, 4); // (3, B, H, n, D)
            Tensor q = qkvHeads[0], k = qkvHeads[1]; // (B, H, n, D)
            if (_rotary) (q, k) = (Rotate(q, start), Rotate(k, start));
            q = q.to(_compute).reshape(b * _heads, n, d);
            k = k.to(_compute).reshape(b * _heads, n, d);
            var v = qkvHeads[2].reshape(b * _heads, n, d);
            if (cache is not null) (k, v) = cache.Append(k, v); // (BH, L, D), L = start + n
            var products = q.bmm(k.transpose(1, 2)).to(ScalarType.Float32); // (BH, n, L)
            // The 1/sqrt(D) scale and the mask in one fp32 pass: mask + scale · QKᵀ.
            var scores = _causal ? AttentionMask(start, n, k.shape[1], x.device).add(products, Scale(d)) : products.mul(Scale(d));
            var y = scores.softmax(-1).to(_compute).bmm(v); // (BH, n, D)
            return Project(output_projection, y.view(b, _heads, n, d).transpose(1, 2).reshape(b, n, c), _compute); // (B, n, C)
        }

        /// <summary>The scale 1/sqrt(D) of a head's dot products, held: an implicitly converted Scalar can be finalised while libtorch still reads it.</summary>
        private Scalar Scale(long d) => _scale ??= HeldScalars.Create(1.0 / Math.Sqrt(d));
        private Scalar? _scale;

        /// <summary>
        /// (n, L): 0 where the query at position start + i may attend to key j, -inf elsewhere: causal, except
        /// that the positions of a bidirectional tail also see one another. Training's mask (start 0, one per
        /// length) is made once and kept.
        /// </summary>
        private Tensor AttentionMask(long start, long n, long length, Device device)
        {
            if (start == 0 && n == length && _trainingMask is { } kept && kept.shape[0] == n && kept.device == device) return kept;
            using var scope = NewDisposeScope();
            var query = HeldScalars.Arange(start, start + n, ScalarType.Int64, device).unsqueeze(1); // (n, 1)
            var key = HeldScalars.Arange(length, ScalarType.Int64, device).unsqueeze(0); // (1, L)
            var allowed = query >= key;
            if (_bidirectionalFrom is { } from) allowed = allowed | (query.GreaterOrEqual(from) & key.GreaterOrEqual(from));
            var mask = zeros(n, length, device: device).Fill(allowed.logical_not(), double.NegativeInfinity);
            if (start != 0 || n != length) return mask.MoveToOuterDisposeScope();
            _trainingMask?.Dispose();
            return _trainingMask = mask.DetachFromDisposeScope();
        }
        private Tensor? _trainingMask;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _trainingMask?.Dispose();
                _scale?.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// Rotary position embedding (Su et al. 2021), half-split form: channel pairs (i, i + D/2) of the
    /// token at position p turn by p * 10000^(-2i/D), so a query-key product depends on their offset only.
    /// </summary>
    internal static Tensor Rotate(Tensor x, long start = 0) // (B, H, T, D) at positions start.. -> (B, H, T, D)
    {
        long t = x.shape[2], half = x.shape[3] / 2;
        var frequencies = exp(HeldScalars.Arange(half, ScalarType.Float32, x.device).Times(-2 * Math.Log(10_000) / x.shape[3])); // (D/2,)
        var angles = HeldScalars.Arange(start, start + t, ScalarType.Float32, x.device).unsqueeze(1) * frequencies.unsqueeze(0); // (T, D/2)
        Tensor cos = angles.cos(), sin = angles.sin();
        Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        return cat([(x1 * cos).Minus(x2 * sin), (x2 * cos).Plus(x1 * sin)], -1);
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
