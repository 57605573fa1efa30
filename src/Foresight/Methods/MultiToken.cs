using Foresight.Models;
using Foresight.Tasks;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Methods;

/// <summary>How mtp's extra heads start: libtorch's defaults, or as the GPT's own blocks do.</summary>
public enum MtpHeadInit
{
    /// <summary>libtorch's layer defaults (Kaiming-uniform Linear weights): what every mtp run before 2026-12-03 used.</summary>
    Torch,
    /// <summary>GPT-2's, as the trunk: N(0, 0.02), residual projections scaled by 1/sqrt(2 x layers).</summary>
    Gpt2,
}

/// <summary>Multi-token prediction's options.</summary>
public sealed record MtpOptions : IMethodOptions
{
    [Option("output heads; head k predicts the token k ahead (1: plain next-token prediction)", Label = "{0} heads")]
    public int Heads { get; init; } = 4;

    [Option("how the extra heads start: torch (libtorch's layer defaults) or gpt2 (as the trunk's blocks: N(0, 0.02), residual projections scaled)", Label = "{0} head init")]
    public MtpHeadInit HeadInit { get; init; } = MtpHeadInit.Torch;

    public void Validate()
    {
        if (Heads < 1) throw new ConfigError("heads", $"must be at least 1 (1: plain next-token prediction), got {Heads}");
    }
}

/// <summary>
/// Multi-token prediction (Gloeckle et al. 2024): n heads on a shared trunk, head k predicting the
/// token k steps ahead from the same position; the loss is the sum of the heads' cross-entropies.
/// Head 1 is the GPT's own last block, so the model that decodes (greedily, with head 1) is exactly an
/// ntp GPT of the same size; heads 2..n are extra blocks that branch off the trunk (the state before
/// the last block) and share the final LayerNorm and the unembedding. Only training sees them.
/// </summary>
[Method("mtp", "multi-token prediction: n heads on a shared trunk, head k predicts the token k ahead; decodes with head 1", Options = typeof(MtpOptions))]
public sealed class MultiToken : LeftToRightMethod
{
    private readonly ModuleList<Gpt.Block> _extraHeads; // heads 2..n
    private readonly nn.Module _model;
    private readonly MtpOptions _options;

    public MultiToken(MethodContext context) : base(context)
    {
        context.RequireAllLossPositions("mtp trains every head on every position it can predict");
        _options = context.OptionsOf<MtpOptions>();
        if (_options.Heads > TargetLength)
            throw new ConfigError("heads", $"{_options.Heads} exceeds the answer length {TargetLength}: head k needs a target k tokens after the last prefix token");
        var transformer = Backbone as Gpt
            ?? throw new UserError("mtp's extra heads are transformer blocks: it trains on --backbone gpt only");
        _extraHeads = new ModuleList<Gpt.Block>(Enumerable.Range(0, Heads - 1).Select(_ => new Gpt.Block(transformer.Config)).ToArray());
        if (_options.HeadInit == MtpHeadInit.Gpt2)
            foreach (var head in _extraHeads) Gpt.InitializeAsGpt2(head, transformer.Config.Layers); // a ModuleList lists no parameters before it is registered
        _model = new ModuleGroup(("gpt", Backbone), ("heads", _extraHeads));
    }

    public int Heads => _options.Heads;

    public override nn.Module Model => _model;

    public override MtpOptions ResolvedOptions => _options;

    /// <summary>Sum over heads k = 1..n of the mean cross-entropy of head k's predictions of the tokens k ahead.</summary>
    public override Tensor Loss(Batch batch)
    {
        var states = Backbone.LayerStates(TeacherForcedInput(batch.Prefix, batch.Target)); // each (B, P + T - 1, C)
        var trunk = states[^2]; // before the last block, where the heads branch
        var loss = HeadLoss(Backbone.Normalize(states[^1]), batch.Target, ahead: 1);
        for (int k = 2; k <= Heads; k++)
            loss = loss.Plus(HeadLoss(Backbone.Normalize(_extraHeads[k - 2].forward(trunk)), batch.Target, ahead: k));
        return loss;
    }

    /// <summary>
    /// Head k at input position p predicts token p + k. The answer's tokens start at P, so the positions
    /// P - 1 .. P + T - 1 - k (the '=' and the target inputs) predict target tokens k - 1 .. T - 1.
    /// </summary>
    internal Tensor HeadLoss(Tensor hidden, Tensor target, int ahead)
    {
        int count = TargetLength - ahead + 1;
        var logits = Backbone.Logits(hidden.narrow(1, PrefixLength - 1, count)); // (B, count, V)
        return F.cross_entropy(logits.flatten(0, 1), target.narrow(1, ahead - 1, count).flatten());
    }
}
